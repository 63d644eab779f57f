"""A user's music to continue, as a :class:`~cadenza.music.piece.Piece`: the file read, its last
bars (or seconds) cut out as the excerpt a model continues, and the excerpt's notes put back,
exactly, in front of a continuation's. A codec that continues through a Piece (the MIDI codecs)
uses these; ``generate --prompt`` and the web page read the file the same way."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from cadenza import CadenzaError
from cadenza.music.piece import Piece, Track


def read_prompt(path: Path) -> Piece:
    """A user's file to continue, as a :class:`~cadenza.music.piece.Piece` (MIDI, kern or MusicXML)."""
    from cadenza.music.reader import read_piece_file

    piece = read_piece_file(Path(path))
    if not any(t.notes for t in piece.tracks):
        raise CadenzaError(f"{path}: no notes to continue")
    return piece


def prompt_excerpt(piece: Piece, bars: int = 0, seconds: float = 0.0) -> tuple[Piece, float]:
    """The last ``bars`` bars (counted back through every time signature, so a metre change in
    them does not make it the whole piece) or ``seconds`` of ``piece``, moved to start at 0.
    Returns (excerpt, start in quarters of the original)."""
    end = piece.end
    if seconds > 0:
        qpm = piece.tempos[-1][1] if piece.tempos else 120.0
        start = max(0.0, end - seconds * qpm / 60.0)
    elif bars > 0:
        from cadenza.music.harmony import bar_grid

        grid = bar_grid(piece.time_signatures, end)
        start = grid[-bars].start if len(grid) > bars else 0.0
    else:
        start = 0.0
    return piece.slice(start, end + 1e-6), start


def prompt_then_continuation(excerpt: Piece, decoded: Piece, boundary: float, target: float, name: str) -> Piece:
    """The user's notes exactly, then the model's from ``boundary`` on (at most ``target``
    quarters of them, if a length was asked), on matching tracks."""
    cont_notes = {}
    for t in decoded.tracks:
        kept = [nt for nt in t.notes if nt.start >= boundary - 1e-9 and (target <= 0 or nt.start < boundary + target)]
        if target > 0:
            kept = [replace(nt, duration=min(nt.duration, boundary + target - nt.start)) for nt in kept]
        cont_notes[(t.program, t.name)] = (t, kept)
    tracks = [Track(t.name, t.program, list(t.notes), t.is_drum) for t in excerpt.tracks]
    for (program, name_), (t, kept) in cont_notes.items():
        home = next((x for x in tracks if x.program == program), None)
        if home is None:
            home = Track(name_, program, [])
            tracks.append(home)
        home.notes = sorted(home.notes + kept)
    full = Piece(tracks, list(excerpt.tempos), list(excerpt.time_signatures), name=name)
    if hasattr(excerpt, "key_signatures"):
        full.key_signatures = list(excerpt.key_signatures)
    return full
