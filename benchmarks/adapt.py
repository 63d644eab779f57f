"""Issue #20's row for users: "base model + M minutes of `cadenza adapt`" against "the 2015 recipe,
M minutes from scratch", on the same text, the same held-out pieces and the same CPU, side by side.

One dataset is prepared from SRC with the base model's codec options (what ``adapt`` does, into
WORK/dataset); then, at the same time, one thread each: the base model is fine-tuned on it
(``cadenza.adapt.fine_tune``) and char-rnn's recipe (``benchmarks/charrnn_2015.py``) trains from
random weights on the same training text. Both read the dataset's test pieces whole with
``heldout_bits`` (the characters ``cadenza evaluate`` scores); the base model before fine-tuning
is read too. Prints a table and writes ``benchmarks/results/adapt.json``.

    python benchmarks/adapt.py ../shared/corpora/joplin --from kern-base --minutes 10
"""

from __future__ import annotations

import argparse
import json
import platform
import shlex
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def listen(base: str, adapted: Path, dataset: Path, n: int) -> dict:
    """What a listener hears (benchmarks/conditioning_styles.py: staves, note length, onsets per
    quarter, syncopation) in ``n`` samples of 16 bars from the base model and from the fine-tune
    (same seeds), next to the held-out pieces: did the fine-tune move towards the user's music?"""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from conditioning_styles import describe, mean, samples

    from cadenza.evaluation.heldout import fast_piece, split_pieces
    from cadenza.generation import open_run

    tuned = open_run(adapted)
    real = []
    for text, row in split_pieces(dataset, "test", tuned.codec.unit):
        got = describe(fast_piece(tuned.codec, text, row.get("info") or {}, row["name"]))
        if got:
            real.append(got)
    return {"base": mean(samples(open_run(base), {}, n, 16, 0)), "adapted": mean(samples(tuned, {}, n, 16, 0)), "held_out": mean(real), "samples": n}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("sources", nargs="+", help="the corpus (files or folders) the base model never saw")
    ap.add_argument("--from", dest="base", default="mozart-kern", help="bundled model or run folder to adapt")
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--work", type=Path, default=Path("/tmp/cadenza-adapt-bench"))
    ap.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results" / "adapt.json")
    ap.add_argument("--transpose", default="all", help="the training pieces in more keys, for both recipes ('none': as written)")
    ap.add_argument("--samples", type=int, default=10, help="samples of 16 bars from the base model and the fine-tune, described as a listener hears them")
    ap.add_argument("--options", default="{}", help='more AdaptOptions for the fine-tune, as JSON (e.g. \'{"fim_rate": 0}\')')
    a = ap.parse_args()

    from cadenza.adapt import AdaptOptions, prepare_for
    from cadenza.evaluation.likelihood import heldout_bits
    from cadenza.models.pretrained import resolve
    from cadenza.training import load_run

    work = a.work
    subprocess.run(["rm", "-rf", str(work)], check=True)
    work.mkdir(parents=True)
    options = AdaptOptions(minutes=a.minutes, threads=1, transpose=None if a.transpose == "none" else a.transpose, **json.loads(a.options))
    pieces = prepare_for(a.base, a.sources, work / "dataset", options)
    tune = [sys.executable, "-c", "import sys, json; from cadenza.adapt import AdaptOptions, fine_tune; "
            "o = AdaptOptions(**json.loads(sys.argv[3])); r = fine_tune(sys.argv[1], sys.argv[2], sys.argv[2] + '/../adapted', o); print(r.step)",
            a.base, str(work / "dataset"), json.dumps({"minutes": a.minutes, "threads": 1, "transpose": options.transpose, **json.loads(a.options)})]
    scratch = [sys.executable, str(ROOT / "benchmarks" / "charrnn_2015.py"), str(work / "dataset"), "--minutes", str(a.minutes), "--threads", "1",
               "--json", str(work / "charrnn.json")]
    t0 = time.time()
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for cmd in (tune, scratch)]
    outs = [p.communicate()[0] for p in procs]
    for p, out in zip(procs, outs):
        if p.returncode:
            sys.exit(f"a run failed:\n{out[-2000:]}")
    wall = time.time() - t0
    base_bits = heldout_bits(*load_run(resolve(a.base)), work / "dataset")
    tuned_bits = heldout_bits(*load_run(work / "adapted"), work / "dataset")
    charrnn = json.loads((work / "charrnn.json").read_text())
    rows = [("base model, not fine-tuned", a.base, base_bits["bits_per_token"]),
            (f"base + {a.minutes:g} min of adapt", a.base, tuned_bits["bits_per_token"]),
            (f"2015 recipe, {a.minutes:g} min from scratch", "char-rnn 3x128", charrnn["test_bits_per_token"])]
    print(f"{'':38s} {'model':16s} bits/char on {tuned_bits['pieces']} held-out pieces ({tuned_bits['tokens']:,} chars)")
    for name, model, bits in rows:
        print(f"{name:38s} {model:16s} {bits:.4f}")
    gain = 1 - tuned_bits["bits_per_token"] / charrnn["test_bits_per_token"]
    sounds = listen(a.base, work / "adapted", work / "dataset", a.samples)
    print(f"adapt against the 2015 recipe: {gain:+.1%} fewer bits (target: at least 20%)")
    for who in ("base", "adapted", "held_out"):
        print(f"{who:10s} " + "  ".join(f"{k} {v:.3f}" for k, v in sounds[who].items()))
    result = {"what": "base model + adapt vs the 2015 recipe from scratch: same dataset (text and held-out pieces), same minutes, run side by side, one thread each",
              "command": " ".join(["python", "benchmarks/adapt.py", *a.sources, "--from", a.base, "--minutes", str(a.minutes), "--transpose", a.transpose] + (["--options", shlex.quote(a.options)] if json.loads(a.options) else [])),
              "options": json.loads(a.options), "sources": a.sources, "base": a.base, "minutes": a.minutes, "pieces": pieces, "test_pieces": tuned_bits["pieces"], "test_chars": tuned_bits["tokens"],
              "base_bits_per_char": base_bits["bits_per_token"], "adapted_bits_per_char": tuned_bits["bits_per_token"],
              "charrnn_bits_per_char": charrnn["test_bits_per_token"], "charrnn_steps": charrnn.get("steps"), "gain_over_charrnn": gain, "met": gain >= 0.2,
              "sounds": sounds, "wall_seconds": round(wall, 1), "machine": {"cpus": __import__("os").cpu_count(), "python": platform.python_version()},
              "date": time.strftime("%Y-%m-%d")}
    a.json.parent.mkdir(parents=True, exist_ok=True)
    a.json.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {a.json}")


if __name__ == "__main__":
    main()
