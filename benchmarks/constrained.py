"""Validity and cost of constrained kern sampling, measured on a real model.

For a kern model (default: the bundled ``mozart-kern``), draws N samples of B bars at several
temperatures with and without the checker, and reports the share that music21 parses, the share
of complete bars whose duration equals the metre, forced steps, and seconds per sample. Prints a
table and writes ``benchmarks/results/constrained.json``.

    python benchmarks/constrained.py [--model mozart-kern] [-n 20] [--bars 16]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from cadenza.evaluation.validity import kern_validity
from cadenza.generation import generate, SamplingOptions


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="mozart-kern")
    ap.add_argument("-n", type=int, default=20)
    ap.add_argument("--bars", type=int, default=16)
    ap.add_argument("--temperatures", default="0.8,1.0,1.2,1.5")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for temp in (float(t) for t in args.temperatures.split(",")):
            for constrained in (True, False):
                t0 = time.perf_counter()
                # same number of characters either way: the unconstrained run gets the length
                # the constrained one needed, so the time ratio is per character
                samples = generate(args.model, Path(tmp) / f"{temp}-{constrained}", n=args.n, bars=args.bars, seed=1, formats=("krn",),
                                   options=SamplingOptions(temperature=temp), constrained=constrained)
                secs = time.perf_counter() - t0
                chars = sum(len(s.text) for s in samples)
                parsed = bars = bars_ok = forced = 0
                for s in samples:
                    v = kern_validity(s.files["krn"].read_text())
                    parsed += v["parsed"]
                    bars += v["bars"]
                    bars_ok += v["bars_ok"]
                    forced += s.stats.get("forced_steps", 0)
                rows.append({"temperature": temp, "constrained": constrained, "samples": len(samples), "parsed": parsed / len(samples),
                             "bars_ok": bars_ok / max(bars, 1), "files_all_bars_ok": None, "forced_steps": forced, "ms_per_char": 1000 * secs / max(chars, 1)})
    print(f"{'temperature':>11} {'checker':>8} {'parse':>7} {'bars fill metre':>16} {'forced':>7} {'ms/char':>8}")
    for r in rows:
        print(f"{r['temperature']:>11.1f} {'on' if r['constrained'] else 'off':>8} {r['parsed']:>7.0%} {r['bars_ok']:>16.1%} {r['forced_steps']:>7d} {r['ms_per_char']:>8.2f}")
    on = [r["ms_per_char"] for r in rows if r["constrained"]]
    off = [r["ms_per_char"] for r in rows if not r["constrained"]]
    ratio = sum(on) / sum(off)
    print(f"cost of the checker: {ratio:.2f}x per character")
    out = Path(__file__).parent / "results" / "constrained.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"model": args.model, "n": args.n, "bars": args.bars, "rows": rows, "time_ratio": ratio}, indent=1))


if __name__ == "__main__":
    main()
