"""Does a model prepared with chords follow them, and do they help it predict? (issue 22)

For one run: ``evaluate --chords`` for a 4/4 C major and a 3/4 F major progression (the share of
generated bars whose chord, read back by the chord reader, is the one asked for, against samples
of the same seeds without chords; kern samples' validity alongside), and the held-out test
pieces' bits per note with their own chord lines and without
(:func:`cadenza.evaluation.chords.heldout_progressions`). Prints a table and writes
``benchmarks/results/chords_<name>.json`` with the commands that give the same figures.

    python benchmarks/chord_models.py /tmp/chords-run --name mozart-kern-chords --baseline mozart-kern

A bundled model (no chord tokens) follows a progression by chord guidance alone
(``--chord-strength``, a sampler control); ``--strengths`` adds rows at other strengths than the
default, and ``--no-heldout`` skips the held-out reading (it needs a dataset prepared with chords):

    python benchmarks/chord_models.py mozart-kern --name mozart-kern --strengths 1,6 --no-heldout
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from cadenza.evaluation.chords import chord_adherence, heldout_progressions

RESULTS = Path(__file__).resolve().parent / "results"
PROGRESSIONS = (("C | Am | F | G7", "4/4", "C"), ("F | Bb | C7 | F", "3/4", "F"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("run")
    ap.add_argument("--name", required=True, help="the model's name in the results file")
    ap.add_argument("--baseline", help="a run without chords to read the held-out text too (e.g. the model fine-tuned from)")
    ap.add_argument("--dataset", help="the run's dataset (default: found from its config)")
    ap.add_argument("-n", type=int, default=8)
    ap.add_argument("--bars", type=int, default=8)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--made-by", default="", help="how the run was made (prepare and train commands), recorded")
    ap.add_argument("--strengths", default="", help="chord guidance strengths to measure beside the default, e.g. 0,1,6 (0: the model alone, chord models only)")
    ap.add_argument("--no-heldout", action="store_true", help="skip the held-out reading (a run without a chord dataset)")
    a = ap.parse_args()
    strengths = tuple(float(x) for x in a.strengths.split(",") if x.strip())
    t0 = time.time()
    out = {"run": a.run, "name": a.name, "made_by": a.made_by, "samples": a.n, "bars_per_sample": a.bars, "progressions": []}
    for chords, metre, key in PROGRESSIONS:
        rep = chord_adherence(a.run, chords, a.n, a.bars, a.seed, metre, key, strengths=strengths)
        rep["command"] = f'cadenza evaluate {a.run} -o OUT --chords "{chords}" --metre {metre} --key {key} -n {a.n} --bars {a.bars} --seed {a.seed}'
        out["progressions"].append(rep)
        for label in ("unconditioned", "asked", *(f"strength {s:g}" for s in strengths)):
            r = rep[label]
            print(f"{chords:18} {metre} {label:14} strength {r.get('strength', 0):4g} bars {r['bars']:4d}  chord {r['chord_rate']:.0%}  root {r['root_rate']:.0%}"
                  f"  consonance {r['consonance']:.0%}  notes/bar {r['notes_per_bar']:.1f}"
                  + (f"  parsed {r['parsed']}/{a.n}  bars fill the metre {r['metre_bars_ok']}/{r['metre_bars']}" if "parsed" in r else ""))
    out["seconds_sampling"] = round(time.time() - t0, 1)
    if a.no_heldout:
        RESULTS.mkdir(exist_ok=True)
        path = RESULTS / f"chords_{a.name}.json"
        path.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {path}")
        return
    held = heldout_progressions(a.run, a.dataset, a.baseline)
    held["command"] = f"python benchmarks/chord_models.py {a.run} --name {a.name}" + (f" --baseline {a.baseline}" if a.baseline else "")
    out["heldout"] = held
    for label, r in held["rows"].items():
        print(f"held-out ({held['pieces']} pieces, {held['notes']} notes) {label:26} {r['bits_per_note']:.3f} bits/note  {r['bits_per_token']:.4f} bits/token")
    log = Path(a.run) / "log.jsonl"
    if log.exists():  # how far the run got, and where its best validation was (its best.safetensors)
        rows = [json.loads(x) for x in log.read_text(encoding="utf-8").splitlines() if x.strip()]
        out["steps"], out["epochs"] = rows[-1]["step"], rows[-1]["epoch"]
        out["best_step"] = min((r["val_loss"], r["step"]) for r in rows if "val_loss" in r)[1]
    out["seconds"] = round(time.time() - t0, 1)
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"chords_{a.name}.json"
    path.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
