"""Chords in cleaned kern text (``prepare --condition chords``): the line ``!!chord: C7`` right
after each ``@`` barline whose bar holds music, naming the chord the chord reader
(:mod:`cadenza.music.harmony`) hears in that bar (root and quality, see
:mod:`cadenza.codecs.bar_chords`).

Why a global comment line: Humdrum allows ``!!`` lines between any two records, whatever the
spine count, so the form is one and the same for a chorale, a piano piece and a dataset of many
layouts; the one kern reader (:func:`~cadenza.music.humdrum.spines.records`) skips comments, so
durations, pieces and bar checks read the music exactly as without chords. A chord spine in the
text the model reads (``**harm``/``**mxhm`` columns) would instead make every data line longer
and change every layout's column count.

Restoring turns the lines into what a score carries: an ``**mxhm`` spine (MusicXML's harmony
kinds, ``G dominant``, as Craig Sapp's musicxml2hum writes it) with each chord on its bar's first
data line, which verovio engraves as chord symbols above the staff (``G7``) and music21's
Humdrum reader leaves alone (its notes read as without it).
"""

from __future__ import annotations

from typing import Iterable

from cadenza.codecs.bar_chords import LINE, token_name, transposed_chord
from cadenza.music.humdrum.to_piece import kern_bars
from cadenza.music.humdrum.spines import BAR
from cadenza.music.harmony import NO_CHORD, Chord, parse_chord, read_chords

# chord quality -> MusicXML <kind> (what **mxhm holds and verovio turns back into a symbol)
MXHM_KIND = {"major": "major", "minor": "minor", "diminished": "diminished", "augmented": "augmented", "dominant7": "dominant",
             "minor7": "minor-seventh", "major7": "major-seventh", "half-diminished7": "half-diminished",
             "diminished7": "diminished-seventh", "sus4": "suspended-fourth", "sus2": "suspended-second"}


def chord_line(chord: Chord) -> str:
    return LINE + token_name(chord)


def is_chord_line(line: str) -> bool:
    return line.startswith(LINE)


def line_chord(line: str) -> Chord | None:
    """The chord a chord line names (None: not one, or a name no chord has)."""
    if not is_chord_line(line):
        return None
    try:
        return parse_chord(line[len(LINE) :].strip())
    except Exception:  # a sampled line naming no chord is no chord
        return None


def with_chords(text: str) -> str:
    """Cleaned kern ``text`` with each bar's chord line after its ``@`` (bars without music:
    none). The bars are the text's own (:func:`~cadenza.music.humdrum.to_piece.kern_bars`)."""
    lines = text.split("\n")
    piece, times = kern_bars(text)
    end = piece.end
    spans = [(t, times[k + 1] if k + 1 < len(times) else end) for k, t in enumerate(times)]
    keep = [k for k, (a, b) in enumerate(spans) if b > a + 1e-9]
    chords = dict(zip(keep, read_chords(piece, [(a, b, a) for a, b in (spans[k] for k in keep)]))) if keep else {}
    out, k = [], 0
    for line in lines:
        out.append(line)
        if line == BAR:
            if k in chords:
                out.append(chord_line(chords[k]))
            k += 1
    return "\n".join(out)


def strip_chord_lines(text: str) -> str:
    return "\n".join(x for x in text.split("\n") if not is_chord_line(x))


def text_chords(text: str) -> list[Chord]:
    """The chords a text's chord lines name, in order (N for a line naming no chord)."""
    return [line_chord(x) or NO_CHORD for x in text.split("\n") if is_chord_line(x)]


def transpose_chord_line(line: str, semitones: int) -> str:
    chord = line_chord(line)
    return line if chord is None else chord_line(transposed_chord(chord, semitones))


def mxhm_value(chord: Chord) -> str:
    """``G dominant``, ``B- major``: a chord as **mxhm writes it (the root as kern spells it)."""
    if chord.root is None:
        return "none"
    root = token_name(Chord(chord.root, "major")).replace("b", "-")
    return f"{root} {MXHM_KIND[chord.quality]}"


def add_harmony_spine(lines: Iterable[str], chords_at: dict[int, Chord]) -> list[str]:
    """A restored kern file's ``lines`` with an ``**mxhm`` spine on the right: ``chords_at``
    maps a data line's index to the chord that starts there. The new spine is never split or
    merged, so every line gets one more token of its own kind."""
    out = []
    for i, line in enumerate(lines):
        if not line or line.startswith("!!"):
            out.append(line)
            continue
        first = line.split("\t", 1)[0]
        if first.startswith("**"):
            extra = "**mxhm"
        elif first == "*-" or (line.split("\t") and all(t == "*-" for t in line.split("\t"))):
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


def harmony_of(kern: str) -> list[tuple[float, str]]:
    """(quarter, value) of each chord in a restored file's ``**mxhm`` spine (the last column):
    the chords stand on their bars' first data lines, so each is at its bar's barline time."""
    lines = kern.split("\n")
    if not lines or not lines[0].endswith("\t**mxhm"):
        return []
    _, times = kern_bars(kern)
    out, bar = [], -1
    for line in lines[1:]:
        if line.startswith("="):
            bar += 1
        elif line and not line.startswith(("*", "!")):
            value = line.rsplit("\t", 1)[-1]
            if value not in (".", "none") and 0 <= bar < len(times):
                out.append((times[bar], value))
    return out
