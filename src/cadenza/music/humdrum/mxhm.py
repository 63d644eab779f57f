"""Chords in a Humdrum score: the ``**mxhm`` spine (MusicXML's harmony kinds, ``G dominant``, as
Craig Sapp's musicxml2hum writes it), which verovio engraves as chord symbols above the staff
(``G7``) and music21's Humdrum reader leaves alone. On the music floor so that every writer of a
score (restored kern, a MIDI piece written as kern) adds the same spine.
"""

from __future__ import annotations

from typing import Iterable

from cadenza.music.chord_names import pitch_class
from cadenza.music.harmony import Chord

# chord quality -> MusicXML <kind> (what **mxhm holds and verovio turns back into a symbol)
MXHM_KIND = {"major": "major", "minor": "minor", "diminished": "diminished", "augmented": "augmented", "dominant7": "dominant",
             "minor7": "minor-seventh", "major7": "major-seventh", "half-diminished7": "half-diminished",
             "diminished7": "diminished-seventh", "sus4": "suspended-fourth", "sus2": "suspended-second"}


def mxhm_value(chord: Chord) -> str:
    """``G dominant``, ``B- major``: a chord as **mxhm writes it (the root as kern spells it)."""
    if chord.root is None:
        return "none"
    root = Chord(chord.root, "major").name.replace("b", "-")
    return f"{root} {MXHM_KIND[chord.quality]}"


_QUALITY_OF = {kind: quality for quality, kind in MXHM_KIND.items()}


def mxhm_chord(value: str) -> Chord | None:
    """The chord an **mxhm token names (``B- major`` -> Bb), the inverse of :func:`mxhm_value`,
    so a score's chord symbols become a ``.mid``'s markers; None for ``none`` or a kind
    MusicXML has that no :class:`Chord` quality matches."""
    root, _, kind = value.strip().partition(" ")
    quality = _QUALITY_OF.get(kind)
    if quality is None or not root or root[0].upper() not in "ABCDEFG" or set(root[1:]) - set("#-"):
        return None
    return Chord(pitch_class(root), quality)


def add_harmony_spine(lines: Iterable[str], chords_at: dict[int, Chord]) -> list[str]:
    """A score's ``lines`` with an ``**mxhm`` spine on the right: ``chords_at`` maps a data
    line's index to the chord that starts there. The new spine is never split or merged, so
    every line gets one more token of its own kind."""
    out = []
    for i, line in enumerate(lines):
        if not line or line.startswith("!!"):
            out.append(line)
            continue
        first = line.split("\t", 1)[0]
        if first.startswith("**"):
            extra = "**mxhm"
        elif first == "*-" or all(t == "*-" for t in line.split("\t")):
            extra = "*-"
        elif first.startswith("*"):
            extra = "*"
        elif first.startswith("="):
            extra = first
        elif first.startswith("!"):
            extra = "!"
        else:
            extra = mxhm_value(chords_at[i]) if i in chords_at else "."
        out.append(f"{line}\t{extra}")
    return out
