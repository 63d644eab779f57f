"""Chord lines (:mod:`.harm`) in constrained kern sampling: beside each sample's
:class:`~cadenza.codecs.kern.checker.KernChecker`, a small automaton for the one line the checker
never sees, ``!!chord: NAME`` right after a barline.

A model trained with chords may write the line at a bar start, naming a chord the tokens know;
with a progression asked for (``--chords``) the sampler writes bar k's line itself, a character
at a time, chord ``k`` of the progression (it repeats when the piece has more bars), as the
conditioning writes metre and key. Bar ``k`` counts the prime's chord lines too, so a form's
later phrase goes on with the progression; a continued file's bars carry none, so its new bars
start it. The checker gets the music only, so bars are checked exactly
as without chords.

The lines also tell chord guidance (:mod:`.chord_guidance`) each bar's chord. A model without
chord lines (every bundled one) writes none, but may still be guided: then bar ``k`` is the
``k``-th barline the text opens (a continued file's bars: its last barline opens bar 0).
"""

from __future__ import annotations

from cadenza.codecs.kern.harm import chord_line, is_chord_line
from cadenza.music.chord_names import QUALITIES
from cadenza.music.harmony import NO_CHORD, Chord, parse_chord


def all_lines(vocab: list[str]) -> list[str]:
    """Every chord line (with its newline) the vocabulary's characters can spell."""
    chars = set(vocab)
    lines = [chord_line(Chord(r, q)) + "\n" for q in QUALITIES for r in range(12)] + [chord_line(NO_CHORD) + "\n"]
    return [x for x in lines if set(x) <= chars]


def declared_chords(text: str, context: dict, resumed: bool = False) -> list[tuple[int, str]]:
    """(offset in ``text``, chord line) for a guided sample no one constraint followed bar by bar
    (a form's phrases, beams): as :class:`ChordLines` counts without chord lines, the ``k``-th
    barline of the text (the prime's included) opens bar ``k`` under chord ``k`` of
    ``context["chords"]``, so the chords reach the ``**mxhm`` spine as a new piece's do.
    ``resumed``: ``text`` is a continued file's new bars, after its last barline, which opened
    the first. None where the text writes its own lines (a model prepared with chords) or none
    were asked."""
    names = list(context.get("chords") or [])
    if not names or not context.get("chord_strength") or any(is_chord_line(x) for x in text.split("\n")):
        return []
    out, k, i = [], 0, text.find("@\n")
    if resumed:
        out, k = [(0, chord_line(parse_chord(names[0])) + "\n")], 1
    while i >= 0:
        out.append((i + 2, chord_line(parse_chord(names[k % len(names)])) + "\n"))
        k, i = k + 1, text.find("@\n", i + 2)
    return out


class ChordLines:
    """Which chord-line characters each sample may take (see the module docstring).
    ``progression``: the chords asked for, bar by bar (None: the model chooses)."""

    def __init__(self, vocab: list[str], progression: list[Chord] | None, n: int):
        self.on = "!" in vocab and bool(all_lines(vocab))
        self.free = all_lines(vocab) if self.on else []
        self.asked = [chord_line(c) + "\n" for c in progression] if progression and self.on else []
        self.progression = list(progression or [])
        self.current: list[int | None] = [None] * n  # per sample: the progression's index for the bar being written
        self.typed: list[str | None] = [None] * n  # per sample: the chord line so far (None: not in one)
        self.bars = [0] * n  # per sample: chord lines so far, the prime's included (its bar count)
        self.after_bar = [False] * n  # per sample: right after "@\n", where a chord line may go
        self.last = [""] * n  # per sample: the character pushed last
        self.sampling = False  # the prime is read first: its chord lines are not the sampler's

    def copy_rows(self, idx: list[int]) -> None:
        self.typed = [self.typed[i] for i in idx]
        self.bars = [self.bars[i] for i in idx]
        self.after_bar = [self.after_bar[i] for i in idx]
        self.last = [self.last[i] for i in idx]
        self.current = [self.current[i] for i in idx]

    def grow(self, n: int) -> None:
        """From the prime's one row to ``n`` samples."""
        self.typed, self.bars, self.after_bar, self.last = self.typed * n, self.bars * n, self.after_bar * n, self.last * n
        self.current = self.current * n

    def begin(self, resumed: bool) -> None:
        """The prime is read: sampling starts. A continued file's bars carry no chords; without
        chord lines its last barline opens the first bar of the progression."""
        self.sampling = True
        if resumed and not self.on and self.progression:
            self.bars = [int(a) for a in self.after_bar]
            self.current = [0 if a else None for a in self.after_bar]

    def chord_now(self, r: int) -> Chord | None:
        """The chord asked for the bar sample ``r`` is writing (None: none asked, or before the
        first bar)."""
        k = self.current[r]
        return None if k is None or not self.progression else self.progression[k]

    def _targets(self, r: int) -> list[str]:
        if self.asked and self.sampling:
            return [self.asked[self.bars[r] % len(self.asked)]]
        return self.free

    def must_write(self, r: int) -> bool:
        """Whether sample ``r`` must open a chord line now (a progression was asked for)."""
        return bool(self.on and self.asked and self.sampling and self.after_bar[r] and self.typed[r] is None)

    def inside(self, r: int) -> bool:
        return self.typed[r] is not None

    def may_open(self, r: int) -> bool:
        return self.on and self.after_bar[r] and self.typed[r] is None

    def next_chars(self, r: int) -> set[str]:
        """The characters that go on sample ``r``'s chord line (it is inside one)."""
        typed = self.typed[r] or ""
        return {t[len(typed)] for t in self._targets(r) if t.startswith(typed) and len(t) > len(typed)}

    def takes(self, r: int, ch: str) -> bool:
        """Push ``ch`` into sample ``r``: True where it belongs to a chord line (the checker must
        not see it)."""
        last, self.last[r] = self.last[r], ch
        if self.typed[r] is None:
            if ch == "!" and self.on and self.after_bar[r]:
                self.typed[r], self.after_bar[r] = "!", False
                return True
            self.after_bar[r] = last == "@" and ch == "\n"
            if self.after_bar[r] and not self.on:  # no chord lines: the barline opens the bar
                self._bar_begins(r)
            return False
        self.typed[r] += ch
        if ch == "\n":
            self.typed[r] = None
            self._bar_begins(r)
        return True

    def _bar_begins(self, r: int) -> None:
        self.bars[r] += 1
        if self.progression:
            self.current[r] = (self.bars[r] - 1) % len(self.progression)
