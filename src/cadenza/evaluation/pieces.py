"""What every measure reads off a :class:`~cadenza.music.Piece`: its notes in time order, its
onsets, its bars (from the time signatures), its length in seconds and excerpts of it."""

from __future__ import annotations

import math

import numpy as np

from cadenza.music import Note, Piece


def piece_notes(piece: Piece) -> list[Note]:
    """The pitched notes of every part (drums left out), sorted by onset."""
    return sorted(n for t in piece.tracks if not t.is_drum for n in t.notes)


def onset_groups(notes: list[Note]) -> tuple[np.ndarray, list[list[Note]]]:
    """Distinct onset times and the notes starting at each."""
    times: list[float] = []
    groups: list[list[Note]] = []
    for n in notes:
        if times and abs(n.start - times[-1]) < 1e-9:
            groups[-1].append(n)
        else:
            times.append(n.start)
            groups.append([n])
    return np.array(times, dtype=float), groups


def bar_bounds(piece: Piece, end: float | None = None) -> list[float]:
    """Bar starts from the time signatures, from 0 up to and including the first at or after
    ``end`` (default: the piece's end), so consecutive pairs are the bars covering the piece."""
    end = piece.end if end is None else end
    sigs = sorted(piece.time_signatures) or [(0.0, 4, 4)]
    if sigs[0][0] > 0:
        sigs = [(0.0, 4, 4)] + sigs
    out: list[float] = []
    t = 0.0
    for i, (q, num, den) in enumerate(sigs):
        nxt = sigs[i + 1][0] if i + 1 < len(sigs) else math.inf
        bar = max(num * 4.0 / den, 1e-6)
        t = max(t, q)
        while t < nxt - 1e-9:
            out.append(t)
            if t >= end - 1e-9:
                return out
            t += bar
    return out


def bar_length(piece: Piece, at: float = 0.0) -> float:
    """Quarters in the bar of the time signature in force at ``at`` (4/4 where none is set)."""
    sig = (0.0, 4, 4)
    for s in sorted(piece.time_signatures):
        if s[0] <= at + 1e-9:
            sig = s
    return sig[1] * 4.0 / sig[2]


def seconds(piece: Piece) -> float:
    """Length in seconds up to the end of the last note, at the piece's tempo map."""
    end = piece.end
    tempos = sorted(piece.tempos) or [(0.0, 120.0)]
    if tempos[0][0] > 0:
        tempos = [(0.0, 120.0)] + tempos
    total = 0.0
    for i, (q, qpm) in enumerate(tempos):
        nxt = tempos[i + 1][0] if i + 1 < len(tempos) else math.inf
        if q >= end:
            break
        total += (min(nxt, end) - q) * 60.0 / max(qpm, 1e-6)
    return total


def excerpts(piece: Piece, quarters: float) -> list[Piece]:
    """Consecutive excerpts ``quarters`` long (the last kept if at least half that); the whole
    piece if it is shorter."""
    end = piece.end
    if quarters <= 0 or end <= quarters:
        return [piece]
    out = []
    a = 0.0
    while a < end - 1e-9:
        if end - a >= quarters / 2:
            part = piece.slice(a, a + quarters)
            if piece_notes(part):
                out.append(part)
        a += quarters
    return out
