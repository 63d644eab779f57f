"""Kern text -> :class:`~cadenza.music.Piece` without music21 (fast enough for memorisation
over a whole training set), on the Humdrum :mod:`~cadenza.music.humdrum.spines` reader; it
reads Cadenza's cleaned text too (``@`` barlines, see :data:`~cadenza.music.humdrum.spines.BAR`).

Time is counted in integer ticks (exact, and much faster than fractions): ``TICKS`` per quarter
note to begin with, and a finer grid if the text has a tuplet that does not fit it."""

from __future__ import annotations

import re
from fractions import Fraction
from math import lcm

from cadenza.music.humdrum.spines import MANIPULATORS, NULL, read_note, records, spine_moves
from cadenza.music.piece import Note, Piece, Track

_METER = re.compile(r"^\*M(\d+)/(\d+)")
_TEMPO = re.compile(r"^\*MM(\d+(?:\.\d+)?)")
_KEYSIG = re.compile(r"^\*k\[([^\]]*)\]")
_MOVES = MANIPULATORS - {"*+"}  # lines that move spines (an unsupported *+ alone is ignored)
TICKS = 13440  # per quarter: every duration of the generation grammar (see the kern codec's grammar.TPQ)

class _Finer(Exception):
    """A duration is not a whole number of ticks: read again on a grid that fits it."""

    def __init__(self, denominator: int):
        self.denominator = denominator


def kern_to_piece(text: str, name: str = "") -> Piece:
    """Notes of a kern text (a whole file or Cadenza's cleaned text with ``@`` barlines), without
    music21: data lines are time slices, each advancing time to the nearest end of a sounding
    event; spine splits, merges and exchanges are followed; ties merge; grace notes (and chord
    notes that leave out the duration) are dropped. One track per original spine, metre / tempo /
    key from interpretations, a pickup as a short opening time signature (as
    :func:`cadenza.music.m21.score_to_piece`)."""
    scale = TICKS
    while True:
        try:
            return _read(text, name, scale)
        except _Finer as finer:
            scale = lcm(scale, finer.denominator)


def kern_bars(text: str, name: str = "") -> tuple[Piece, list[float]]:
    """(:func:`kern_to_piece`, the time in quarters of each barline line, in order): the bars as
    the text draws them (a repeat's short bar, a missing pickup), not as the metre would."""
    scale = TICKS
    while True:
        times: list[int] = []
        try:
            piece = _read(text, name, scale, times)
            return piece, [t / scale for t in times]
        except _Finer as finer:
            scale = lcm(scale, finer.denominator)


