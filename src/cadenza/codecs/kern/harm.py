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

from cadenza.codecs.bar_chords import LINE, token_name, transposed_chord
from cadenza.music.humdrum.to_piece import kern_bars
from cadenza.music.humdrum.spines import BAR
from cadenza.music.harmony import NO_CHORD, Chord, parse_chord, read_chords
from cadenza.music.humdrum.mxhm import MXHM_KIND, add_harmony_spine, mxhm_chord, mxhm_value  # noqa: F401 (restoring writes the spine through here)


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


def spine_of_chord_lines(kern: str) -> str:
    """A whole kern file whose chord lines (a continuation's, written into the user's file as
    global comments) become an ``**mxhm`` spine: each chord on the next data line, as restoring
    places them; a file without chord lines is returned as it is."""
    lines, chords_at, pending = [], {}, None
    for line in kern.rstrip("\n").split("\n"):
        if is_chord_line(line):  # written into the file's columns: "!!chord: F" then nulls
            pending = line_chord(line.split("\t")[0]) or NO_CHORD
            continue
        if pending is not None and line and not line.startswith(("*", "!", "=")):
            chords_at[len(lines)], pending = pending, None
        lines.append(line)
    return "\n".join(add_harmony_spine(lines, chords_at)) + "\n" if chords_at else kern


def harmony_of(kern: str) -> list[tuple[float, str]]:
    """(quarter, value) of each chord in a restored file's ``**mxhm`` spine (the last column):
    the chords stand on their bars' first data lines, so each is at its bar's barline time."""
    lines = kern.split("\n")
    head = next((i for i, x in enumerate(lines) if x.startswith("**")), None)  # a continued file opens with its own records
    if head is None or not lines[head].endswith("\t**mxhm"):
        return []
    _, times = kern_bars(kern)
    out, bar = [], -1
    for line in lines[head + 1:]:
        if line.startswith("="):
            bar += 1
        elif line and not line.startswith(("*", "!")):
            value = line.rsplit("\t", 1)[-1]
            if value not in (".", "none") and 0 <= bar < len(times):
                out.append((times[bar], value))
    return out


def marker_chords(kern: str) -> list[tuple[float, str]]:
    """(quarter, chord symbol) of a restored file's ``**mxhm`` chords (:func:`harmony_of`), as
    :class:`~cadenza.music.Piece` ``chords``: the ``.mid`` beside the ``.krn`` gets a marker a
    bar, as the MIDI codecs' files do. A file without the spine: none (its ``.mid`` as before)."""
    return [(q, chord.name) for q, value in harmony_of(kern) if (chord := mxhm_chord(value)) is not None]
