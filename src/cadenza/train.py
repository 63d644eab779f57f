"""Training: a plain loop (nanoGPT style) with char-rnn's options, checkpoints that survive a kill.

A run folder holds everything ``generate`` needs, so it can be copied elsewhere::

    config.json                  model + training options, codec, vocab, generation context
    last.safetensors / best.safetensors        weights (never pickle: users load these files)
    last.optim.safetensors + last.state.json   optimizer moments, step, RNG states -> exact resume
    log.jsonl  loss.png          every evaluation, and the loss curve

Running ``train`` again on an existing run resumes from ``last`` at the same step, with the
same batches and dropout masks as if it had never stopped (the RNG states are saved too).
Writes go to a temporary file and are renamed, so ``kill -9`` mid-save leaves the old checkpoint.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch.nn import functional as F

from cadenza import CadenzaError
from cadenza.codecs import split_tokens
from cadenza.corpus import load_manifest, load_split
from cadenza.models import ModelConfig, build_model, count_parameters

LN2 = math.log(2)


@dataclass(frozen=True)
class TrainConfig:
    """char-rnn's options (same names, kebab-case on the command line)."""

    rnn_size: int = 128
    num_layers: int = 3
    dropout: float = 0.0
    seq_length: int = 50
    batch_size: int = 50
    learning_rate: float = 2e-3
    learning_rate_decay: float = 0.97
    learning_rate_decay_after: int = 10  # epochs
    grad_clip: float = 5.0
    max_epochs: float = 50.0
    max_steps: int = 0  # 0: from max_epochs
    eval_every: int = 200
    eval_batches: int = 20
    seed: int = 123
    arch: str = "lstm"
    n_head: int = 4
    block_size: int = 256
    max_minutes: float = 0.0  # 0: no time limit; else stop (with a checkpoint) after this long
    threads: int = 0  # 0: torch's default


@dataclass
class TrainResult:
    run: Path
    step: int
    train_loss: float
    val_loss: float | None
    best_val_loss: float | None
    resumed_from: int
    seconds: float


# --------------------------------------------------------------------------------------------
# Files


