"""What a cleaned kern text leaves out and a playable file needs back: the :class:`Header` (per
spine clef and key signature, the key, metre, mensuration sign and tempo), and the patterns of
the interpretations that make it up. The patterns of each interpretation are the format's
(:mod:`cadenza.music.humdrum.interpretations`); which to keep is the cleaning's choice."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from cadenza.music.humdrum.interpretations import MODE

# Interpretations worth keeping inside the music: they change how the following notes read.
KEEP_INTERP = re.compile(
    r"^\*(clef[A-Gv]?[v^]?\d*|k\[[a-g#\-n]*\]|[A-Ga-g][#\-]?:" + MODE + r"|M\d+/\d+(%\d+)?|met\([^)]*\)|MM\d+(\.\d+)?)$"
)

# Version of the cleaned text: 1 (2015): no header, the model never saw metre or key; 2: each
# piece opens with its clefs, key signature, key and metre as interpretation lines.
CLEANING = 2


@dataclass
class Header:
    """What the cleaned text leaves out and a file needs back: per-spine clef, key, metre, tempo."""

    spines: int
    clefs: list[str]
    keysig: list[str]
    key: str | None
    meter: str | None
    met: str | None
    tempo: str | None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Header":
        return cls(**d)

    def opening(self) -> list[str]:
        """The interpretation lines a cleaned text (:data:`CLEANING` 2) opens with, so the model
        reads the metre and key it writes in: clefs, key signature, key, metre (the metre last,
        nearest the music, so a window prefix cut to fit keeps it; see ``window_prefix``)."""
        n = self.spines
        out = ["\t".join(self.clefs), "\t".join(self.keysig)]
        if self.key:
            out.append("\t".join([self.key] * n))
        if self.meter:
            out.append("\t".join([self.meter] * n))
        return out

    def lines(self, declared: frozenset[str] = frozenset()) -> list[str]:
        """The preamble of a restored file; ``declared``: the kinds (``clef``, ``keysig``,
        ``key``, ``meter``) the text opens with itself, left out here."""
        n = self.spines
        out = ["\t".join(["**kern"] * n)]
        if "clef" not in declared:
            out.append("\t".join(self.clefs))
        if "keysig" not in declared:
            out.append("\t".join(self.keysig))
        if self.key and "key" not in declared:
            out.append("\t".join([self.key] * n))
        if self.meter and "meter" not in declared:
            out.append("\t".join([self.meter] * n))
        if self.met and "meter" not in declared:
            out.append("\t".join([self.met] * n))
        if self.tempo:
            out.append("\t".join([self.tempo] * n))
        return out


def default_header(spines: int) -> Header:
    clefs = ["*clefF4"] * (spines // 2) + ["*clefG2"] * (spines - spines // 2) if spines > 1 else ["*clefG2"]
    return Header(spines, clefs, ["*k[]"] * spines, "*C:", "*M4/4", None, "*MM100")
