"""The tandem interpretations a **kern score's notes are read under: clef, key signature, key
(with the church modes Humdrum writes after it, ``*G:dor``), metre and tempo, as the Humdrum
Toolkit reference names them (Huron, 1995); and key signatures as fifths and back (music21's
``KeySignature.sharps``: ``*k[f#c#]`` is 2, ``*k[b-]`` -1).

Floor: imports nothing from Cadenza (patterns and plain values)."""

from __future__ import annotations

import re

# Church modes as Humdrum writes them after a key (``*G:dor``): Palestrina's masses name them.
MODES = ("ion", "dor", "phr", "lyd", "mix", "aeo", "loc")
MODE = "(?:" + "|".join(MODES) + ")?"
CLEF = re.compile(r"^\*clef")
KEYSIG = re.compile(r"^\*k\[[a-g#\-n]*\]$")
KEY = re.compile(r"^\*[A-Ga-g][#\-]?:" + MODE + "$")
METER = re.compile(r"^\*M\d+/\d+")
TEMPO = re.compile(r"^\*MM\d+")
KINDS = ((CLEF, "clef"), (KEYSIG, "keysig"), (KEY, "key"), (METER, "meter"))

_SHARPS = "fcgdaeb"  # the order a key signature adds them
_FLATS = "beadgcf"


def kind_of(token: str) -> str | None:
    """``clef``, ``keysig``, ``key`` or ``meter`` for a header interpretation, else None."""
    return next((k for pat, k in KINDS if pat.match(token)), None)


def keysig_fifths(tok: str) -> int:
    """Sharps (positive) or flats (negative) of a key signature token: ``*k[b-e-]`` -2."""
    inner = tok[tok.index("[") + 1 : tok.rindex("]")]
    return inner.count("#") - inner.count("-")


def keysig_token(fifths: int) -> str:
    """The key signature token of ``fifths`` sharps (flats if negative): 2 ``*k[f#c#]``."""
    if fifths >= 0:
        return "*k[" + "".join(c + "#" for c in _SHARPS[:fifths]) + "]"
    return "*k[" + "".join(c + "-" for c in _FLATS[:-fifths]) + "]"