def _atomic(path: Path, write: Callable[[Path], None]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    write(tmp)
    os.chmod(tmp, 0o644)  # some writers create 0600 files; checkpoints are meant to be shared
    os.replace(tmp, path)


def _write_json(path: Path, obj: Any) -> None:
    _atomic(path, lambda p: p.write_text(json.dumps(obj, indent=1, ensure_ascii=False), encoding="utf-8"))


def save_weights(model: torch.nn.Module, path: Path) -> None:
    state = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    _atomic(path, lambda p: save_file(state, str(p), metadata={"format": "pt"}))


def _optim_tensors(opt: torch.optim.Optimizer) -> dict[str, torch.Tensor]:
    out = {}
    for i, st in opt.state_dict()["state"].items():
        for k, v in st.items():
            out[f"{i}.{k}"] = v if torch.is_tensor(v) else torch.tensor(v)
    return out


def _load_optim(opt: torch.optim.Optimizer, tensors: dict[str, torch.Tensor], lr: float) -> None:
    sd = opt.state_dict()
    state: dict[int, dict[str, torch.Tensor]] = {}
    for key, v in tensors.items():
        i, k = key.split(".", 1)
        state.setdefault(int(i), {})[k] = v
    sd["state"] = state
    for g in sd["param_groups"]:
        g["lr"] = lr
    opt.load_state_dict(sd)


# --------------------------------------------------------------------------------------------
# Data


class Stream:
    """A split as one long id tensor (char-rnn reads the corpus as one stream) and random windows."""

    def __init__(self, text: str, unit: str, stoi: dict[str, int]):
        toks = split_tokens(text, unit)
        unknown = {t for t in toks if t not in stoi}
        if unknown:
            raise CadenzaError(f"tokens missing from the vocabulary: {sorted(unknown)[:5]}")
        self.ids = torch.tensor([stoi[t] for t in toks], dtype=torch.long)

    def __len__(self) -> int:
        return len(self.ids)

    def batch(self, batch: int, seq: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        starts = torch.randint(0, len(self.ids) - seq - 1, (batch,), generator=gen)
        x = torch.stack([self.ids[s : s + seq] for s in starts.tolist()])
        y = torch.stack([self.ids[s + 1 : s + seq + 1] for s in starts.tolist()])
        return x, y

    def windows(self, seq: int, limit: int):
        """Non-overlapping windows from the start, for a repeatable validation loss."""
        n = min(limit, (len(self.ids) - 1) // seq)
        for i in range(n):
            s = i * seq
            yield self.ids[s : s + seq][None], self.ids[s + 1 : s + seq + 1][None]


@torch.no_grad()
def evaluate_loss(model: torch.nn.Module, stream: Stream, seq: int, batches: int, batch_size: int = 16) -> float:
    """Mean next-token loss in nats over fixed windows of ``stream``."""
    was = model.training
    model.eval()
    xs, ys = [], []
    total, count = 0.0, 0
    for x, y in stream.windows(seq, batches * batch_size):
        xs.append(x)
        ys.append(y)
        if len(xs) == batch_size:
            total, count = _acc(model, xs, ys, total, count)
            xs, ys = [], []
    if xs:
        total, count = _acc(model, xs, ys, total, count)
    model.train(was)
    return total / max(count, 1)


def _acc(model, xs, ys, total, count):
    x, y = torch.cat(xs), torch.cat(ys)
    logits, _ = model(x)
    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), reduction="sum")
    return total + loss.item(), count + y.numel()


# --------------------------------------------------------------------------------------------
# The loop


def _lr_at(cfg: TrainConfig, epoch: float) -> float:
    if epoch < cfg.learning_rate_decay_after:
        return cfg.learning_rate
    return cfg.learning_rate * cfg.learning_rate_decay ** (int(epoch) - cfg.learning_rate_decay_after + 1)


def train(dataset: Path, run: Path, cfg: TrainConfig = TrainConfig(), progress: Callable[[dict[str, Any]], None] | None = None) -> TrainResult:
    """Train (or resume) a model on ``dataset`` into the folder ``run``."""
    dataset, run = Path(dataset), Path(run)
    manifest = load_manifest(dataset)
    vocab: list[str] = json.loads((dataset / "vocab.json").read_text(encoding="utf-8"))
    stoi = {t: i for i, t in enumerate(vocab)}
    from cadenza.codecs import get_codec

    codec = get_codec(manifest["codec"], manifest["options"])
    unit = codec.unit
    train_s = Stream(load_split(dataset, "train"), unit, stoi)
    val_s = Stream(load_split(dataset, "val"), unit, stoi)
    if len(train_s) < cfg.seq_length + 2:
        raise CadenzaError(f"{dataset}: the training split has {len(train_s)} tokens, fewer than --seq-length {cfg.seq_length}")
    if cfg.threads:
        torch.set_num_threads(cfg.threads)

    mcfg = ModelConfig(cfg.arch, len(vocab), cfg.rnn_size, cfg.num_layers, cfg.dropout, cfg.n_head, max(cfg.block_size, cfg.seq_length))
    run.mkdir(parents=True, exist_ok=True)
    config = {
        "format": "cadenza-run/1",
        "model": mcfg.to_dict(),
        "train": dataclasses.asdict(cfg),
        "codec": manifest["codec"],
        "codec_options": manifest["options"],
        "vocab": vocab,
        "context": manifest.get("context", {}),
        "dataset": str(dataset),
        "dataset_tokens": manifest["tokens"],
    }
    resumed_from = 0
    state_path = run / "last.state.json"
    if state_path.exists():
        old = json.loads((run / "config.json").read_text(encoding="utf-8"))
        if old["model"] != config["model"] or old["vocab"] != vocab:
            raise CadenzaError(f"{run}: holds a different model (size, architecture or vocabulary); use a new run folder")
        config["train"]["max_steps"] = cfg.max_steps  # allow extending a finished run
    _write_json(run / "config.json", config)

    torch.manual_seed(cfg.seed)
    model = build_model(mcfg)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.learning_rate, weight_decay=0.0)
    gen = torch.Generator().manual_seed(cfg.seed)
    steps_per_epoch = max(1, len(train_s) // (cfg.batch_size * cfg.seq_length))
    max_steps = cfg.max_steps or int(math.ceil(cfg.max_epochs * steps_per_epoch))
    step = 0
    best = None
    history: list[dict[str, Any]] = []
    if state_path.exists():
        st = json.loads(state_path.read_text(encoding="utf-8"))
        model.load_state_dict(load_file(str(run / "last.safetensors")))
        _load_optim(opt, load_file(str(run / "last.optim.safetensors")), st["lr"])
        rng = load_file(str(run / "last.rng.safetensors"))
        gen.set_state(rng["gen"])
        torch.set_rng_state(rng["torch"])
        step, best = st["step"], st["best_val_loss"]
        resumed_from = step
        history = [json.loads(l) for l in (run / "log.jsonl").read_text().splitlines() if l] if (run / "log.jsonl").exists() else []
        history = [h for h in history if h["step"] <= step]
        _atomic(run / "log.jsonl", lambda p: p.write_text("".join(json.dumps(h) + "\n" for h in history)))

    def checkpoint(val: float | None) -> None:
        nonlocal best
        save_weights(model, run / "last.safetensors")
        _atomic(run / "last.optim.safetensors", lambda p: save_file(_optim_tensors(opt), str(p)))
        _atomic(run / "last.rng.safetensors", lambda p: save_file({"gen": gen.get_state(), "torch": torch.get_rng_state()}, str(p)))
        if val is not None and (best is None or val < best):
            best = val
            save_weights(model, run / "best.safetensors")
        _write_json(state_path, {"step": step, "lr": opt.param_groups[0]["lr"], "best_val_loss": best, "params": count_parameters(model)})

    t0 = time.time()
    model.train()
    train_loss = float("nan")
    running = []
    val = None
    stopped_early = False
    while step < max_steps:
        epoch = step / steps_per_epoch
        lr = _lr_at(cfg, epoch)
        for g in opt.param_groups:
            g["lr"] = lr
        x, y = train_s.batch(cfg.batch_size, cfg.seq_length, gen)
        logits, _ = model(x)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if cfg.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        opt.step()
        step += 1
        train_loss = loss.item()
        running.append(train_loss)
        out_of_time = cfg.max_minutes > 0 and (time.time() - t0) > cfg.max_minutes * 60
        if step % cfg.eval_every == 0 or step == max_steps or out_of_time:
            val = evaluate_loss(model, val_s, cfg.seq_length, cfg.eval_batches) if len(val_s) > cfg.seq_length + 1 else None
            rec = {"step": step, "epoch": round(step / steps_per_epoch, 3), "lr": lr, "train_loss": float(np.mean(running)), "val_loss": val, "seconds": round(time.time() - t0, 1)}
            running = []
            history.append(rec)
            with open(run / "log.jsonl", "a") as fh:
                fh.write(json.dumps(rec) + "\n")
            checkpoint(val)
            plot_losses(history, run / "loss.png")
        if progress:
            progress({"step": step, "max_steps": max_steps, "train_loss": train_loss, "val_loss": val, "epoch": step / steps_per_epoch})
        if out_of_time:
            stopped_early = True
            break
    if not history or history[-1]["step"] != step:
        checkpoint(None)
    del stopped_early
    return TrainResult(run, step, train_loss, val, best, resumed_from, time.time() - t0)


def plot_losses(history: list[dict[str, Any]], path: Path) -> None:
    """Train and validation loss in bits per token against step."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4), dpi=100)
    steps = [h["step"] for h in history]
    ax.plot(steps, [h["train_loss"] / LN2 for h in history], label="train")
    vs = [(h["step"], h["val_loss"] / LN2) for h in history if h["val_loss"] is not None]
    if vs:
        ax.plot(*zip(*vs), label="validation")
    ax.set_xlabel("step")
    ax.set_ylabel("loss (bits per token)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    _atomic(path, lambda p: fig.savefig(p, format="png"))
    plt.close(fig)


def load_run(run: Path, which: str = "best") -> tuple[torch.nn.Module, dict[str, Any]]:
    """The model and config of a run folder (``best`` weights, falling back to ``last``)."""
    run = Path(run)
    cfg_path = run / "config.json"
    if not cfg_path.exists():
        raise CadenzaError(f"{run}: not a Cadenza run (no config.json); train one with `cadenza train`")
    config = json.loads(cfg_path.read_text(encoding="utf-8"))
    weights = run / f"{which}.safetensors"
    if not weights.exists():
        weights = run / "last.safetensors"
    if not weights.exists():
        raise CadenzaError(f"{run}: no weights yet (training has not reached its first checkpoint)")
    model = build_model(ModelConfig.from_dict(config["model"]))
    state = load_file(str(weights))
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        raise CadenzaError(f"{weights}: weights do not match the model in config.json ({str(exc).splitlines()[0]})") from None
    model.eval()
    return model, config