def _read(text: str, name: str, scale: int, barlines: list[int] | None = None) -> Piece:
    t = 0  # ticks
    ends: list[int] = []  # per column, when its current event ends
    spine: list[int] = []  # per column, the original spine (the track)
    ties: list[dict[int, int]] = []  # per column, open ties: MIDI pitch -> index in notes
    notes: list[list] = []  # [start, midi, duration, spine]
    n_spines = 0
    sigs: list[tuple[float, int, int]] = []
    tempos: list[tuple[float, float]] = []
    keys: list[tuple[float, int, int]] = []
    first_bar: int | None = None
    timing: dict[str, tuple[int | None, int | None, str]] = {}  # sub-token -> ticks, midi, tie

    def init(n: int) -> None:
        nonlocal n_spines
        ends[:] = [t] * n
        spine[:] = list(range(n_spines, n_spines + n))
        ties[:] = [{} for _ in range(n)]
        n_spines += n

    for _, fields in records(text):
        first = fields[0]
        c0 = first[:1]
        if c0 == "=" or c0 == "@":
            if barlines is not None:
                barlines.append(t)
            if first_bar is None and t > 0:
                first_bar = t  # the first barline after music: the end of a pickup, or of bar 1
            continue
        if first.startswith("**"):
            init(len(fields))
            continue
        if c0 == "*":
            if not ends:
                init(len(fields))
            if len(fields) != len(ends):
                continue
            tq = t / scale
            if (m := _METER.match(first)) and int(m.group(2)) > 0:
                sigs.append((tq, int(m.group(1)), int(m.group(2))))
            elif m := _TEMPO.match(first):
                tempos.append((tq, float(m.group(1))))
            elif m := _KEYSIG.match(first):
                keys.append((tq, m.group(1).count("#") - m.group(1).count("-"), 0))
            if not any(f in _MOVES for f in fields):
                continue
            moves = spine_moves(fields, strict=False)
            ends[:] = [max(ends[i] for i in m) for m in moves]
            spine[:] = [spine[m[0]] for m in moves]
            new_ties = []
            for m in moves:
                merged: dict[int, int] = {}
                for i in m:
                    merged.update(ties[i])
                new_ties.append(merged)
            ties[:] = new_ties
            continue
        if not ends:
            init(len(fields))
        if len(fields) != len(ends):
            fields = (fields + [NULL] * len(ends))[: len(ends)]
        timed = grace = False
        for c, f in enumerate(fields):
            if f == NULL or not f:
                continue
            for sub in f.split(" "):
                got = timing.get(sub)
                if got is None:
                    got = timing[sub] = _timing(sub, scale)
                dur, midi, tie = got
                if dur is None:
                    grace = True
                    continue
                timed = True
                end = t + dur
                if ends[c] <= t or end > ends[c]:
                    ends[c] = end
                if midi is None:
                    continue
                open_ = ties[c]
                if tie and tie != "[" and midi in open_:
                    j = open_[midi]
                    notes[j][2] = end - notes[j][0]
                    if tie == "]":
                        del open_[midi]
                    continue
                open_.pop(midi, None)
                notes.append([t, midi, dur, spine[c]])
                if tie == "[":
                    open_[midi] = len(notes) - 1
        if timed or not grace:  # a line of grace notes takes no time
            future = [e for e in ends if e > t]
            if future:
                t = min(future)

    by_spine: dict[int, list[Note]] = {}
    for start, midi, dur, sp in notes:
        by_spine.setdefault(sp, []).append(Note(start / scale, int(midi), dur / scale, 80))
    tracks = [Track(f"Spine {sp + 1}", 0, sorted(ns)) for sp, ns in sorted(by_spine.items())]
    piece = Piece(tracks, name=name)
    if tempos:
        piece.tempos = [(0.0, tempos[0][1])] + tempos[1:] if tempos[0][0] > 0 else tempos
    if sigs:
        sigs = sorted({s[0]: s for s in sigs}.values())
        if sigs[0][0] > 0:
            sigs = [(0.0, sigs[0][1], sigs[0][2])] + sigs
        bar = sigs[0][1] * 4 / sigs[0][2]
        pickup = Fraction(first_bar, scale) if first_bar is not None else None
        if pickup is not None and 0 < pickup < bar and not any(0 < s[0] <= pickup for s in sigs[1:]):
            unit = sigs[0][2]  # the metre's own unit, or a finer power of two (9/16 for 2 1/4 quarters of 4/4)
            while (pickup * unit / 4).denominator != 1 and unit < 64:
                unit *= 2
            units = pickup * unit / 4
            if units.denominator == 1:
                sigs = [(0.0, int(units), unit), (float(pickup), sigs[0][1], sigs[0][2])] + sigs[1:]
        piece.time_signatures = sigs
    piece.key_signatures = keys[:1]
    return piece


def _timing(sub: str, scale: int) -> tuple[int | None, int | None, str]:
    """A sub-token's duration in ticks (None: grace or none), MIDI pitch and tie role."""
    q, midi, tie = read_note(sub)
    if q is None:
        return None, midi, tie
    ticks = q * scale
    if ticks.denominator != 1:
        raise _Finer(q.denominator)
    return int(ticks), midi, tie
