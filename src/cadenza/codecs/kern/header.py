"""What a cleaned kern text leaves out and a playable file needs back: the :class:`Header` (per
spine clef and key signature, the key, metre, mensuration sign and tempo), and the patterns of
the interpretations that make it up."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

# Interpretations worth keeping inside the music: they change how the following notes read.
KEEP_INTERP = re.compile(
    r"^\*(clef[A-Gv]?[v^]?\d*|k\[[a-g#\-n]*\]|[A-Ga-g][#\-]?:|M\d+/\d+(%\d+)?|met\([^)]*\)|MM\d+(\.\d+)?)$"
)
CLEF = re.compile(r"^\*clef")
KEYSIG = re.compile(r"^\*k\[")
KEY = re.compile(r"^\*[A-Ga-g][#\-]?:$")
METER = re.compile(r"^\*M\d+/\d+")
TEMPO = re.compile(r"^\*MM\d+")


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

    def lines(self) -> list[str]:
        n = self.spines
        out = ["\t".join(["**kern"] * n)]
        out.append("\t".join(self.clefs))
        out.append("\t".join(self.keysig))
        if self.key:
            out.append("\t".join([self.key] * n))
        if self.meter:
            out.append("\t".join([self.meter] * n))
        if self.met:
            out.append("\t".join([self.met] * n))
        if self.tempo:
            out.append("\t".join([self.tempo] * n))
        return out


def default_header(spines: int) -> Header:
    clefs = ["*clefF4"] * (spines // 2) + ["*clefG2"] * (spines - spines // 2) if spines > 1 else ["*clefG2"]
    return Header(spines, clefs, ["*k[]"] * spines, "*C:", "*M4/4", None, "*MM100")
