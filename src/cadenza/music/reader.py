"""One reader for every music file Cadenza takes in: MIDI fast, notation through music21."""

from __future__ import annotations

from pathlib import Path

from cadenza import CadenzaError
from cadenza.music.m21 import score_to_piece
from cadenza.music.midi import read_midi
from cadenza.music.piece import Piece

PIECE_SUFFIXES = (".mid", ".midi", ".mxl", ".musicxml", ".xml", ".krn")


def read_piece_file(path: Path) -> Piece:
    """Any music file Cadenza reads as a :class:`~cadenza.music.piece.Piece`: MIDI through symusic
    (fast), notation (kern, MusicXML) through music21. One-line :class:`CadenzaError` otherwise."""
    path = Path(path)
    if not path.exists():
        raise CadenzaError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix in (".mid", ".midi"):
        return read_midi(path)
    if suffix not in PIECE_SUFFIXES:
        raise CadenzaError(f"{path}: not one of {', '.join(PIECE_SUFFIXES)}")
    from music21 import converter

    try:
        return score_to_piece(converter.parse(str(path)), path.stem)
    except Exception as exc:  # music21 raises many kinds
        first = str(exc).splitlines()[0][:120] if str(exc) else ""
        raise CadenzaError(f"{path}: music21 could not read it ({type(exc).__name__}: {first})") from None
