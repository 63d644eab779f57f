"""Chord guidance for kern (``--chord-strength``, :mod:`cadenza.codecs.chord_tones`): at each
character that starts or spells a note's pitch, the choices that end on a chord tone of the
bar's chord (:class:`~cadenza.codecs.kern.chord_lines.ChordLines` counts the bars) get the bonus.

A kern pitch is a letter, repeated for the octave, and its accidentals, written as sounded (the
key signature implies none): ``c``, ``cc``, ``C``, ``e-``, ``f#``, ``bn``. Where the letter is
chosen, the letters that spell a chord tone are favoured among the letters (a rest, a longer
duration keep their probability); after it, the accidental (or none) that lands on a chord tone
is. Chord tones are spelled as a musician would: a white key by its letter, a black key as
either its sharp or its flat (Bb: ``b-`` or ``a#``), never ``b#`` for C. Durations, rests,
barlines and every other character are untouched; the grammar mask stays the hard constraint."""

from __future__ import annotations

import numpy as np

from cadenza.codecs.chord_tones import favour
from cadenza.music.harmony import Chord

NATURAL = {"c": 0, "d": 2, "e": 4, "f": 5, "g": 7, "a": 9, "b": 11}
ACCIDENTALS = "#-n"
SEPARATORS = "\t\n "  # a token ends at a tab or a newline, a note of a chord at a space


def spellings(chord: Chord) -> frozenset[tuple[str, str]]:
    """(letter, accidental) pairs that spell the chord's tones: ``""`` for a white key, ``"#"``
    and ``"-"`` for a black one."""
    tones = set(chord.pitch_classes)
    whites = set(NATURAL.values())
    out = set()
    for letter, pc in NATURAL.items():
        if pc in tones:
            out.add((letter, ""))
        if (pc + 1) % 12 in tones and (pc + 1) % 12 not in whites:
            out.add((letter, "#"))
        if (pc - 1) % 12 in tones and (pc - 1) % 12 not in whites:
            out.add((letter, "-"))
    return frozenset(out)


def pitch_state(token: str) -> str | tuple[str, str] | None:
    """Where a kern data token being written stands: ``"letter"`` (a pitch letter may come
    next), (letter, accidentals so far) inside a pitch, or None (no pitch to choose: a rest, an
    interpretation, a comment, a barline, or the pitch is complete)."""
    if token[:1] in ("*", "!", "=", "@"):
        return None
    for i, ch in enumerate(token):
        if ch.lower() in NATURAL:
            rest = token[i:].lstrip(ch)
            return (ch.lower(), rest) if all(c in ACCIDENTALS for c in rest) else None
        if ch == "r":
            return None
    return "letter"


class KernGuide:
    """The bonus rows of one vocabulary: which characters are pitch letters, accidentals, and
    which choices favour each chord at each pitch state (cached)."""

    def __init__(self, vocab: list[str], strength: float):
        self.vocab, self.strength = vocab, strength
        self.letters = np.array([len(t) == 1 and t.lower() in NATURAL for t in vocab])
        self.everything = np.ones(len(vocab), dtype=bool)
        self._rows: dict[tuple[object, Chord], tuple[np.ndarray, np.ndarray]] = {}

    def _row(self, state: str | tuple[str, str], chord: Chord) -> tuple[np.ndarray, np.ndarray]:
        """(group, favoured) for a pitch state under ``chord``."""
        got = self._rows.get((state, chord))
        if got is None:
            spelled = spellings(chord)
            if state == "letter":
                names = {letter for letter, _ in spelled}
                got = (self.letters, np.array([len(t) == 1 and t.lower() in names for t in self.vocab]))
            else:
                letter, acc = state
                here = (letter, acc.replace("n", "")) in spelled

                def ends_on_tone(t: str) -> bool:
                    if t in ("#", "-"):
                        return (letter, acc + t) in spelled
                    if t == "n":
                        return (letter, "") in spelled
                    return here  # the same letter again (an octave), or the pitch ends here

                got = (self.everything, np.array([ends_on_tone(t) for t in self.vocab]))
            self._rows[(state, chord)] = got
        return got

    def guide(self, logits: np.ndarray, at: list[tuple[str, Chord] | None]) -> np.ndarray:
        """``logits`` (samples, vocab) with each row favouring its chord's tones; ``at``: per
        row, (the data token written so far, the bar's chord), None where nothing is guided."""
        out = logits
        for r, got in enumerate(at):
            if got is None:
                continue
            state = pitch_state(got[0])
            if state is None:
                continue
            group, fav = self._row(state, got[1])
            row = favour(logits[r], group, fav, self.strength)
            if row is not logits[r]:
                if out is logits:
                    out = logits.copy()
                out[r] = row
        return out


def current_token(chars: list[str]) -> str:
    """The token a sample is writing: its characters since the last tab, newline or space."""
    i = len(chars)
    while i > 0 and chars[i - 1] not in SEPARATORS:
        i -= 1
    return "".join(chars[i:])
