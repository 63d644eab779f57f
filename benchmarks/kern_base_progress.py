"""Where the base model of every score stands (issue #20): a kern-base run's best checkpoint read on
the held-out pieces of the bundled kern models' own datasets (the Mozart and Beethoven test pieces,
which the every-score corpus holds out with ``prepare --hold-out``), next to the bundled models'
figures on the same pieces, and whether it reads a held-out middle better with the bars after it
(fill in the middle, as ``cadenza infill`` reads it) than with the bars before alone (issue #20: an
LSTM must at least not hurt; a transformer should gain 5%). Prints a table and writes
``benchmarks/results/kern_base_progress.json``.

    python benchmarks/kern_base_progress.py runs/kern-base --threads 1
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("run", type=Path)
    ap.add_argument("--data", type=Path, default=Path("data"))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results" / "kern_base_progress.json")
    a = ap.parse_args()

    import torch

    from cadenza.evaluation.infill_likelihood import middle_bits
    from cadenza.evaluation.likelihood import heldout_bits
    from cadenza.generation import open_run
    from cadenza.models.pretrained import resolve
    from cadenza.training.checkpoint import read_log, read_state

    torch.set_num_threads(a.threads)
    run = open_run(a.run)
    state = read_state(a.run) or {}
    log = read_log(a.run)
    scored = [h for h in log if h.get("val_loss") is not None]
    best = min(scored, key=lambda h: h["val_loss"]) if scored else {}
    rows = []
    for dataset, bundled in (("mozart-all", "mozart-kern"), ("beethoven-all", "beethoven-kern")):
        held = heldout_bits(run.model, run.config, a.data / dataset)
        info = json.loads((resolve(bundled) / "MODEL.json").read_text())
        mid = middle_bits(run.model, run.config, a.data / dataset) or {}
        rows.append({"dataset": dataset, "test_pieces": held["pieces"], "test_tokens": held["tokens"], "kern_base_bits": round(held["bits_per_token"], 4),
                     "bundled": bundled, "bundled_bits": info["test_bits_per_token"],
                     "infill": {k: round(v, 4) if isinstance(v, float) else v for k, v in mid.items()}})
        print(f"{dataset:14s} {held['pieces']:3d} pieces {held['tokens']:8,d} chars   kern-base {held['bits_per_token']:.4f}   {bundled} {info['test_bits_per_token']:.4f}"
              f"   middles: with the bars after {mid.get('fim_bits_per_token', float('nan')):.4f}, before only {mid.get('left_bits_per_token', float('nan')):.4f}")
    result = {"what": "kern-base's best checkpoint on the bundled kern models' test pieces (held out of its corpus), bits per character, each piece read whole; "
                      "infill: the same pieces' middles (evaluation/infill_likelihood.py spans) read with the bars after them (SPM) and with the bars before only",
              "command": f"python benchmarks/kern_base_progress.py {a.run} --threads {a.threads}", "date": time.strftime("%Y-%m-%d"),
              "steps": state.get("step"), "max_steps": (run.config.get("train") or {}).get("max_steps"), "best_step": best.get("step"),
              "best_val_nats": round(best["val_loss"], 4) if best else None, "params": state.get("params"), "rows": rows}
    a.json.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {a.json}")


if __name__ == "__main__":
    main()
