"""A piece's music, not its text, for finding the same piece twice in a corpus.

Two editions of one Scarlatti sonata share no 4-bar passage as kern text (other beamings, other
voice splits, other spellings), yet most of their notes agree (issue #20: 37 of 44 same-named
pairs >= 90% the same notes); a chorale from music21's MusicXML written as kern shares nothing
textual with the same chorale in Humdrum. What survives editing, transposition and a change of
spelling is the line heard on top: the intervals between the highest notes of successive
onsets. Runs of :data:`WIDTH` of them are the passages :func:`~cadenza.data.split.group_duplicates`
compares.
"""

from __future__ import annotations

from cadenza.music.humdrum.spines import read_note

WIDTH = 10  # intervals per passage: long enough that a scale or an arpeggio alone is rarely shared


def top_line(text: str) -> list[int]:
    """The highest MIDI pitch struck at each onset of a cleaned (or any) kern text, in order;
    held notes (tie continuations) and rests strike nothing."""
    out: list[int] = []
    for line in text.split("\n"):
        if not line or line[0] in "*!=@":
            continue
        top = None
        for tok in line.split("\t"):
            if tok == ".":
                continue
            for sub in tok.split(" "):
                dur, pitch, tie = read_note(sub)
                if pitch is not None and dur is not None and tie not in ("_", "]") and (top is None or pitch > top):
                    top = pitch
        if top is not None:
            out.append(top)
    return out


def melody_passages(text: str, width: int = WIDTH) -> list[tuple[str, ...]]:
    """Runs of ``width`` intervals (semitones, up to two octaves either way) of the top line: the
    same in any key and any edition that keeps the tune."""
    line = top_line(text)
    steps = [str(max(-24, min(24, b - a))) for a, b in zip(line, line[1:])]
    return [tuple(steps[i : i + width]) for i in range(max(0, len(steps) - width + 1))]
