"""The metre and key a musician asks for (``--metre 3/4 --key F``), as values: parsed once where
the request is made, carried as they are through generation, and turned into tokens only by the
codec that writes them (kern: ``*M3/4``, ``*k[b-]``, ``*F:``), so no layer in between rebuilds
or re-reads a string.

A :class:`Key` keeps the spelling it was given (Gb major is not F# major: their signatures
differ) and the church modes the Humdrum corpora name (``*G:dor``); the pitch-class key that
Roman numerals are read in is :class:`cadenza.music.chord_names.Key`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cadenza import CadenzaError

_METRE = re.compile(r"\s*(\d+)\s*/\s*(\d+)\s*")
_KEY = re.compile(r"([A-Ga-g])([#b\-]?)(?:\s*:?\s*([A-Za-z]+))?")
_MAJOR_FIFTHS = {"C": 0, "G": 1, "D": 2, "A": 3, "E": 4, "B": 5, "F": -1}
# a mode's key signature, in fifths from the major scale on the same final (D dorian: C major's)
MODE_FIFTHS = {"major": 0, "minor": -3, "ionian": 0, "dorian": -2, "phrygian": -4, "lydian": 1, "mixolydian": -1, "aeolian": -3, "locrian": -5}
_MODE_WORDS = {**{m: m for m in MODE_FIFTHS}, **{m[:3]: m for m in MODE_FIFTHS}}  # "dor", "maj", "min" ...
_KEY_HELP = "give a key such as F, Bb, D (major), g, f#, bb (minor) or G:dor, E phrygian (a mode)"


@dataclass(frozen=True)
class Metre:
    """A time signature: ``numerator`` beats of ``1/denominator`` notes. Which ones a codec can
    write is the codec's to say (kern: those its checker measures)."""

    numerator: int
    denominator: int

    def __post_init__(self) -> None:
        if self.numerator < 1 or self.denominator < 1:
            raise CadenzaError(f"--metre {self}: give a time signature such as 3/4, 6/8, 4/2 or 12/8")

    @classmethod
    def parse(cls, text: str | Metre) -> Metre:
        """``"3/4"`` -> Metre(3, 4) (a Metre is returned as it is)."""
        if isinstance(text, Metre):
            return text
        m = _METRE.fullmatch(text or "")
        if not m:
            raise CadenzaError(f"--metre {text!r}: give a time signature such as 3/4, 6/8, 4/2 or 12/8")
        return cls(int(m.group(1)), int(m.group(2)))

    def __str__(self) -> str:
        return f"{self.numerator}/{self.denominator}"


@dataclass(frozen=True)
class Key:
    """A key as a musician spells it: ``tonic`` a letter and ``#`` / ``b`` (upper case for major,
    lower case for minor, as written for a mode: the corpora write ``*G:dor`` and ``*a:dor``)
    and ``mode``, ``"major"``, ``"minor"`` or a church mode (``"dorian"`` ...)."""

    tonic: str
    mode: str = "major"

    def __post_init__(self) -> None:
        if self.mode not in MODE_FIFTHS or not re.fullmatch(r"[A-Ga-g][#b]?", self.tonic):
            raise CadenzaError(f"--key {self}: {_KEY_HELP}")

    @classmethod
    def parse(cls, text: str | Key) -> Key:
        """``"F"``, ``"Bb"`` / ``"B-"`` (major), ``"g"``, ``"f#"``, ``"bb"`` (minor), ``"Bb major"``,
        ``"g minor"``, or a mode after the final, as Humdrum writes it or in full (``"G:dor"``,
        ``"G dorian"``, ``"E phrygian"``). A key needing more than 7 sharps or flats is refused
        (its enharmonic twin is the one to ask for). A Key is returned as it is."""
        if isinstance(text, Key):
            return text
        m = _KEY.fullmatch((text or "").strip())
        mode = _MODE_WORDS.get(m.group(3).lower()) if m and m.group(3) else None
        if not m or (m.group(3) and mode is None):
            raise CadenzaError(f"--key {text!r}: {_KEY_HELP}")
        letter, acc = m.group(1), m.group(2).replace("-", "b")
        if mode is None:
            mode = "major" if letter.isupper() else "minor"
        elif mode in ("major", "minor"):
            letter = letter.upper() if mode == "major" else letter.lower()
        key = cls(letter + acc, mode)
        if abs(key.fifths) > 7:
            raise CadenzaError(f"--key {text!r}: needs {abs(key.fifths)} {'sharps' if key.fifths > 0 else 'flats'} (at most 7): use its enharmonic twin")
        return key

    @property
    def fifths(self) -> int:
        """Sharps (> 0) or flats (< 0) of its key signature."""
        acc = self.tonic[1:]
        return _MAJOR_FIFTHS[self.tonic[0].upper()] + 7 * (acc == "#") - 7 * (acc == "b") + MODE_FIFTHS[self.mode]

    def __str__(self) -> str:
        """``"Bb"``, ``"g"``, ``"G dorian"``: what :meth:`parse` reads back as this key."""
        return self.tonic if self.mode in ("major", "minor") else f"{self.tonic} {self.mode}"
