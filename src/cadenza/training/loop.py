"""The training loop: one plain loop for both architectures (nanoGPT's shape), any device, one
process or many.

Every step draws its batches from generators seeded by (seed, step, stream), and reseeds dropout
the same way, so a resumed run repeats an uninterrupted one exactly and each process of a
distributed run reads its own batches: stream ``rank × grad_accum + micro-step``. One process
with ``--grad-accum 2`` therefore sees the same data as two processes with 1. An LSTM reads
char-rnn's streams by default (``stateful``, see config.py); the state it carries starts afresh at
each evaluation's checkpoint, so a run resumed from one repeats the uninterrupted run exactly too.

Time is counted across sessions: each checkpoint saves the training seconds so far (``elapsed``),
so a resumed ``--max-minutes`` run goes on with the cosine where it was and stops when the total
reaches the limit.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
from torch.nn import functional as F

from cadenza import CadenzaError
from cadenza.codecs.fim import sentinels, with_sentinels
from cadenza.files import atomic_write, write_json
from cadenza.models import ModelConfig, build_model, count_parameters
from cadenza.training import checkpoint
from cadenza.training.config import TrainConfig, trajectory_changes
from cadenza.training.data import Fim, Stream, load_vocab
from cadenza.training.warm_start import warm_start
from cadenza.training.distributed import Dist, all_sum, barrier, broadcast_value, check_in_sync, setup, teardown
from cadenza.training.threads import training_threads

LN2 = math.log(2)
clock = time.monotonic  # the training clock: read after each step and each evaluation (tests replace it)


@dataclass
class TrainResult:
    run: Path
    step: int
    train_loss: float
    val_loss: float | None
    best_val_loss: float | None
    resumed_from: int
    seconds: float  # this session's
    interrupted: bool = False
    elapsed: float = 0.0  # training seconds over every session (what --max-minutes counts)


ANNEAL = 0.25  # char-rnn under --max-minutes: the last quarter of the time brings the rate down to a tenth
# cosine under --max-minutes: the warm-up ends after this share of the time if its steps have not
# run by then (a 10-minute `adapt` of a 3x256 LSTM takes ~460 steps: with 500 warm-up steps, all of
# them were warm-up, never at the peak rate nor annealed; issue #20)
WARM_TIME = 0.05


def lr_at(cfg: TrainConfig, step: int, steps_per_epoch: int, max_steps: int, time_frac: float = 0.0) -> float:
    """char-rnn: constant, then decayed per epoch, and under ``--max-minutes`` (``time_frac``: the
    share of the time budget used) down linearly to a tenth over the last quarter of the time
    (a run stopped by the clock ends annealed rather than at full rate: issue #20); cosine: linear
    warm-up (over the warm-up steps, or :data:`WARM_TIME` of the time budget if that is sooner), then
    down to a tenth over the steps, or over the time when it runs out first."""
    if cfg.schedule == "char-rnn":
        epoch = step / steps_per_epoch
        lr = cfg.learning_rate
        if epoch >= cfg.learning_rate_decay_after:
            lr *= cfg.learning_rate_decay ** (int(epoch) - cfg.learning_rate_decay_after + 1)
        return lr * (1 - 0.9 * min(1.0, max(0.0, time_frac - (1 - ANNEAL)) / ANNEAL))
    warm = cfg.warmup_steps if cfg.warmup_steps >= 0 else min(500, max_steps // 20)
    if step < warm:
        ramp = (step + 1) / warm
        if cfg.max_minutes > 0:
            ramp = max(ramp, time_frac / WARM_TIME)
        if ramp < 1:
            return cfg.learning_rate * ramp
    frac = min(1.0, max((step - warm) / max(1, max_steps - warm), time_frac))
    return cfg.learning_rate * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))


def _seed(seed: int, step: int, stream: int) -> int:
    return (seed * 1_000_003 + step * 7_919 + stream * 104_729) % (2**63 - 1)


def fim_micro_step(cfg: TrainConfig, step: int, j: int) -> bool:
    """``--stateful --fim-rate R``: whether micro-step ``j`` of ``step`` is a batch of
    fill-in-the-middle windows (fresh state) rather than the streams' next windows. Seeded by
    the step alone, so every process and a resumed run agree; a share R of the micro-steps."""
    if not (cfg.stateful and cfg.fim_rate > 0):
        return False
    return np.random.default_rng(_seed(cfg.seed, step, 1_000 + j)).random() < cfg.fim_rate


@torch.no_grad()
def evaluate_loss(model: torch.nn.Module, stream: Stream, seq: int, batches: int, batch_size: int = 16, d: Dist = Dist(), autocast: Any = None) -> float:
    """Mean next-token loss in nats over fixed windows of ``stream`` (shared among processes)."""
    was = model.training
    model.eval()
    total, count = 0.0, 0
    xs, ys = [], []

    def flush() -> None:
        nonlocal total, count, xs, ys
        x, y = torch.cat(xs).to(d.device), torch.cat(ys).to(d.device)
        with autocast or contextlib.nullcontext():
            logits, _ = model(x)
        total += F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), y.reshape(-1), reduction="sum").item()
        count += y.numel()
        xs, ys = [], []

    for x, y in stream.windows(seq, batches * batch_size, d.rank, d.world):
        xs.append(x)
        ys.append(y)
        if len(xs) == batch_size:
            flush()
    if xs:
        flush()
    model.train(was)
    total, count = all_sum([total, float(count)], d)
    return total / max(count, 1)


@torch.no_grad()
def stream_loss(model: torch.nn.Module, stream: Stream, seq: int, batch_size: int = 16, d: Dist = Dist(), autocast: Any = None) -> float:
    """Mean next-token loss in nats over the whole of ``stream`` read as ``batch_size`` parallel
    streams with the state carried (how a ``--stateful`` model is trained, and close to how it
    reads a whole piece; fixed windows from an empty state would misjudge it)."""
    was = model.training
    model.eval()
    total, count, state = 0.0, 0, None
    batch_size = max(1, min(batch_size, (len(stream) - 1) // (seq * d.world)))  # a short split: fewer streams, each a window at least
    n = max(1, (len(stream) - 1) // (batch_size * d.world) // seq)
    for k in range(n):
        x, y, _ = stream.streams(batch_size, seq, k, d.rank, d.world)
        with autocast or contextlib.nullcontext():
            logits, state = model(x.to(d.device), state)
        total += F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), y.to(d.device).reshape(-1), reduction="sum").item()
        count += y.numel()
    model.train(was)
    total, count = all_sum([total, float(count)], d)
    return total / max(count, 1)


def train(dataset: Path, run: Path, cfg: TrainConfig = TrainConfig(), progress: Callable[[dict[str, Any]], None] | None = None, force_resume: bool = False) -> TrainResult:
    """Train (or resume) a model on ``dataset`` into the folder ``run``. Ctrl-C saves a checkpoint."""
    from cadenza.codecs import get_codec
    from cadenza.data.dataset import load_manifest

    dataset, run = Path(dataset), Path(run)
    streams_asked = cfg.stateful is not None
    cfg = cfg.resolved()
    manifest = load_manifest(dataset)
    vocab = load_vocab(dataset)
    codec = get_codec(manifest["codec"], manifest["options"])
    d = setup(cfg.device)
    threads = torch.get_num_threads()
    try:
        return _train(dataset, run, cfg, manifest, vocab, codec.unit, d, progress, force_resume, streams_asked)
    finally:
        torch.set_num_threads(threads)
        teardown(d)


def _train(dataset, run, cfg, manifest, vocab, unit, d: Dist, progress, force_resume, streams_asked: bool = True) -> TrainResult:
    if d.main:
        train_s = Stream.load(dataset, "train", unit, vocab)  # builds the id files once for older datasets
        val_s = Stream.load(dataset, "val", unit, vocab)
    barrier(d)
    train_s, val_s = Stream.load(dataset, "train", unit, vocab), Stream.load(dataset, "val", unit, vocab)
    if cfg.fim_rate > 0:  # the model learns four more tokens: the fill-in-the-middle sentinels
        vocab = with_sentinels(vocab, unit)
        ids = [vocab.index(t) for t in sentinels(unit)]
        train_s.fim = Fim(cfg.fim_rate, *ids, line=vocab.index("\n") if unit == "char" and "\n" in vocab else -1, spm=cfg.fim_format == "spm")
    if len(train_s) < cfg.seq_length + 2:
        raise CadenzaError(f"{dataset}: the training split has {len(train_s)} tokens, fewer than --seq-length {cfg.seq_length}")
    if cfg.stateful and (len(train_s) - 1) // (cfg.batch_size * d.world) < cfg.seq_length:  # each stream needs a window at least
        if streams_asked:
            raise CadenzaError(f"{dataset}: the training split has {len(train_s)} tokens, too few for {cfg.batch_size * d.world} streams of --seq-length {cfg.seq_length}; "
                               "use a smaller --batch-size or --random-windows")
        cfg = dataclasses.replace(cfg, stateful=False)  # the default on a text this short: random windows

    # a transformer's context is its training window; an LSTM has none (256 kept, as runs made before recorded)
    context = cfg.seq_length if cfg.arch == "transformer" else max(256, cfg.seq_length)
    mcfg = ModelConfig(cfg.arch, len(vocab), cfg.rnn_size, cfg.num_layers, cfg.dropout, cfg.n_head, context)
    config = {"format": "cadenza-run/2", "model": mcfg.to_dict(), "train": asdict(cfg), "codec": manifest["codec"], "codec_options": manifest["options"],
              "vocab": vocab, "context": manifest.get("context", {}), "dataset": str(dataset), "dataset_tokens": manifest["tokens"], "processes": d.world}
    state = checkpoint.read_state(run)
    if state is not None:
        old = checkpoint.read_config(run)
        if old["model"] != config["model"] or old["vocab"] != vocab:
            raise CadenzaError(f"{run}: holds a different model (size, architecture or vocabulary); use a new run folder")
        changed = trajectory_changes(old["train"], config["train"]) + ([f"processes {old.get('processes', 1)} -> {d.world}"] if old.get("processes", 1) != d.world else [])
        if changed and not force_resume:
            raise CadenzaError(f"{run}: resuming with other training options would mix two runs ({'; '.join(changed)}); use the same options, a new run folder, or --force-resume if it is deliberate")
        if "warm_start" in old:
            config["warm_start"] = old["warm_start"]
    if d.main:
        run.mkdir(parents=True, exist_ok=True)
        write_json(run / "config.json", config)

    torch.manual_seed(cfg.seed)
    model = build_model(mcfg).to(d.device)
    torch.set_num_threads(training_threads(cfg.threads, count_parameters(model), d.device))
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}], lr=cfg.learning_rate)
    step, best, history, elapsed = 0, None, [], 0.0
    if state is None and cfg.init_from:
        started = warm_start(model, config["model"], vocab, manifest["codec"], cfg.init_from)
        config["warm_start"] = asdict(started)
        if d.main:
            write_json(run / "config.json", config)
    if state is not None:
        checkpoint.restore(run, state, model, opt, d.device)
        step, best = state["step"], state["best_val_loss"]
        history = _read_log(run, step)
        elapsed = checkpoint.elapsed(state, history)
    resumed_from = step
    net: torch.nn.Module = model
    if d.active:
        net = torch.nn.parallel.DistributedDataParallel(model, device_ids=[d.device.index] if d.device.type == "cuda" else None)
    if cfg.compile:
        net = torch.compile(net)
    autocast = torch.autocast("cuda", dtype=torch.bfloat16) if d.device.type == "cuda" else contextlib.nullcontext()

    steps_per_epoch = max(1, len(train_s) // (cfg.batch_size * cfg.seq_length * cfg.grad_accum * d.world))
    max_steps = cfg.max_steps or int(math.ceil(cfg.max_epochs * steps_per_epoch))

    saved = step  # the step of the newest complete checkpoint
    budget = cfg.max_minutes * 60  # seconds of training in all (0: no limit)
    t0, start, wall = clock(), elapsed, time.time()

    def save(val: float | None) -> None:
        nonlocal best, saved
        improved = val is not None and (best is None or val < best)
        if d.main:  # with the training seconds so far: a resume goes on from there
            checkpoint.save(run, model, opt, {"step": step, "lr": opt.param_groups[0]["lr"], "best_val_loss": val if improved else best, "params": count_parameters(model),
                                              "elapsed": round(elapsed, 3)}, improved)
        best = val if improved else best
        saved = step

    def validation() -> float | None:
        if len(val_s) <= cfg.seq_length + 1:
            return None
        if cfg.stateful:
            return stream_loss(model, val_s, cfg.seq_length, cfg.batch_size, d=d, autocast=autocast)  # as many streams as training reads: fewer, fuller steps
        return evaluate_loss(model, val_s, cfg.seq_length, cfg.eval_batches, d=d, autocast=autocast)

    if state is None and cfg.init_from:
        # A fine-tune starts as good as its source: the source read on this validation text is the
        # checkpoint to beat, so a fine-tune that only gets worse keeps the source's weights.
        start_val = validation()
        if start_val is not None:
            save(start_val)
    model.train()
    train_loss, val, running, interrupted = float("nan"), None, [], False
    carried = None  # --stateful: the LSTM state carried from batch to batch (reset at each checkpoint)
    # --stateful: stream windows read so far (FIM micro-steps do not advance the streams)
    read = sum(1 for s in range(step) for j in range(cfg.grad_accum) if not fim_micro_step(cfg, s, j)) if cfg.stateful else 0
    plotted = 0.0
    out_of_time = budget > 0 and elapsed >= budget  # a resumed run whose time is spent adds nothing
    try:
        while step < max_steps and not out_of_time:
            lr = lr_at(cfg, step, steps_per_epoch, max_steps, elapsed / budget if budget > 0 else 0.0)
            for g in opt.param_groups:
                g["lr"] = lr
            torch.manual_seed(_seed(cfg.seed, step, d.rank) + 1)  # dropout masks, repeatable on resume
            loss_sum = 0.0
            for j in range(cfg.grad_accum):
                streaming = cfg.stateful and not fim_micro_step(cfg, step, j)
                if streaming:  # the state read so far goes on into this window (detached)
                    x, y, fresh = train_s.streams(cfg.batch_size, cfg.seq_length, read, d.rank, d.world)
                    read += 1
                    carried = None if fresh else carried
                else:  # random windows from a fresh state (a --stateful run's FIM steps keep the streams' state aside)
                    gen = torch.Generator().manual_seed(_seed(cfg.seed, step, d.rank * cfg.grad_accum + j))
                    x, y = train_s.batch(cfg.batch_size, cfg.seq_length, gen, all_fim=cfg.stateful)
                x, y = x.to(d.device, non_blocking=True), y.to(d.device, non_blocking=True)
                sync = contextlib.nullcontext() if (not d.active or j == cfg.grad_accum - 1) else net.no_sync()
                with sync, autocast:
                    if streaming:
                        logits, carried = net(x, carried)
                        carried = tuple(t.detach() for t in carried)
                    else:
                        logits = net(x)[0]
                    loss = F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), y.reshape(-1)) / cfg.grad_accum
                with sync:
                    loss.backward()
                loss_sum += loss.item()
            if cfg.grad_clip > 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
            opt.step()
            opt.zero_grad(set_to_none=True)
            step += 1
            train_loss = loss_sum
            running.append(train_loss)
            elapsed = broadcast_value(start + clock() - t0, d)  # rank 0's clock, so every process takes the same learning rate
            out_of_time = budget > 0 and elapsed >= budget
            if step % cfg.eval_every == 0 or step == max_steps or out_of_time:
                check_in_sync(model, d)
                val = validation()
                mean_train = all_sum([float(np.mean(running))], d)[0] / d.world
                elapsed = broadcast_value(start + clock() - t0, d)  # the evaluation's time counts too
                out_of_time = budget > 0 and elapsed >= budget
                rec = {"step": step, "epoch": round(step / steps_per_epoch, 3), "lr": lr, "train_loss": mean_train, "val_loss": val, "seconds": round(time.time() - wall, 1),
                       "elapsed": round(elapsed, 1), "threads": torch.get_num_threads()}
                running = []
                history.append(rec)
                if d.main:  # the log line first: a kill before the checkpoint is trimmed on resume
                    with open(run / "log.jsonl", "a") as fh:
                        fh.write(json.dumps(rec) + "\n")
                save(val)
                carried = None  # a resume from this checkpoint starts the streams' state afresh: so does the uninterrupted run
                if d.main and (out_of_time or step == max_steps or time.time() - plotted > 30):  # a plot costs ~0.1 s: at most one per 30 s
                    plot_losses(history, run / "loss.png")
                    plotted = time.time()
            if progress and d.main:
                progress({"step": step, "max_steps": max_steps, "train_loss": train_loss, "val_loss": val, "epoch": step / steps_per_epoch})
            if out_of_time:
                break
    except KeyboardInterrupt:
        interrupted = True
    if saved != step or not history:  # Ctrl-C may land between an evaluation's log line and its checkpoint
        save(None)
    return TrainResult(run, step, train_loss, val, best, resumed_from, time.time() - wall, interrupted, elapsed)


def _read_log(run: Path, step: int) -> list[dict[str, Any]]:
    """The log up to the checkpoint's step (later lines belong to work a kill threw away)."""
    history = [h for h in checkpoint.read_log(run) if h["step"] <= step]
    atomic_write(run / "log.jsonl", lambda p: p.write_text("".join(json.dumps(h) + "\n" for h in history)))
    return history


def plot_losses(history: list[dict[str, Any]], path: Path) -> None:
    """Train and validation loss in bits per token against step."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4), dpi=100)
    steps = [h["step"] for h in history]
    ax.plot(steps, [h["train_loss"] / LN2 for h in history], label="train")
    vs = [(h["step"], h["val_loss"] / LN2) for h in history if h.get("val_loss") is not None]
    if vs:
        ax.plot(*zip(*vs), label="validation")
    ax.set_xlabel("step")
    ax.set_ylabel("loss (bits per token)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    atomic_write(path, lambda p: fig.savefig(p, format="png"))
    plt.close(fig)
