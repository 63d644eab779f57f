"""Kern text -> :class:`~cadenza.music.Piece` without music21 (fast enough for memorisation
over a whole training set)."""

from __future__ import annotations

import re
from fractions import Fraction
from functools import lru_cache

from cadenza.music import Note, Piece, Track


_DUR = re.compile(r"(\d+)(?:%(\d+))?(\.*)")
_LETTERS = re.compile(r"([a-gA-G])\1*")
_STEPS = {"c": 0, "d": 2, "e": 4, "f": 5, "g": 7, "a": 9, "b": 11}
_METER = re.compile(r"^\*M(\d+)/(\d+)")
_TEMPO = re.compile(r"^\*MM(\d+(?:\.\d+)?)")
_KEYSIG = re.compile(r"^\*k\[([^\]]*)\]")


@lru_cache(maxsize=1 << 16)
def _kern_subtoken(tok: str) -> tuple[Fraction | None, int | None, str]:
    """(duration in quarters or None for grace/unreadable, MIDI pitch or None for a rest, tie
    role: '[' start, '_' continue, ']' stop, '' none)."""
    if "q" in tok or "Q" in tok:
        return None, None, ""
    m = _DUR.search(tok)
    if not m:
        return None, None, ""
    digits = m.group(1)
    if set(digits) == {"0"}:
        dur = Fraction(8 * 2 ** (len(digits) - 1))
    else:
        dur = Fraction(4 * int(m.group(2) or 1), int(digits))
    dots = len(m.group(3))
    dur = dur * (2 - Fraction(1, 2**dots))
    if "r" in tok:
        return dur, None, ""
    p = _LETTERS.search(tok)
    if not p:
        return dur, None, ""
    letters = p.group(0)
    ch = letters[0]
    octave = 4 + len(letters) - 1 if ch.islower() else 3 - (len(letters) - 1)
    midi = 12 * (octave + 1) + _STEPS[ch.lower()] + tok.count("#") - tok.count("-")
    tie = "[" if "[" in tok else "_" if "_" in tok else "]" if "]" in tok else ""
    return dur, midi, tie


def kern_to_piece(text: str, name: str = "") -> Piece:
    """Notes of a kern text (a whole file or Cadenza's cleaned text with ``@`` barlines), without
    music21: data lines are time slices, each advancing time to the nearest end of a sounding
    event; spine splits, merges and exchanges are followed; ties merge; grace notes are dropped.
    One track per original spine, metre / tempo / key from interpretations, a pickup as a short
    opening time signature (as :func:`cadenza.scores.score_to_piece`)."""
    t = Fraction(0)
    ends: list[Fraction] = []
    spine: list[int] = []
    ties: list[dict[int, int]] = []
    notes: list[list] = []  # [start, midi, duration, spine]
    n_spines = 0
    sigs: list[tuple[float, int, int]] = []
    tempos: list[tuple[float, float]] = []
    keys: list[tuple[float, int, int]] = []
    first_bar: Fraction | None = None

    def init(n: int) -> None:
        nonlocal n_spines
        ends[:] = [t] * n
        spine[:] = list(range(n_spines, n_spines + n))
        ties[:] = [{} for _ in range(n)]
        n_spines += n

    for raw in text.split("\n"):
        line = raw.rstrip("\r")
        if not line.strip() or line.startswith("!"):
            continue
        if line[0] in "=@":
            if first_bar is None and t > 0:
                first_bar = t  # the first barline after music: the end of a pickup, or of bar 1
            continue
        fields = line.split("\t")
        if line.startswith("**"):
            init(len(fields))
            continue
        if line.startswith("*"):
            if not ends:
                init(len(fields))
            if len(fields) != len(ends):
                continue
            tq = float(t)
            for f in fields[:1]:
                if (m := _METER.match(f)) and int(m.group(2)) > 0:
                    sigs.append((tq, int(m.group(1)), int(m.group(2))))
                elif m := _TEMPO.match(f):
                    tempos.append((tq, float(m.group(1))))
                elif m := _KEYSIG.match(f):
                    keys.append((tq, m.group(1).count("#") - m.group(1).count("-"), 0))
            if not any(f in ("*^", "*v", "*x", "*-") for f in fields):
                continue
            ne, ns, nt = [], [], []
            i = 0
            while i < len(fields):
                f = fields[i]
                if f == "*^":
                    ne += [ends[i], ends[i]]
                    ns += [spine[i], spine[i]]
                    nt += [ties[i], dict(ties[i])]
                elif f == "*v":
                    j = i
                    while j < len(fields) and fields[j] == "*v":
                        j += 1
                    ne.append(max(ends[i:j]))
                    ns.append(spine[i])
                    merged: dict[int, int] = {}
                    for d in ties[i:j]:
                        merged.update(d)
                    nt.append(merged)
                    i = j
                    continue
                elif f == "*x" and i + 1 < len(fields) and fields[i + 1] == "*x":
                    ne += [ends[i + 1], ends[i]]
                    ns += [spine[i + 1], spine[i]]
                    nt += [ties[i + 1], ties[i]]
                    i += 2
                    continue
                elif f == "*-":
                    pass
                else:
                    ne.append(ends[i])
                    ns.append(spine[i])
                    nt.append(ties[i])
                i += 1
            ends[:], spine[:], ties[:] = ne, ns, nt
            continue
        if not ends:
            init(len(fields))
        if len(fields) != len(ends):
            fields = (fields + ["."] * len(ends))[: len(ends)]
        timed = grace = False
        for c, f in enumerate(fields):
            if f == "." or not f:
                continue
            for sub in f.split(" "):
                dur, midi, tie = _kern_subtoken(sub)
                if dur is None:
                    grace = True
                    continue
                timed = True
                ends[c] = max(ends[c], t + dur) if ends[c] > t else t + dur
                if midi is None:
                    continue
                open_ = ties[c]
                if tie in ("_", "]") and midi in open_:
                    j = open_[midi]
                    notes[j][2] = t + dur - notes[j][0]
                    if tie == "]":
                        del open_[midi]
                    continue
                open_.pop(midi, None)
                notes.append([t, midi, dur, spine[c]])
                if tie == "[":
                    open_[midi] = len(notes) - 1
        future = [e for e in ends if e > t]
        if future and (timed or not grace):  # a line of grace notes takes no time
            t = min(future)

    by_spine: dict[int, list[Note]] = {}
    for start, midi, dur, sp in notes:
        by_spine.setdefault(sp, []).append(Note(float(start), int(midi), float(dur), 80))
    tracks = [Track(f"Spine {sp + 1}", 0, sorted(ns)) for sp, ns in sorted(by_spine.items())]
    piece = Piece(tracks, name=name)
    if tempos:
        piece.tempos = [(0.0, tempos[0][1])] + tempos[1:] if tempos[0][0] > 0 else tempos
    if sigs:
        sigs = sorted({s[0]: s for s in sigs}.values())
        if sigs[0][0] > 0:
            sigs = [(0.0, sigs[0][1], sigs[0][2])] + sigs
        bar = sigs[0][1] * 4 / sigs[0][2]
        if first_bar is not None and 0 < first_bar < bar and not any(0 < s[0] <= first_bar for s in sigs[1:]):
            units = first_bar * sigs[0][2] / 4
            if units.denominator == 1:
                sigs = [(0.0, int(units), sigs[0][2]), (float(first_bar), sigs[0][1], sigs[0][2])] + sigs[1:]
        piece.time_signatures = sigs
    piece.key_signatures = keys[:1]
    return piece
