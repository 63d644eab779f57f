"""A piece as notation text: kern or MusicXML, converted from whatever the input was.

Verovio reads kern and MusicXML natively, so those need no conversion to engrave. MIDI carries
no notation, so a MIDI file goes MIDI -> music21 (quantised) -> MusicXML first; that step is
music21's pace (~0.5 s for a short generated piece, ~25 s for a 2,700-note movement). Kern from
MusicXML is verovio's musicxml2hum, in a child process because it can crash (it does on
music21's MusicXML of piano-midi.de files: then a CadenzaError).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from cadenza import CadenzaError
from cadenza.files import one_line
from cadenza.music.m21 import parse_file, parse_text
from cadenza.music.reader import read_notation


def read_musicxml(path: Path) -> str:
    """MusicXML text from .musicxml/.xml, or from the root file inside a compressed .mxl (inflated
    to a bounded size: see :func:`cadenza.music.reader.read_mxl`)."""
    return read_notation(path)


def music21_musicxml(path: Path, source: Any, fmt: str, title: str | None = None) -> str:
    """MusicXML written by music21 from kern text or a MIDI file (quantised to 16ths/triplets)."""
    from music21 import metadata
    from music21.musicxml.m21ToXml import GeneralObjectExporter

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if fmt == "midi":
                score = parse_file(source, "midi", quantizePost=True)
                _tidy_midi_score(score)
            else:
                score = parse_text(source, fmt)
            if title:
                score.metadata = score.metadata or metadata.Metadata()
                score.metadata.title = title
            data = GeneralObjectExporter(score).parse()
    except Exception as exc:  # music21 raises many kinds, all meaning "cannot read this"
        raise CadenzaError(f"{path}: music21 cannot convert it to MusicXML ({one_line(exc)})") from None
    return data.decode("utf-8")


def _tidy_midi_score(score: Any) -> None:
    """Notation from a performance: drop the tempo marks (a MIDI file may change tempo every
    beat, and each would be printed) and brace a keyboard's two hands into one grand staff."""
    from music21 import layout, tempo

    for mark in list(score.recurse().getElementsByClass(tempo.MetronomeMark)):
        mark.activeSite.remove(mark)
    parts = list(score.parts)
    names = [(p.partName or "").lower() for p in parts]
    if len(parts) == 2 and all(("piano" in n or "keyboard" in n) for n in names):
        score.insert(0, layout.StaffGroup(parts, symbol="brace", barTogether=True))


def humdrum_from_musicxml(text: str, path: Path) -> str:
    """Kern via verovio's musicxml2hum, run in a child process: verovio 6.4 crashes (SIGSEGV)
    on some music21-written MusicXML, and a crash must not take the caller (a server) down."""
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool
    import multiprocessing

    try:
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
            kern = pool.submit(_humdrum_worker, text).result()
    except BrokenProcessPool:
        kern = None
    if not kern:
        raise CadenzaError(f"{path}: verovio cannot convert it to kern")
    return kern


def _humdrum_worker(text: str) -> str | None:
    import verovio

    verovio.enableLog(verovio.LOG_OFF)
    from cadenza.render.score import new_toolkit

    tk = new_toolkit()
    tk.setInputFrom("musicxml-hum")
    return tk.getHumdrumBuffer() if tk.loadData(text) else None
