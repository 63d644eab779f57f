"""The one reader of Humdrum **kern text, in the spirit of humlib (Craig Sapp's Humdrum library):
a file is lines, a line is tab-separated tokens, each token knows its spine and its duration.

Everything in Cadenza that reads kern goes through here: the kern codec's cleaning and
restoring (which columns are ``**kern`` after a spine split), :func:`~cadenza.music.humdrum.to_piece.kern_to_piece` (durations,
pitches, ties), the whole-text checks and the incremental checker (durations, letters, spine
moves). The Humdrum rules, from the Humdrum Toolkit reference (Huron, 1995):

* spines: ``*^`` splits a column in two, a run of ``*v`` merges adjacent columns into one,
  ``*x *x`` exchanges two columns, ``*-`` ends one; ``*+`` (a new spine) is not supported;
* durations are reciprocals: ``4`` a quarter, ``8.`` a dotted eighth, ``3`` a triplet half,
  ``3%2`` two thirds of a whole note, ``0`` / ``00`` a breve / a long; grace notes (``q``,
  ``Q``) take no time;
* pitches are letter runs: ``c`` is middle C (C4), ``cc`` C5, ``C`` C3, ``CC`` C2; ``#`` / ``-``
  raise / lower; ``r`` is a rest;
* ties: ``[`` starts, ``_`` continues, ``]`` ends one.

Floor: imports nothing from Cadenza (plain text in, plain values out).
"""

from __future__ import annotations

import re
from fractions import Fraction
from functools import lru_cache
from typing import Iterator, Sequence

BAR = "@"  # Cadenza's cleaned text (the kern codec's) writes each barline so; read as one here
NULL = "."  # a null token: the column's previous event still sounds
MANIPULATORS = frozenset({"*^", "*v", "*x", "*-", "*+"})
PITCH_LETTERS = "abcdefgABCDEFG"
DIGITS = "0123456789"
NATURAL = {"c": 0, "d": 2, "e": 4, "f": 5, "g": 7, "a": 9, "b": 11}  # semitones above C

# A reciprocal duration as real files write it: digits, an optional ``%`` ratio, dots.
RECIP = re.compile(r"(\d+)(?:%(\d+))?(\.*)")
_RUN = re.compile(r"([a-gA-G])\1*")


# --------------------------------------------------------------------------------------------
# Lines


def lines_of(text: str) -> list[str]:
    """The lines of a kern text, whatever its line endings (``\\r\\n``, ``\\r`` or ``\\n``)."""
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def records(text: str) -> Iterator[tuple[int, list[str]]]:
    """(line number from 1, tab-separated tokens) of each line that is neither blank nor a
    comment (``!``). Trailing spaces and tabs are ignored, as the Humdrum tools do (66 of the
    CCARH files end lines with a tab)."""
    for lineno, line in enumerate(lines_of(text), 1):
        line = line.rstrip(" \t")
        if line and not line.startswith("!"):
            yield lineno, line.split("\t")


# --------------------------------------------------------------------------------------------
# Spines


def is_manipulator_line(tokens: Sequence[str]) -> bool:
    return any(t in MANIPULATORS for t in tokens)


def spine_moves(tokens: Sequence[str], strict: bool = True) -> list[tuple[int, ...]]:
    """Which columns each column after a manipulator line continues: ``(i,)`` for a column that
    goes on (a split gives two in a row, the second the new voice), ``(i, j, ...)`` for a merge,
    nothing for an ended column. ValueError for an unpaired ``*x`` or a ``*+``; with
    ``strict=False`` those read as columns that go on (lenient readers of model output)."""
    out: list[tuple[int, ...]] = []
    n = len(tokens)
    i = 0
    while i < n:
        t = tokens[i]
        if t == "*^":
            out += [(i,), (i,)]
            i += 1
        elif t == "*v":
            j = i
            while j < n and tokens[j] == "*v":
                j += 1
            out.append(tuple(range(i, j)))
            i = j
        elif t == "*x":
            if i + 1 < n and tokens[i + 1] == "*x":
                out += [(i + 1,), (i,)]
                i += 2
            elif strict:
                raise ValueError("unpaired spine exchange *x")
            else:
                out.append((i,))
                i += 1
        elif t == "*-":
            i += 1
        elif t == "*+" and strict:
            raise ValueError("spine addition *+ is not supported")
        else:
            out.append((i,))
            i += 1
    return out


def follow(values: Sequence, moves: list[tuple[int, ...]]) -> list:
    """Per-column ``values`` carried through ``moves``: each new column takes its first source's."""
    return [values[m[0]] for m in moves]


# --------------------------------------------------------------------------------------------
# Tokens: durations, pitches, ties


def recip_quarters(digits: str, ratio: str | None = None, dots: int = 0) -> Fraction:
    """Quarter notes of a reciprocal duration: ``("4")`` 1, ``("8", None, 1)`` 3/4, ``("0")`` 8
    (breve), ``("00")`` 16, ``("3", "2")`` 8/3."""
    if set(digits) == {"0"}:
        q = Fraction(8 * 2 ** (len(digits) - 1))
    else:
        q = Fraction(4 * int(ratio or 1), int(digits))
    return q * (2 - Fraction(1, 2**dots)) if dots else q


def duration(recip: str) -> Fraction:
    """Quarter notes of a duration string such as ``"8."``, ``"0"`` or ``"3%2"``."""
    m = RECIP.fullmatch(recip)
    if not m:
        raise ValueError(f"not a kern duration: {recip!r}")
    return recip_quarters(m.group(1), m.group(2), len(m.group(3)))


def octave(letters: str) -> int:
    """Octave of a kern letter run: ``c`` 4, ``cc`` 5, ``C`` 3, ``CC`` 2."""
    return 3 + len(letters) if letters[0].islower() else 4 - len(letters)


def midi_pitch(letters: str, alter: int = 0) -> int:
    return 12 * (octave(letters) + 1) + NATURAL[letters[0].lower()] + alter


def pitch_run(sub: str) -> str:
    """The letters of a sub-token's pitch: its first run of one letter (``"8.ccL"``: ``"cc"``),
    ``""`` if it has none. Ties pair notes by this run (accidentals aside)."""
    m = _RUN.search(sub)
    return m.group(0) if m else ""


@lru_cache(maxsize=1 << 16)
def read_note(sub: str) -> tuple[Fraction | None, int | None, str]:
    """(duration in quarters or None for a grace note or no duration, MIDI pitch or None for a
    rest, tie role: ``[`` start, ``_`` continue, ``]`` stop, ``""`` none) of one sub-token (a
    token, or one note of a chord)."""
    if "q" in sub or "Q" in sub:
        return None, None, ""
    m = RECIP.search(sub)
    if not m:
        return None, None, ""
    dur = recip_quarters(m.group(1), m.group(2), len(m.group(3)))
    if "r" in sub:
        return dur, None, ""
    letters = pitch_run(sub)
    if not letters:
        return dur, None, ""
    midi = midi_pitch(letters, sub.count("#") - sub.count("-"))
    tie = "[" if "[" in sub else "_" if "_" in sub else "]" if "]" in sub else ""
    return dur, midi, tie
