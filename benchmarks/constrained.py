"""Validity and cost of constrained kern sampling, measured on a real model.

For a kern model (default: the bundled ``mozart-kern``), draws N samples of B bars at several
temperatures with and without the checker, both in the same declared metre and key (``--metre``,
``--key``: the unconstrained text is restored with that header and judged against it), and
reports the share that music21 parses, the share of complete bars whose duration equals the
metre, the share of files kernpy (a strict kern parser, if installed) loads without errors, the
share of notes more than 4 ledger lines off their staff, forced steps (every step where the
checker changed what the sampler would have drawn), and milliseconds per character; and, for
reference, the share of notes far off their staff in the real corpus (``--corpus``). Prints a
table and writes ``benchmarks/results/constrained.json``.

    python benchmarks/constrained.py [--model mozart-kern] [-n 20] [--bars 16] [--metre 3/4 --key F] [--corpus DIR]
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import tempfile
import time
from pathlib import Path

from cadenza.music.humdrum.clefs import far_share
from cadenza.evaluation.validity import kern_validity
from cadenza.files import read_text
from cadenza.generation import generate, SamplingOptions


def kernpy_ok(text: str) -> bool | None:
    """Whether kernpy (AGPL; a check here, never a dependency) loads the file without errors."""
    try:
        import kernpy
    except ImportError:
        return None
    try:
        return not kernpy.loads(text)[1]
    except Exception:  # kernpy raises on the first token it cannot read
        return False


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="mozart-kern")
    ap.add_argument("-n", type=int, default=20)
    ap.add_argument("--bars", type=int, default=16)
    ap.add_argument("--temperatures", default="0.8,1.0,1.2,1.5")
    ap.add_argument("--metre", default="3/4")
    ap.add_argument("--key", default="F")
    ap.add_argument("--corpus", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "corpora" / "mozart-piano-sonatas",
                    help="real kern files whose notes far off the staff are counted for reference")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for temp in (float(t) for t in args.temperatures.split(",")):
            for constrained in (True, False):
                t0 = time.perf_counter()
                # same number of characters either way: the unconstrained run gets the length
                # the constrained one needed, so the time ratio is per character
                samples = generate(args.model, Path(tmp) / f"{temp}-{constrained}", n=args.n, bars=args.bars, seed=1, formats=("krn",),
                                   options=SamplingOptions(temperature=temp), constrained=constrained, metre=args.metre, key=args.key)
                secs = time.perf_counter() - t0
                chars = sum(len(s.text) for s in samples)
                parsed = bars = bars_ok = forced = far = notes = 0
                strict = []
                for s in samples:
                    text = s.files["krn"].read_text()
                    v = kern_validity(text)
                    parsed += v["parsed"]
                    bars += v["bars"]
                    bars_ok += v["bars_ok"]
                    forced += s.stats.get("forced_steps", 0)
                    a, b = far_share(text)
                    far, notes = far + a, notes + b
                    strict.append(kernpy_ok(text))
                loads = None if None in strict else sum(strict) / len(strict)
                rows.append({"temperature": temp, "constrained": constrained, "samples": len(samples), "parsed": parsed / len(samples),
                             "bars_ok": bars_ok / max(bars, 1), "kernpy_loads": loads, "far_off_staff": far / max(notes, 1),
                             "forced_steps": forced, "chars": chars, "ms_per_char": 1000 * secs / max(chars, 1)})
    print(f"metre {args.metre}, key {args.key}, {args.n} samples x {args.bars} bars per row")
    print(f"{'temperature':>11} {'checker':>8} {'parse':>7} {'bars fill metre':>16} {'kernpy':>7} {'far off staff':>14} {'forced':>7} {'ms/char':>8}")
    for r in rows:
        kp = "-" if r["kernpy_loads"] is None else f"{r['kernpy_loads']:.0%}"
        print(f"{r['temperature']:>11.1f} {'on' if r['constrained'] else 'off':>8} {r['parsed']:>7.0%} {r['bars_ok']:>16.1%} {kp:>7} {r['far_off_staff']:>14.2%} "
              f"{r['forced_steps']:>7d} {r['ms_per_char']:>8.2f}")
    on = [r["ms_per_char"] for r in rows if r["constrained"]]
    off = [r["ms_per_char"] for r in rows if not r["constrained"]]
    ratio = sum(on) / sum(off)
    print(f"cost of the checker: {ratio:.2f}x per character")
    far = notes = 0
    for f in sorted(args.corpus.glob("*.krn")):
        a, b = far_share(read_text(f))
        far, notes = far + a, notes + b
    corpus = {"folder": args.corpus.name, "notes": notes, "far_off_staff": far / max(notes, 1)}
    print(f"the corpus itself ({args.corpus.name}): {corpus['far_off_staff']:.2%} of {notes:,} notes far off the staff")
    out = Path(__file__).parent / "results" / "constrained.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"model": args.model, "n": args.n, "bars": args.bars, "metre": args.metre, "key": args.key, "rows": rows, "time_ratio": ratio,
                               "corpus": corpus, "date": time.strftime("%Y-%m-%d"),
                               "command": shlex.join(["python", "benchmarks/constrained.py", *sys.argv[1:]])}, indent=1) + "\n")


if __name__ == "__main__":
    main()
