"""A piece on the time grid, and back: what both of Clara's MIDI codecs (notewise, chordwise) share.

Notes become (on step, off step, key index) per instrument prefix; key indices count up from the
lowest note of the note range (:data:`LOWEST`), notes outside it move by octaves into it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from cadenza import CadenzaError
from cadenza.codecs.base import Encoded
from cadenza.music.instruments import DEFAULT_PROGRAM, INSTRUMENT_NAME, RANK, prefix_for
from cadenza.music import Note, Piece, Track

# Lowest MIDI note of each note range: Clara's 38 (A2-B5) and 62 (A1-A#6), and the piano's 88.
LOWEST = {38: 45, 62: 33, 88: 21}


def check_grid(steps_per_quarter: Any, note_range: Any) -> None:
    """Refuse a grid resolution or note range the codecs cannot use."""
    if not isinstance(steps_per_quarter, int) or isinstance(steps_per_quarter, bool) or not 1 <= steps_per_quarter <= 96:
        raise CadenzaError(f"steps_per_quarter must be a whole number from 1 to 96 (Clara: 4 or 12), not {steps_per_quarter!r}")
    if note_range not in LOWEST:
        raise CadenzaError(f"note_range must be one of {', '.join(map(str, LOWEST))}, not {note_range!r}")


GridNote = tuple[int, int, int]  # (on step, off step, key index); off > on


@dataclass
class Grid:
    """A piece quantized: per instrument prefix, notes as steps and key indices."""

    notes: dict[str, list[GridNote]]
    instruments: dict[str, dict[str, Any]]  # prefix -> {"program", "name"} of its first track
    folded: int

    @property
    def end(self) -> int:
        return max((off for ns in self.notes.values() for _, off, _ in ns), default=0)

    def prefixes(self) -> list[str]:
        return sorted(self.notes, key=RANK.__getitem__)


def to_grid(piece: Piece, steps_per_quarter: int, note_range: int) -> Grid:
    """Quantize ``piece``: starts and ends to the nearest step (a note lasts at least one step),
    pitches folded into the range, drums left out. Two notes of one key on one instrument never
    overlap: a note ends where the next one of that key starts (as a player re-strikes), and of
    two struck together the longer is kept."""
    import numpy as np

    low = LOWEST[note_range]
    spq = steps_per_quarter
    columns: dict[str, list[tuple[Any, Any, Any]]] = {}  # prefix -> per track (starts, ends, pitches)
    instruments: dict[str, dict[str, Any]] = {}
    for track in piece.tracks:
        if track.is_drum or not track.notes:
            continue
        pre = prefix_for(track.program, track.name)
        instruments.setdefault(pre, {"program": int(track.program), "name": track.name or INSTRUMENT_NAME[pre]})
        count = len(track.notes)
        starts = np.fromiter((n.start for n in track.notes), float, count)
        ends = starts + np.fromiter((n.duration for n in track.notes), float, count)
        pitches = np.fromiter((n.pitch for n in track.notes), np.int64, count)
        columns.setdefault(pre, []).append((starts, ends, pitches))
    folded = 0
    notes: dict[str, list[GridNote]] = {}
    for pre, cols in columns.items():
        starts, ends, pitches = (np.concatenate(c) for c in zip(*cols))
        on = np.maximum(np.floor(starts * spq + 0.5).astype(np.int64), 0)
        off = np.maximum(np.floor(ends * spq + 0.5).astype(np.int64), on + 1)
        key, n = fold_keys(pitches - low, note_range)
        folded += n
        notes[pre] = normalize(on, off, key)
    return Grid(notes, instruments, folded)


def fold_keys(key: Any, note_range: int) -> tuple[Any, int]:
    """Key indices (a numpy array) moved by octaves into [0, note_range), and how many moved."""
    import numpy as np

    below, above = key < 0, key >= note_range
    key = np.where(below, key + 12 * ((11 - key) // 12), key)
    key = np.where(above, key - 12 * ((key - note_range + 12) // 12), key)
    return key, int(below.sum() + above.sum())


def normalize(on: Any, off: Any, key: Any) -> list[GridNote]:
    """One instrument's notes (numpy arrays) made playable on one key each: of notes struck
    together the longest is kept, and a note ends where the next of its key starts."""
    import numpy as np

    order = np.lexsort((off, on, key))  # by key, then start, then end
    on, off, key = on[order], off[order], key[order]
    last = np.r_[(key[1:] != key[:-1]) | (on[1:] != on[:-1]), True]
    on, off, key = on[last], off[last], key[last]
    same_key_next = np.r_[key[1:] == key[:-1], False]
    off = np.where(same_key_next, np.minimum(off, np.r_[on[1:], 0]), off)
    return sorted(zip(on.tolist(), off.tolist(), key.tolist()))


def transposed(piece: Encoded, notes: dict[str, list[GridNote]], semitones: int, note_range: int, words: Any) -> Encoded:
    """``piece`` moved ``semitones``, given its notes read back from its text. Works on the grid
    (no MIDI, no Note objects), so augmenting a corpus in twelve keys stays quick; keys pushed
    out of the range fold back by octaves and ``info["folded"]`` adds them to the piece's count."""
    import numpy as np

    folded = 0
    moved: dict[str, list[GridNote]] = {}
    for pre, ns in notes.items():
        if not ns:
            continue
        on, off, key = (np.array(c, dtype=np.int64) for c in zip(*ns))
        key, n = fold_keys(key + semitones, note_range)
        folded += n
        moved[pre] = normalize(on, off, key)
    grid = Grid(moved, {}, folded)
    info = dict(piece.info)
    info["folded"] = int(info.get("folded", 0)) + folded
    info["transposed"] = int(info.get("transposed", 0)) + semitones
    info["notes"] = sum(len(v) for v in moved.values())
    keys = _events(info.get("key_signatures"), 3)
    info["key_signatures"] = [[q, (int(f) + 7 * semitones + 6) % 12 - 6, int(m)] for q, f, m in keys]
    return Encoded(f"{piece.name}{semitones:+d}", " ".join(words(grid)), info)


