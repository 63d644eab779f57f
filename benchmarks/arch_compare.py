"""LSTM against transformer at equal CPU time, scored on whole held-out pieces.

Both models train at the same time (one process and one thread each, ``--minutes`` of wall
clock, so they share the machine's conditions), then each one's best checkpoint reads every test
piece of the dataset from its empty state as one stream (``cadenza evaluate``'s likelihood:
:func:`cadenza.evaluation.likelihood.token_nats`); the table gives bits per token over all test
tokens, next to the run's best validation loss (its own training-length windows).

    python benchmarks/arch_compare.py DATASET --minutes 10 --name mozart-kern \\
        --lstm "--rnn-size 128 --num-layers 3 --dropout 0.05" --transformer "--preset tiny"

Writes benchmarks/results/arch_<name>.json.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shlex
import subprocess
import sys
import time
from pathlib import Path

LN2 = math.log(2)


def score(run: Path, dataset: Path, split: str = "test") -> dict:
    from cadenza.evaluation.likelihood import heldout_bits
    from cadenza.models import count_parameters
    from cadenza.training import load_run

    model, config = load_run(run)
    held = heldout_bits(model, config, dataset, split)
    log = [json.loads(l) for l in (run / "log.jsonl").read_text().splitlines() if l.strip()]
    vals = [h["val_loss"] for h in log if h.get("val_loss") is not None]
    state = json.loads((run / "last.state.json").read_text())
    return {"params": count_parameters(model), "steps": state["step"], "test_pieces": held["pieces"], "test_tokens": held["tokens"],
            "test_bits_per_token": round(held["bits_per_token"], 4), "best_val_bits_per_token": round(min(vals) / LN2, 4) if vals else None,
            "train_seconds": log[-1]["seconds"] if log else None, "context": config["model"]["block_size"] if config["model"]["arch"] == "transformer" else None}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dataset", type=Path)
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--name", default="")
    ap.add_argument("--lstm", default="--rnn-size 128 --num-layers 3 --dropout 0.05")
    ap.add_argument("--transformer", default="--preset tiny")
    ap.add_argument("--runs", type=Path, default=Path("runs/arch"))
    ap.add_argument("--score-only", action="store_true", help="Score runs trained before.")
    args = ap.parse_args()
    name = args.name or args.dataset.name
    flags = {"lstm": args.lstm, "transformer": "--arch transformer " + args.transformer}
    runs = {k: args.runs / f"{name}-{k}" for k in flags}
    if not args.score_only:
        env = dict(os.environ, OMP_NUM_THREADS="1")
        procs = {k: subprocess.Popen([sys.executable, "-m", "cadenza", "train", str(args.dataset), "-o", str(runs[k]), "--threads", "1", "--max-minutes", str(args.minutes),
                                      "--max-steps", "10000000", "--eval-every", "250", *shlex.split(v)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                 for k, v in flags.items()}
        for k, p in procs.items():
            _, errtext = p.communicate()
            if p.returncode:
                sys.exit(f"{k} training failed: {errtext[-2000:]}")
    rows = {k: {"flags": flags[k], **score(runs[k], args.dataset)} for k in flags}
    for k in flags:  # the validation pieces read whole, to compare with the run's own validation windows
        rows[k]["val_whole_bits_per_token"] = score(runs[k], args.dataset, "val")["test_bits_per_token"]
    print(f"{name}: {args.minutes:g} minutes of one CPU thread each, trained side by side")
    print(f"{'model':<12} {'params':>9} {'steps':>7} {'test, whole pieces':>19} {'val, whole pieces':>18} {'val, training windows':>22}  (bits/token)")
    for k, r in rows.items():
        print(f"{k:<12} {r['params']:>9,} {r['steps']:>7} {r['test_bits_per_token']:>19.4f} {r['val_whole_bits_per_token']:>18.4f} {r['best_val_bits_per_token'] or float('nan'):>22.4f}")
    out = Path(__file__).parent / "results" / f"arch_{name}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"dataset": str(args.dataset), "minutes": args.minutes, "machine": f"{platform.machine()}, {os.cpu_count()} CPUs", "date": time.strftime("%Y-%m-%d"), "rows": rows}, indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
