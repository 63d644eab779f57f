"""Issue #20: from scratch, the default ``cadenza train`` against the 2015 recipe on the same text.

Each pair trains both side by side (one process and one thread each) for the same minutes on one
dataset, then scores both on its test pieces (benchmarks/bench.py's ``pair``). Each pair is added to
benchmarks/results/recipe_from_scratch.json with its commands, steps, test bits and the load
averages before and after (the machine is shared: read the ratio of the runs side by side).

    python benchmarks/recipe_from_scratch.py data/mozart data/mozart-all --minutes 3 10
    python benchmarks/recipe_from_scratch.py /tmp/m --minutes 3 --flags="--random-windows"   # another recipe
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench import machine, pair  # noqa: E402

OUT = HERE / "results" / "recipe_from_scratch.json"


def add(result: dict, path: Path) -> dict:
    """``result``'s pair added to the file at ``path`` (every run kept: on a shared machine one
    pair is one sample; a rerun of the same recipe, text and minutes at the same minute replaces it)."""
    data = json.loads(path.read_text()) if path.exists() else {"what": __doc__.splitlines()[0], "pairs": []}
    key = lambda p: (p["minutes"], Path(p["dataset"]).name, p.get("flags", ""), p.get("date", ""))  # noqa: E731
    data["pairs"] = [p for p in data["pairs"] if key(p) != key(result)] + [result]
    data["pairs"].sort(key=key)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1) + "\n")
    return data


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("datasets", type=Path, nargs="+", help="Prepared datasets (e.g. the Mozart sonatas plain and with --transpose all).")
    ap.add_argument("--minutes", type=float, nargs="+", default=[3.0, 10.0])
    ap.add_argument("--flags", default="", help="Flags for cadenza train (default: none, the default recipe).")
    ap.add_argument("--json", type=Path, default=OUT)
    args = ap.parse_args()
    for minutes in args.minutes:
        for dataset in args.datasets:
            commands: list[str] = []
            with tempfile.TemporaryDirectory(prefix="cadenza-recipe-") as tmp:
                p = pair(dataset.resolve(), "charrnn", args.flags, minutes, Path(tmp), commands)
            p |= {"dataset": dataset.name, "flags": args.flags, "date": time.strftime("%Y-%m-%d %H:%M"), "machine": machine()}
            add(p, args.json)
            c, b = p["cadenza"], p["baseline"]
            print(f"{dataset.name} {minutes:g} min: cadenza {c['test_bits_per_token']} bits/char ({c['steps']} steps), 2015 recipe {b['test_bits_per_token']} "
                  f"({b['steps']} steps), ratio {p['ratio']}; load {p['load_average']['start'][0]:.1f} -> {p['load_average']['end'][0]:.1f}", flush=True)


if __name__ == "__main__":
    main()