def piece_info(piece: Piece, grid: Grid) -> dict[str, Any]:
    """What the text leaves out and decoding puts back (JSON-ready). ``tempo`` and
    ``time_signature`` (the opening ones) are what a dataset's generation context collects."""
    return {
        "tempo": float(piece.tempos[0][1]) if piece.tempos else 120.0,
        "time_signature": [int(piece.time_signatures[0][1]), int(piece.time_signatures[0][2])] if piece.time_signatures else [4, 4],
        "tempos": [[float(q), float(t)] for q, t in piece.tempos],
        "time_signatures": [[float(q), int(n), int(d)] for q, n, d in piece.time_signatures],
        "key_signatures": [[float(q), int(f), int(m)] for q, f, m in piece.key_signatures],
        "instruments": grid.instruments,
        "folded": grid.folded,
        "notes": sum(len(v) for v in grid.notes.values()),
        "steps": grid.end,
    }


def from_grid(notes: dict[str, list[GridNote]], steps_per_quarter: int, note_range: int, context: Any, name: str = "") -> Piece:
    """Grid notes back to a :class:`Piece`; tempo, metre, key and instrument programs/names from
    ``context`` (an ``Encoded.info`` or a dataset's generation context) where it has them. A
    context that is not what it should be is ignored, never an error."""
    ctx = context if isinstance(context, dict) else {}
    low = LOWEST[note_range]
    spq = steps_per_quarter
    insts = ctx.get("instruments") if isinstance(ctx.get("instruments"), dict) else {}
    tracks = []
    for pre in sorted(notes, key=RANK.__getitem__):
        if not notes[pre]:
            continue
        meta = insts.get(pre) if isinstance(insts.get(pre), dict) else {}
        program = meta.get("program")
        if not isinstance(program, int) or not 0 <= program <= 127 or prefix_for(program, str(meta.get("name", ""))) != pre:
            program = DEFAULT_PROGRAM[pre]
        tname = meta.get("name") if isinstance(meta.get("name"), str) and meta.get("name") else INSTRUMENT_NAME[pre]
        in_order = sorted(notes[pre], key=lambda g: (g[0], g[2], g[1]))  # Note's order: start, pitch, length
        tracks.append(Track(tname, program, [Note(on / spq, low + i, (off - on) / spq) for on, off, i in in_order]))
    piece = Piece(tracks, name=name)
    tempos = _events(ctx.get("tempos"), 2)
    if tempos and all(MIN_QPM <= t[1] <= MAX_QPM for t in tempos):
        piece.tempos = [(q, float(t)) for q, t in tempos]
    elif _number(ctx.get("tempo")) and ctx["tempo"] > 0:
        piece.tempos = [(0.0, float(ctx["tempo"]))]
    sigs = _events(ctx.get("time_signatures"), 3)
    if sigs and all(_valid_sig(n, d) for _, n, d in sigs):
        piece.time_signatures = [(q, int(n), int(d)) for q, n, d in sigs]
    else:
        ts = ctx.get("time_signature")
        if isinstance(ts, (list, tuple)) and len(ts) == 2 and _valid_sig(*ts):
            piece.time_signatures = [(0.0, int(ts[0]), int(ts[1]))]
    keys = _events(ctx.get("key_signatures"), 3)
    if keys and all(-7 <= f <= 7 and m in (0, 1) for _, f, m in keys):
        piece.key_signatures = [(q, int(f), int(m)) for q, f, m in keys]
    return piece


# what a MIDI file can time: ticks are 32-bit (480 a quarter: ~4.5M quarters), a tempo's
# microseconds per quarter 24-bit (60e6 / 2**24: 3.6 quarters a minute at the slowest)
MAX_EVENT_QUARTER = 1_000_000
MIN_QPM, MAX_QPM = 4.0, 1000.0


def _number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _valid_sig(n: Any, d: Any) -> bool:
    return isinstance(n, int) and isinstance(d, int) and 1 <= n <= 64 and d in (1, 2, 4, 8, 16, 32, 64)


def _events(x: Any, width: int) -> list[tuple]:
    """A list of [quarter, ...] events, or [] if it is not one."""
    if not isinstance(x, (list, tuple)) or not x:
        return []
    out = []
    for e in x:
        if not isinstance(e, (list, tuple)) or len(e) != width or not all(_number(v) for v in e) or not 0 <= e[0] <= MAX_EVENT_QUARTER:
            return []
        out.append(tuple(e))
    return sorted(out, key=lambda e: e[0])
