"""Polyphonic-music benchmark (Boulanger-Lewandowski et al. 2012): our frame LSTM vs published.

    .venv/bin/python benchmarks/poly.py                      # JSB + Nottingham, <= 10 CPU min each
    .venv/bin/python benchmarks/poly.py --datasets jsb --minutes 3

Trains :func:`cadenza.polybench.run.run_benchmark` with the dataset's default settings
(:data:`cadenza.polybench.run.SETTINGS`) on one thread, prints test NLL per frame (nats) next to
the published LSTM / TCN (Bai et al. 2018) and RNN-NADE (Boulanger-Lewandowski et al. 2012)
numbers, and writes the table to ``benchmarks/results/poly.json``. Runs (result.json +
model.safetensors) go to ``runs/poly/<dataset>/`` (not committed).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from cadenza.polybench.frames import DATASETS  # noqa: E402
from cadenza.polybench.run import run_benchmark  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "midi" / "benchmarks", help="folder with JSB_Chorales.mat etc.")
    ap.add_argument("--datasets", nargs="+", default=["jsb", "nottingham"], choices=list(DATASETS))
    ap.add_argument("--arch", default="lstm", choices=["lstm", "tcn"])
    ap.add_argument("--minutes", type=float, default=10.0, help="time limit per dataset (CPU wall clock)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--runs", type=Path, default=REPO / "runs" / "poly")
    ap.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "poly.json")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    rows = []
    for name in args.datasets:
        def progress(d, name=name):
            print(f"  {name} epoch {d['epoch']:3d}  train {d['train_nll']:.3f}  valid {d['valid_nll']:.3f}  lr {d['lr']:.2g}  {d['seconds']:.0f}s", flush=True)

        print(f"== {name} ({args.arch}, <= {args.minutes:g} min, {args.threads} thread(s))", flush=True)
        r = run_benchmark(name, args.data, args.runs / f"{name}-{args.arch}", arch=args.arch, seed=args.seed, max_minutes=args.minutes, progress=progress)
        rows.append({k: v for k, v in r.items() if k != "history"})

    print()
    print(f"{'dataset':<12}{'ours':>8}{'(from 2)':>10}{'valid':>8}{'LSTM':>8}{'TCN':>8}{'RNN-NADE':>10}  params   epochs  minutes")
    for r in rows:
        p = r["published"]
        f = lambda k: f"{p[k]:.2f}" if k in p else "-"  # noqa: E731
        print(f"{r['dataset']:<12}{r['test_nll']:>8.3f}{r['test_nll_from2']:>10.3f}{r['valid_nll']:>8.3f}{f('lstm_bai2018'):>8}{f('tcn_bai2018'):>8}"
              f"{f('rnn_nade_boulanger2012'):>10}  {r['params']:<8d} {r['epochs']:<7d} {r['seconds'] / 60:.1f}")
    print("test NLL per frame, nats (lower is better); 'from 2' skips each sequence's first frame, as Bai et al.'s code does")

    args.out.parent.mkdir(parents=True, exist_ok=True)
    done = {(r["dataset"], r["arch"]) for r in rows}
    try:  # keep the other datasets' / archs' rows of an earlier run
        rows = [r for r in json.loads(args.out.read_text())["results"] if (r["dataset"], r["arch"]) not in done] + rows
    except (OSError, ValueError, KeyError):
        pass
    out = {"benchmark": "Boulanger-Lewandowski et al. 2012 polyphonic music, test NLL per frame (nats)",
           "date": time.strftime("%Y-%m-%d"), "machine": f"{platform.machine()} CPU, torch {torch.__version__}, {args.threads} thread(s)",
           "minutes_limit": args.minutes, "results": rows}
    args.out.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
