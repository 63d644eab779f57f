"""Chords in the training text: the chord of every bar, as the chord reader
(:mod:`cadenza.music.harmony`) hears it, written where the bar begins, so a model learns to
write a bar that sounds like the chord it was just told (``prepare --condition chords``).

A chord token is root and quality, no inversion (``<chord:C7>``, ``<chord:F#m>``,
``<chord:N>`` where the reader hears none): twelve roots x eleven qualities + N is a small,
closed vocabulary, and a musician's ``--chords`` names those. For the word codecs (notewise,
chordwise) it is one word at each bar line of the grid, a label-like word no music word looks
like; the bars come from the piece's time signatures (:func:`~cadenza.music.harmony.bar_grid`),
and a notewise ``wait`` across a bar line is cut in two there. The kern form is
:mod:`cadenza.codecs.kern.harm`. Words and lines both carry a :class:`Chord`, the one value
from the reader to the token to the file.
"""

from __future__ import annotations

import re
from typing import Callable, Iterable, Sequence

from cadenza.music.harmony import NO_CHORD, Chord, bar_grid, parse_chord

KIND = "chords"  # the --condition kind
LINE = "!!chord: "  # how a kern chord line opens (see cadenza.codecs.kern.harm)
_WORD = re.compile(r"<chord:([^<>\s]+)>")


def token_name(chord: Chord) -> str:
    """The chord as tokens write it: root and quality, the bass left out (``"C7"``, ``"N"``)."""
    return "N" if chord.root is None else Chord(chord.root, chord.quality).name


def chord_word(chord: Chord) -> str:
    """``<chord:C7>``: the word a word codec writes at a bar line."""
    return f"<chord:{token_name(chord)}>"


def word_chord(word: str) -> Chord | None:
    """The chord a chord word names (None: not a chord word, or a name no chord has)."""
    m = _WORD.fullmatch(word)
    if not m:
        return None
    try:
        return parse_chord(m.group(1))
    except Exception:  # a sampled word naming no chord is no chord word
        return None


def is_chord_word(word: str) -> bool:
    return _WORD.fullmatch(word) is not None


def transposed_chord(chord: Chord, semitones: int) -> Chord:
    """``chord`` moved ``semitones`` (N stays N)."""
    return chord if chord.root is None else Chord((chord.root + semitones) % 12, chord.quality)


def strip_chord_words(text: str) -> str:
    """Word-codec text without its chord words (what the decoder reads)."""
    return " ".join(w for w in text.split() if not is_chord_word(w))


def bar_steps(time_signatures: Iterable[Sequence[float]], end_quarters: float, steps_per_quarter: int) -> list[int]:
    """The grid step each bar begins at, up to ``end_quarters``."""
    return [int(round(b.start * steps_per_quarter)) for b in bar_grid(time_signatures, end_quarters)]


def insert_bar_words(words: list[str], begins: list[int], starts: list[int], bar_words: list[str],
                     wait: Callable[[int], str] | None = None, wait_of: Callable[[str], int | None] | None = None) -> list[str]:
    """``words`` with ``bar_words[b]`` at grid step ``starts[b]``: before the first word that
    begins at or after it (``begins``: the step each word begins at). With ``wait`` and
    ``wait_of`` (notewise: how many steps a word moves time on, None for none) a wait across a
    bar line is cut in two there. Bars starting after the last word are left out."""
    out: list[str] = []
    b, n = 0, min(len(starts), len(bar_words))
    for w, now in zip(words, begins):
        while b < n and starts[b] <= now:
            out.append(bar_words[b])
            b += 1
        step = wait_of(w) if wait_of is not None else None
        if not step or wait is None:
            out.append(w)
            continue
        end = now + step
        while b < n and starts[b] < end:
            out.append(wait(starts[b] - now))
            now = starts[b]
            out.append(bar_words[b])
            b += 1
        out.append(wait(end - now))
    return out


def chord_words_of(text: str) -> list[Chord]:
    """The chords of a word text's chord words, in order (N for a word naming no chord)."""
    return [word_chord(w) or NO_CHORD for w in text.split() if is_chord_word(w)]


def chord_word_prefixes(words: list[str]) -> list[tuple[int, str]]:
    """(word offset, prefix) at each chord word: a training window starting from there up to
    the next one is told the chord of the bar it starts in (see
    :func:`cadenza.data.dataset.write_prefixes`)."""
    out: list[tuple[int, str]] = [(0, "")]
    for i, w in enumerate(words):
        if is_chord_word(w):
            out.append((i + 1, w + " "))
    return out


def chord_tokens(names: list[str], unit: str) -> list[str]:
    """The tokens that write the chords ``names`` in a codec of ``unit`` ("word": the chord
    words; "char": the characters of the chord lines)."""
    if unit == "word":
        return [f"<chord:{n}>" for n in names]
    return sorted({ch for n in names for ch in f"{LINE}{n}\n"})


def chord_marks(tokens: list[str], unit: str) -> list[bool]:
    """Which of ``tokens`` write a chord (a chord word; a chord line's characters, its newline
    included): what is left out to read the same text without its chords."""
    if unit == "word":
        return [is_chord_word(t) for t in tokens]
    out: list[bool] = []
    line_start, inside = True, False
    for k, t in enumerate(tokens):
        if line_start:
            inside = "".join(tokens[k : k + len(LINE)]) == LINE
        out.append(inside)
        line_start = t == "\n"
    return out



def moved_chords(tokens: list[str], marks: list[bool], unit: str, semitones: int) -> tuple[list[str], list[bool]]:
    """``tokens`` with every chord (``marks``, see :func:`chord_marks`) moved ``semitones``, the
    music left as it is: the same text told the wrong chords (a model that follows its chords
    should find the music less likely)."""
    out: list[str] = []
    out_marks: list[bool] = []
    k = 0
    while k < len(tokens):
        if not marks[k]:
            out.append(tokens[k])
            out_marks.append(False)
            k += 1
            continue
        if unit == "word":
            new = [chord_word(transposed_chord(word_chord(tokens[k]) or NO_CHORD, semitones))]
            k += 1
        else:
            end = k
            while end < len(tokens) and marks[end]:
                end += 1
            line = "".join(tokens[k:end])
            chord = parse_chord(line[len(LINE) :].strip()) if line[len(LINE) :].strip() != "N" else NO_CHORD
            new = list(f"{LINE}{token_name(transposed_chord(chord, semitones))}\n")
            k = end
        out += new
        out_marks += [True] * len(new)
    return out, out_marks
