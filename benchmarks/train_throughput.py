"""Training throughput: ``cadenza train``'s loop against a minimal hand-written loop of the same
model, batch, sequence and evaluation cadence (issue #15: at least 0.95x).

Both run in this process on one thread, interleaved (A B, B A, ...), each round from a fresh
start, timed from the call to the return, so setup, evaluation and (for Cadenza) checkpoints
and the loss plot are all counted. The minimal loop is what a user would write: the ids as one
tensor, random windows gathered in one indexing call, AdamW, cross-entropy, norm clipping, and
the same validation windows every ``eval_every`` steps.

    python benchmarks/train_throughput.py data/mozart --steps 400 --rounds 3 [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from cadenza.training import TrainConfig


def minimal_loop(dataset: Path, cfg: TrainConfig) -> float:
    """The hand-written baseline; returns its seconds for ``cfg.max_steps`` steps."""
    from cadenza.models import ModelConfig, build_model
    from cadenza.training.data import load_vocab

    t0 = time.time()
    vocab = load_vocab(dataset)
    ids = torch.from_numpy(np.load(dataset / "train.ids.npy").astype(np.int64))
    val = torch.from_numpy(np.load(dataset / "val.ids.npy").astype(np.int64))
    torch.manual_seed(cfg.seed)
    model = build_model(ModelConfig(cfg.arch, len(vocab), cfg.rnn_size, cfg.num_layers, cfg.dropout, cfg.n_head, max(256, cfg.seq_length)))
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.learning_rate, weight_decay=0.0)
    offs = torch.arange(cfg.seq_length + 1)
    g = torch.Generator().manual_seed(cfg.seed)
    nval = min(cfg.eval_batches * 16, (len(val) - 1) // cfg.seq_length)
    vw = val[: nval * cfg.seq_length + 1]
    vx, vy = vw[:-1].view(nval, cfg.seq_length), vw[1:].view(nval, cfg.seq_length)
    model.train()
    for step in range(1, cfg.max_steps + 1):
        w = ids[torch.randint(0, len(ids) - cfg.seq_length - 1, (cfg.batch_size, 1), generator=g) + offs]
        logits, _ = model(w[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), w[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        opt.step()
        if step % cfg.eval_every == 0 or step == cfg.max_steps:
            model.eval()
            with torch.no_grad():
                total = sum(F.cross_entropy(model(vx[i : i + 16])[0].reshape(-1, len(vocab)), vy[i : i + 16].reshape(-1), reduction="sum").item() for i in range(0, nval, 16))
            model.train()
            _ = total / vy.numel()
    return time.time() - t0


def cadenza_loop(dataset: Path, cfg: TrainConfig) -> float:
    from cadenza.training import train

    with tempfile.TemporaryDirectory(prefix="cadenza-throughput-") as tmp:
        t0 = time.time()
        train(dataset, Path(tmp) / "run", cfg)
        return time.time() - t0


def measure(dataset: Path, cfg: TrainConfig, rounds: int, log=print) -> dict:
    """Tokens per second of both loops over ``rounds`` interleaved rounds (sums of steps over
    sums of seconds), and their ratio cadenza / minimal."""
    torch.set_num_threads(cfg.threads or 1)
    loops = {"cadenza": cadenza_loop, "minimal": minimal_loop}
    for fn in loops.values():  # imports paid once per process (torch's optimiser, matplotlib) stay out of the timing
        fn(dataset, replace(cfg, max_steps=2, eval_every=1))
    secs: dict[str, list[float]] = {k: [] for k in loops}
    for r in range(rounds):
        for name in (list(loops) if r % 2 == 0 else list(loops)[::-1]):
            secs[name].append(loops[name](dataset, cfg))
            log(f"round {r + 1}: {name} {secs[name][-1]:.1f} s")
    tokens = cfg.max_steps * cfg.batch_size * cfg.seq_length
    rate = {k: tokens * rounds / sum(v) for k, v in secs.items()}
    return {"steps": cfg.max_steps, "rounds": rounds, "batch_size": cfg.batch_size, "seq_length": cfg.seq_length, "eval_every": cfg.eval_every,
            "seconds": secs, "tokens_per_second": {k: round(v) for k, v in rate.items()}, "ratio": round(rate["cadenza"] / rate["minimal"], 3)}


def config(steps: int, eval_every: int = 200) -> TrainConfig:
    """The 2015 recipe's model and batches (LSTM 3x128, dropout 0.05, batch 50, seq 50), read as
    random windows like the minimal loop (the LSTM's default reads carried-state streams)."""
    return TrainConfig(dropout=0.05, learning_rate=2e-3, stateful=False, max_steps=steps, eval_every=eval_every, threads=1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dataset", type=Path)
    ap.add_argument("--steps", type=int, default=400)
    ap.add_argument("--eval-every", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    res = measure(args.dataset, config(args.steps, args.eval_every), args.rounds)
    t = res["tokens_per_second"]
    print(f"cadenza train {t['cadenza']:,} tokens/s, minimal loop {t['minimal']:,} tokens/s: {res['ratio']:.3f}x")
    if args.json:
        args.json.write_text(json.dumps(res, indent=1) + "\n")


if __name__ == "__main__":
    main()
