"""The bars a musician asked for, with a little context: a continuation's new bars after the
last bars of the prompt, or rewritten bars between their neighbours.

A continuation of a 200-bar upload is the whole piece plus four bars; engraving and
synthesising all of it took 30 s and gave ten pages with the new bars a sliver at the end
(issue #23). The excerpt is cut from the piece at bar lines (pickups counted as the score
counts them), so only what is new, and the bars that lead into it, is drawn and played; the
whole piece stays one click away.
"""

from __future__ import annotations

from dataclasses import dataclass

from cadenza.music import Piece
from cadenza.music.harmony import bars as bar_list


@dataclass(frozen=True)
class Excerpt:
    """``piece``: the bars shown, from 0; ``first_bar``/``last_bar``: their numbers in the
    whole piece (a pickup is bar 0); ``new``: (start, end) quarters of the model's bars within
    ``piece``; ``offset``: where ``piece`` begins in the whole piece, in quarters."""

    piece: Piece
    first_bar: int
    last_bar: int
    new: tuple[float, float]
    offset: float


def bar_starts(piece: Piece) -> tuple[list[float], int]:
    """Each bar's start in quarters, and the number of the first (0 when the piece opens with
    a pickup, a bar shorter than the metre after it, else 1)."""
    got = bar_list(piece)
    starts = [b.start for b in got]
    pickup = len(got) > 1 and got[0].length < got[1].length - 1e-9
    return starts, 0 if pickup else 1


def excerpt(piece: Piece, new_start: float, new_end: float | None = None, before: int = 2, after: int = 0) -> Excerpt:
    """The bars of ``piece`` holding [``new_start``, ``new_end``) quarters (the end of the piece
    when None), with ``before`` whole bars ahead of them and ``after`` bars behind."""
    end = piece.end if new_end is None else new_end
    starts, number = bar_starts(piece)
    if not starts:
        return Excerpt(piece, number, number, (new_start, end), 0.0)
    # a prompt that ends with a rest (its last note ends before its last barline): the new bars
    # begin at that barline, where nothing sounds before them
    nxt = next((q for q in starts if q >= new_start - 1e-6), None)
    if nxt is not None and nxt > new_start and not any(new_start - 1e-6 <= n.start < nxt - 1e-6 for n in piece.notes):
        new_start = nxt
    first = max(0, _bar_at(starts, new_start) - before)
    last = min(len(starts) - 1, _bar_at(starts, max(new_start, end - 1e-3)) + after)
    lo = starts[first]
    hi = starts[last + 1] if last + 1 < len(starts) else max(piece.end, end)
    cut = piece.slice(lo, hi)
    cut.name = piece.name
    return Excerpt(cut, first + number, last + number, (max(0.0, new_start - lo), min(hi, end) - lo), lo)


def _bar_at(starts: list[float], q: float) -> int:
    """The index of the bar holding ``q`` quarters."""
    i = 0
    while i + 1 < len(starts) and starts[i + 1] <= q + 1e-6:
        i += 1
    return i
