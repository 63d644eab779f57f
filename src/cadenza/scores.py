"""The bridge to music21 for notated music: parse kern, check it, export MusicXML and MIDI.

music21 is the field's reference parser for **kern, so "valid" in Cadenza means "music21 parses
it"; its MusicXML writer stamps today's date, which we pin so equal seeds give equal bytes.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any


def parse_kern(kern: str):
    """A music21 Score from kern text (raises whatever music21 raises on bad input)."""
    from music21 import converter

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return converter.parse(kern, format="humdrum")


def score_stats(score) -> dict[str, Any]:
    """Bars, notes (chord members counted) and duration in quarters of a parsed score."""
    from music21 import chord, note

    notes = 0
    for el in score.recurse().notes:
        if isinstance(el, chord.Chord):
            notes += len(el.pitches)
        elif isinstance(el, note.Note):
            notes += 1
    parts = score.parts
    bars = max((len(p.getElementsByClass("Measure")) for p in parts), default=0)
    return {"bars": bars, "notes": notes, "quarters": float(score.highestTime)}


_DATE = re.compile(rb"<encoding-date>[^<]*</encoding-date>")
_PART_ID = re.compile(rb"\bP[0-9a-f]{32}\b")


def write_musicxml(score, path: Path) -> None:
    """MusicXML with a fixed encoding date, so identical music gives identical bytes."""
    tmp = score.write("musicxml", fp=str(path))
    data = Path(tmp).read_bytes()
    data = _DATE.sub(b"<encoding-date>2000-01-01</encoding-date>", data)
    # music21 names parts with random hex ids: number them in order of appearance instead
    ids: dict[bytes, bytes] = {}
    for m in _PART_ID.finditer(data):
        ids.setdefault(m.group(0), b"P%d" % (len(ids) + 1))
    data = _PART_ID.sub(lambda m: ids[m.group(0)], data)
    Path(path).write_bytes(data)


def write_midi(score, path: Path) -> None:
    score.write("midi", fp=str(path))


def export_kern(kern: str, stem: Path, formats: tuple[str, ...], stats: dict[str, Any]) -> dict[str, Path]:
    """Write ``stem.krn`` and, if music21 parses it, ``.mid`` / ``.musicxml``; fill ``stats``."""
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    out: dict[str, Path] = {}
    krn = stem.with_suffix(".krn")
    krn.write_text(kern, encoding="utf-8")
    out["krn"] = krn
    try:
        score = parse_kern(kern)
        stats.update(score_stats(score))
        stats["parsed"] = True
    except Exception as exc:  # music21 raises many types; the summary reports it
        stats["parsed"] = False
        stats["error"] = f"{type(exc).__name__}: {exc}"[:200]
        return out
    if "mid" in formats:
        p = stem.with_suffix(".mid")
        write_midi(score, p)
        out["mid"] = p
    if "musicxml" in formats:
        p = stem.with_suffix(".musicxml")
        write_musicxml(score, p)
        out["musicxml"] = p
    return out
