"""Does asking for a style, an ensemble or a composer change the music? (issue #20)

For each label a labelled kern model knows (``--style renaissance``, ``--instrument voice``,
``--composer Palestrina``, ...), ``-n`` samples of ``--bars`` bars asked for it, and the same
number unconditioned (same seeds), are read as notes and described by what a listener hears:
staves, mean note length, onsets per quarter and syncopation (the share of onsets that fall
between beats and sound across the next beat). Next to each: the same figures for the real
held-out pieces (validation and test) that carry that label, so a row says whether the samples
moved towards the music they were asked for. Prints a table and writes
``benchmarks/results/conditioning_styles.json``.

    python benchmarks/conditioning_styles.py training-state/kern-base --dataset data/every-score
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
FIGURES = ("staves", "note_quarters", "onsets_per_quarter", "syncopation")


def describe(piece) -> dict[str, float] | None:
    """What a listener hears of a piece: staves with notes, mean note length (quarters), distinct
    onsets per quarter, and syncopation: onsets off the quarter beat whose notes sound across the
    next beat, as a share of all onsets."""
    from cadenza.evaluation.pieces import onset_groups, piece_notes

    notes = piece_notes(piece)
    if len(notes) < 8:
        return None
    times, groups = onset_groups(notes)
    span = max(n.start + n.duration for n in notes) - notes[0].start
    off = [abs(t - round(t)) > 1e-6 and max(n.start + n.duration for n in g) > np.floor(t) + 1 + 1e-6 for t, g in zip(times, groups)]
    return {"staves": float(sum(1 for t in piece.tracks if t.notes)), "note_quarters": float(np.mean([n.duration for n in notes])),
            "onsets_per_quarter": len(times) / max(span, 1e-9), "syncopation": float(np.mean(off))}


def mean(rows: list[dict[str, float]]) -> dict[str, float]:
    return {k: round(float(np.mean([r[k] for r in rows])), 3) for k in FIGURES} if rows else {}


def samples(run, labels: dict[str, str], n: int, bars: int, seed: int) -> list[dict[str, float]]:
    from cadenza.evaluation.heldout import decode_piece
    from cadenza.generation import Request, generate

    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for s in generate(run, tmp, Request(n=n, bars=bars, seed=seed, labels=labels), formats=("krn",)):
            try:
                kern = s.files["krn"].read_text(encoding="utf-8")
                piece = decode_piece(run.codec, s.text, run.context, f"sample-{s.index}", kern)[1]
            except Exception:  # an unreadable sample says nothing about its style
                continue
            got = describe(piece) if piece is not None else None
            if got:
                out.append(got)
    return out


def real(dataset: Path, codec, kind: str, value: str, most: int) -> list[dict[str, float]]:
    from cadenza.evaluation.heldout import fast_piece, split_pieces

    out = []
    for split in ("val", "test"):
        for text, row in split_pieces(dataset, split, codec.unit):
            if (row.get("labels") or {}).get(kind) != value or row.get("transpose"):
                continue
            try:
                got = describe(fast_piece(codec, text, row.get("info") or {}, row["name"]))
            except Exception:
                continue
            if got:
                out.append(got)
            if len(out) >= most:
                return out
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("run", help="a labelled kern run folder or bundled model")
    ap.add_argument("--dataset", type=Path, required=True, help="its dataset (for the real held-out pieces of each label)")
    ap.add_argument("-n", type=int, default=10, help="samples per label (and unconditioned)")
    ap.add_argument("--bars", type=int, default=16)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--kinds", default="style,instrument", help="label kinds to ask for, every value of each")
    ap.add_argument("--composers", default="Palestrina,Bach,Chopin,Haydn,Mozart", help="composers to ask for too")
    ap.add_argument("--real-pieces", type=int, default=40, help="at most this many real held-out pieces a label")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results" / "conditioning_styles.json")
    a = ap.parse_args()

    import torch

    from cadenza.generation import open_run

    torch.set_num_threads(a.threads)
    run = open_run(a.run)
    known = run.labels
    asks = [(k, v) for k in a.kinds.split(",") if k for v in known.get(k, [])]
    asks += [("composer", c) for c in a.composers.split(",") if c in known.get("composer", [])]
    t0 = time.time()
    plain = mean(samples(run, {}, a.n, a.bars, a.seed))
    rows = []
    print(f"{'asked for':28s} {'':9s} " + " ".join(f"{f:>18s}" for f in FIGURES))
    print(f"{'nothing (unconditioned)':28s} {'samples':9s} " + " ".join(f"{plain.get(f, float('nan')):18.3f}" for f in FIGURES))
    for kind, value in asks:
        got = samples(run, {kind: value}, a.n, a.bars, a.seed)
        truth = real(a.dataset, run.codec, kind, value, a.real_pieces)
        row = {"kind": kind, "value": value, "samples": len(got), "sampled": mean(got), "real_pieces": len(truth), "real": mean(truth)}
        rows.append(row)
        print(f"{kind + ' ' + value:28s} {'samples':9s} " + " ".join(f"{row['sampled'].get(f, float('nan')):18.3f}" for f in FIGURES))
        print(f"{'':28s} {'real':9s} " + " ".join(f"{row['real'].get(f, float('nan')):18.3f}" for f in FIGURES))
    result = {"what": "samples asked for each label against unconditioned samples (same seeds) and the real held-out pieces with that label: "
                      "staves with notes, mean note length in quarters, distinct onsets per quarter, syncopation (onsets off the quarter beat sounding across the next beat, share of onsets)",
              "command": f"python benchmarks/conditioning_styles.py {a.run} --dataset {a.dataset} -n {a.n} --bars {a.bars} --seed {a.seed}",
              "date": time.strftime("%Y-%m-%d"), "seconds": round(time.time() - t0, 1), "n": a.n, "bars": a.bars,
              "unconditioned": plain, "rows": rows}
    a.json.parent.mkdir(parents=True, exist_ok=True)
    a.json.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {a.json}")


if __name__ == "__main__":
    main()
