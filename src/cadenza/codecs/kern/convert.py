"""Scores that are not kern, made kern for a corpus: MIDI, MusicXML and ABC tunes written by
:mod:`.writer` in the layout their parts suggest, then cleaned like any kern file.

Issue #20's corpus reads every score Cadenza can: Humdrum editions, music21's MusicXML and ABC
(Essen, O'Neill, Ryan's Mammoth), and ``../shared/midi``. The layout is the music's own: a
melody alone is one staff, a piano track is split at middle C onto two, a quartet's four parts
are four staves; a larger ensemble is written as a keyboard reduction on two.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from cadenza import CadenzaError
from cadenza.codecs import Encoded
from cadenza.music.instruments import prefix_for
from cadenza.codecs.kern.cleaning import clean
from cadenza.music.humdrum.spines import BAR
from cadenza.music.humdrum.writer import piece_to_kern
from cadenza.music import Piece

MAX_STAVES = 6  # more parts than this are written as a keyboard reduction on two staves


def natural_staves(piece: Piece) -> int:
    """The staves ``piece`` is written on: one per part (up to :data:`MAX_STAVES`), two for a
    chordal single part (a piano track), one for a melody."""
    tracks = [t for t in piece.tracks if t.notes and not t.is_drum]
    if len(tracks) > MAX_STAVES:
        return 2
    if len(tracks) == 1:
        notes = sorted(tracks[0].notes)
        chordal = sum(b.start < a.start + a.duration - 1e-6 for a, b in zip(notes, notes[1:]))
        return 2 if chordal > 0.05 * len(notes) else 1
    return max(1, len(tracks))


def piece_to_encoded(piece: Piece, name: str, where: str, staves: int = 0) -> Encoded:
    """``piece`` as a cleaned kern :class:`Encoded` (its header and instruments in ``info``), on
    ``staves`` staves (0: :func:`natural_staves`). One-line :class:`CadenzaError` otherwise."""
    if not any(t.notes and not t.is_drum for t in piece.tracks):
        raise CadenzaError(f"{where}: no notes")
    kern = piece_to_kern(piece, staves or natural_staves(piece), where=where)
    text, header = clean(kern, where)
    insts = Counter(prefix_for(t.program, t.name) for t in piece.tracks if t.notes and not t.is_drum)
    fifths = piece.key_signatures[0][1] if piece.key_signatures else 0
    source = Path(where.split("#")[0]).suffix.lower()
    info = {"header": header.to_dict(), "fifths": int(fifths), "bars": text.count(BAR + "\n"), "converted_from": source.lstrip(".")}
    if source in (".mid", ".midi"):  # MIDI programs name real instruments; notation's parts often only "Part 1"
        info["instruments"] = dict(insts)
    return Encoded(name, text, info)


def encode_score_file(path: Path, staves: int = 0) -> list[Encoded]:
    """Every piece of a MIDI, MusicXML or ABC file as cleaned kern (a tune book gives many);
    a tune that cannot be written is left out, a file with none is an error."""
    from cadenza.music.reader import read_pieces

    path = Path(path)
    pieces = read_pieces(path)
    out, problems = [], []
    for i, piece in enumerate(pieces):
        name = path.stem if len(pieces) == 1 else (piece.name or f"{path.stem}-{i + 1}")
        try:
            out.append(piece_to_encoded(piece, name, str(path) if len(pieces) == 1 else f"{path}#{name}", staves))
        except CadenzaError as exc:
            problems.append(str(exc))
    if not out:
        raise CadenzaError(problems[0] if problems else f"{path}: no piece to write as kern")
    return out
