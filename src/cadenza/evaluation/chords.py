"""Does the model follow the chords it is given? (``evaluate --chords``, issue 22.)

``n`` samples are generated with the progression asked for and ``n`` without it, from the same
seeds; every bar of each is read back by the chord reader (:mod:`cadenza.music.harmony`, the
same reader that labelled the training text) and compared with the chord asked for that bar
(the progression repeating, as the sampler repeats it). The figure is the share of bars whose
chord (root and quality; the bass is not asked) is the one asked for, and of bars whose root
is; the unconditioned samples give the rate a model reaches by chance and habit. A bar of two
chords (``F C7``) counts when it reads as either.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any, Callable

from cadenza.generation.request import Request
from cadenza.music.harmony import Chord, bars, read_chords


def sample_bars(path: Path) -> tuple[Any, list[tuple[float, float]]]:
    """(piece, bar spans in quarters) of a generated file: a kern file's own barlines, a MIDI
    file's bars from its time signatures. Bars without music are left out."""
    path = Path(path)
    if path.suffix == ".krn":
        from cadenza.codecs.kern.piece import kern_bars

        piece, times = kern_bars(path.read_text(encoding="utf-8"))
        ends = times[1:] + [piece.end]
        spans = [(a, b) for a, b in zip(times, ends) if b > a + 1e-9]
    else:
        from cadenza.music import read_midi

        piece = read_midi(path)
        spans = [(b.start, b.start + b.length) for b in bars(piece)]
    return piece, spans


def bar_agreement(path: Path, progression: list[tuple[Chord, ...]]) -> dict[str, int]:
    """Bars of one sample read back, and how many carry the chord (and the root) asked for."""
    piece, spans = sample_bars(path)
    spans = [s for s in spans if s[0] < piece.end - 1e-9]
    got = read_chords(piece, [(a, b, a) for a, b in spans]) if spans else []
    same = root = 0
    for k, chord in enumerate(got):
        asked = progression[k % len(progression)]
        same += any(chord.root == c.root and chord.quality == c.quality for c in asked)
        root += any(chord.root == c.root for c in asked)
    return {"bars": len(got), "chord": same, "root": root}


def chord_adherence(run: Any, chords: str, n: int = 8, bars_per_sample: int = 8, seed: int = 0, metre: str | None = None, key: str | None = None,
                    out: Path | None = None, progress: Callable[[str, int, int], None] | None = None) -> dict[str, Any]:
    """The share of bars carrying the chord asked for, with ``chords`` and without (same seeds);
    written to ``out/chords.json`` when ``out`` is given."""
    from cadenza.generation import generate
    from cadenza.generation.run import open_run

    run = open_run(run)
    asked = Request(chords=chords, key=key)
    progression = asked.progression
    rows: dict[str, dict[str, int]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for label, given in (("asked", chords), ("unconditioned", None)):
            total = {"bars": 0, "chord": 0, "root": 0}
            for i in range(n):
                if progress:
                    progress(label, i, n)
                got = generate(run, Path(tmp) / label / str(i), n=1, bars=bars_per_sample, seed=seed + i, metre=metre, key=key, chords=given,
                               formats=("krn",) if "krn" in run.codec.sample_formats else None)
                path = got[0].files.get("krn") or got[0].files.get("mid")
                for k, v in bar_agreement(path, progression).items():
                    total[k] += v
            rows[label] = total
    report = {"chords": chords, "key": key, "metre": metre, "samples": n, "bars_per_sample": bars_per_sample, "seed": seed,
              **{label: dict(r, chord_rate=r["chord"] / max(r["bars"], 1), root_rate=r["root"] / max(r["bars"], 1)) for label, r in rows.items()}}
    if out is not None:
        Path(out).mkdir(parents=True, exist_ok=True)
        (Path(out) / "chords.json").write_text(json.dumps(report, indent=1), encoding="utf-8")
    return report
