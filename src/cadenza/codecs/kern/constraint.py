"""Constrained kern decoding: a :class:`~cadenza.codecs.kern.checker.KernChecker` beside each
sample, and the metre declarations of text sampled without one (read with the checker, so
bars are timed exactly as the sampler timed them)."""

from __future__ import annotations

from collections import Counter
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import numpy as np

from cadenza import CadenzaError
from cadenza.codecs.kern.chord_guidance import KernGuide, current_token
from cadenza.codecs.kern.chord_lines import ChordLines
from cadenza.codecs.kern.checker import KernChecker
from cadenza.codecs.kern.grammar import METERS, TPQ
from cadenza.codecs.kern.shapes import MOZART, TokenShapes
from cadenza.codecs.kern.harm import chord_line
from cadenza.music.harmony import parse_chord

if TYPE_CHECKING:  # the torch loop and beams hand tensors; the numpy loop uses pick()
    import torch


def signature_of_ticks(ticks: int) -> tuple[int, int] | None:
    """Any bar length as a time signature (10 quarters: 10/4; 2.5: 5/8), None if it has none."""
    q = Fraction(ticks, TPQ)
    for den in (4, 8, 16, 32):
        num = q * den / 4
        if num.denominator == 1 and num.numerator > 0:
            return int(num.numerator), den
    whole = q / 4  # a tuplet-length bar: Humdrum (and music21) take any denominator, e.g. 11/12
    if q > 0 and whole.denominator <= 192:
        return int(whole.numerator), int(whole.denominator)
    return None


def declare_meters(text: str, vocab: list[str], spines: int) -> tuple[tuple[int, int] | None, list[tuple[int, str]]]:
    """Read kern model text bar by bar (all voices of a bar end together) and return the metre
    most of its bars have, plus ``*M`` lines to insert before the bars of another length (and back
    after them), so every bar matches a declared metre. Used where the sampler did not fix the
    metre itself (form sections, beams)."""
    offered = ["\x00" + t if t in KernConstraint.NOT_IN_GRAMMAR else t for t in vocab]
    c = KernChecker(offered, spines, None)
    bars: list[tuple[int, int, int]] = []  # (offset of the bar's start, columns there, ticks)
    start, ticks = (0, spines), 0
    try:
        for i, ch in enumerate(text):
            if ch == "@":
                ticks = c.elapsed
            c.push(ch)
            if ch == "\n" and c.at_bar_boundary:
                if ticks > 0:
                    bars.append(start + (ticks,))
                start = (i + 1, c.n)
    except ValueError:
        pass  # text the checker would not have written (unconstrained): declare what was read
    sigs = [signature_of_ticks(t) for _, _, t in bars]
    common = Counter(x for x in sigs[1:] or sigs if x).most_common(1)
    if not common:
        return None, []
    meter = common[0][0]
    out, current = [], meter
    for k, ((offset, n, t), sig) in enumerate(zip(bars, sigs)):
        if sig is None:
            continue
        if k == 0 and t <= bars[-1][2] and sig != meter:
            want = meter  # a short first bar is a pickup
        else:
            want = sig
        if want != current:
            out.append((offset if k else -1, "\t".join([f"*M{want[0]}/{want[1]}"] * n) + "\n"))
            current = want
    if out and out[0][0] == -1:
        meter, out = tuple(int(x) for x in out[0][1].split("\t")[0][2:].split("/")), out[1:]
    return meter, out


def meter_of_ticks(ticks: int, checker) -> tuple[int, int] | None:
    """A bar of ``ticks`` as a time signature (3 quarters: 3/4; 1.5: 3/8), or None if no
    signature the checker knows has that length."""
    q = Fraction(ticks, TPQ)
    for den, mult in ((4, 1), (8, 2), (16, 4)):
        num = q * mult
        if num.denominator == 1 and (int(num.numerator), den) in METERS and checker.can_fill(ticks):
            return int(num.numerator), den
    return None


class KernConstraint:
    """Runs a :class:`~cadenza.codecs.kern.checker.KernChecker` beside each sample so the sampler can only
    pick characters that keep the kern valid: one token per spine, durations that fill each bar of
    the metre, balanced ties and beams, barlines only when every spine is full. When the model
    puts (almost) no probability on any valid character, the checker's cheapest valid one is
    forced. ``forced`` counts, per sample, every step where the checker changed what the
    sampler would have drawn: a forced character, or one drawn from the masked distribution
    where the unmasked draw (:meth:`observe`) was invalid."""

    # Probability left on valid characters under which a step is "forced": renormalising a
    # sliver of probability over whatever is still valid sends a model into junk it never saw.
    FORCE_BELOW = 0.01
    FIRST_BARS_AT_MOST = 4  # quarters
    # Grace notes and fermatas are left out of the generation grammar altogether: they take no
    # time, so a model that overruns a bar could otherwise go on writing nothing but them.
    NOT_IN_GRAMMAR = frozenset("q;")
    # Signifiers the checker accepts in real files but generation offers only when nothing else
    # is valid: ornaments, editorial and placement marks, hidden tokens, fermatas and grace
    # notes. They add no duration (a trailing q turns a note into a grace note), and a weak
    # model that starts stacking them (``4cc'yy<>TtX``) never gets back to music.
    NOT_OFFERED = frozenset("`~^zTtSsMmWwOPpyXx:<>&}{q;")

    def __init__(self, vocab: list[str], context: dict[str, Any], n: int, prime: str, chords: bool = False):
        header = context.get("header") or {}
        # continuing a user's file: the checker starts where the user's bars end (the header in
        # force and a barline), not on bars it could not have written itself
        resume = context.get("resume")
        prime = resume or prime
        spines = int(header.get("spines") or 2)
        self.clefs = list(header.get("clefs") or []) or None  # the columns' opening clefs
        # the token shapes the training corpus writes (learned by `prepare`); runs made before
        # datasets recorded them get Mozart's, the table the bundled model was checked with
        self.shapes = TokenShapes.from_dict(context["shapes"]) if context.get("shapes") else MOZART
        # A metre the musician chose (or drawn from the corpus, see .conditioning) is enforced
        # from the first bar: every bar but a pickup and the last fills it, and no other metre,
        # key or key signature may be written. Without one (a model trained on the 2015 text,
        # which carries no metre), the model decides how long its bars are: the checker starts
        # unmetered (every voice of a bar the same length) and adopts the length of the first
        # complete bar as the metre from then on; restore() declares that metre.
        fixed = context.get("metre")  # a Metre (cadenza.music.metre_key)
        self.fixed: tuple[int, int] | None = (fixed.numerator, fixed.denominator) if fixed is not None else None
        self.vocab = vocab
        self.offered = ["\x00" + t if t in self.NOT_IN_GRAMMAR else t for t in vocab]
        self.stoi = {t: i for i, t in enumerate(vocab)} | {t: i for i, t in enumerate(self.offered)}
        self.full: set[int] = set()  # samples rescued onto the full grammar
        self.discouraged = np.array([t in self.NOT_OFFERED for t in vocab])
        self._offer: dict[int, tuple[np.ndarray, np.ndarray, bool]] = {}  # rows() per checker mask
        self._no_star: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self.prime = prime
        # One grammar for what a prime may hold and what the sampler may write: a prime (the
        # user's bars, or a form's phrase written by this sampler and repeated elsewhere) is read
        # with the lenient grammar, which holds every shape the sampler writes, its escape when
        # no corpus shape fits included (allowed.narrow); the corpus's shapes apply from the
        # first character the sampler writes.
        first = self._fresh(self.offered, spines, lenient=True)
        # chord lines after barlines, for a model prepared with chords (.chord_lines)
        self.chords = ChordLines(vocab if chords else [], [parse_chord(x) for x in context.get("chords") or []], 1)
        self._chord_rows: dict[frozenset[str], np.ndarray] = {}
        # chord guidance (.chord_guidance): a model without chord lines is only guided, and its
        # bars' chords are declared (chord lines put into the text for the **mxhm spine)
        strength = float(context.get("chord_strength") or 0)  # checked by the request
        self.guide = KernGuide(vocab, strength) if strength and self.chords.progression else None
        if self.chords.progression and not self.chords.on and self.guide is None:
            raise CadenzaError("--chords: this model writes no chord lines (prepare its dataset with --condition chords), so only guidance follows them: give --chord-strength above 0")
        self.chord_lines: list[list[tuple[int, str]]] = [[]]
        self.meters: list[tuple[int, int] | None] = [self.fixed]
        self.count, self.bars_before, self.bar_start, self.bar_ticks = [0], [[]], [(0, spines)], [0]
        self.texts: list[list[str]] = [[]]  # per sample, its characters (a list: += on a str copies)
        self.adopted_at, self.spines = [None], spines
        for i, ch in enumerate(prime):
            try:
                self._push(first, 0, ch)
            except ValueError as exc:
                raise CadenzaError(f"--prime is not valid kern for this model at character {i} ({ch!r}): {exc} (use --no-constrained to sample without the checker)") from None
        if self.fixed:
            if first.meter_str != f"*M{self.fixed[0]}/{self.fixed[1]}":
                raise CadenzaError(f"the prime declares {first.meter_str or 'no metre'} where *M{self.fixed[0]}/{self.fixed[1]} was asked for")
            first.fix_header()
        first.use_shapes(self.shapes)
        if resume:
            first.bars_completed = max(first.bars_completed, 1)  # the user's bars came first
        self.checkers = [first] + [first.copy() for _ in range(n - 1)]
        self.chords.grow(n)
        self.chords.begin(bool(resume))
        self.chord_lines = [[] if resume else list(self.chord_lines[0]) for _ in range(n)]
        self.meters = self.meters * n
        self.count = self.count * n
        self.bars_before = [list(self.bars_before[0]) for _ in range(n)]
        self.bar_start = self.bar_start * n
        self.bar_ticks = self.bar_ticks * n
        self.texts = [list(self.texts[0]) for _ in range(n)]
        self.adopted_at = self.adopted_at * n
        self.forced = [0] * n
        # at most one interpretation line (clef, split, merge...) per bar: otherwise a model that
        # does not want to close a bar finds that "*clefF4" lines are always valid and loops
        state = self._line_state(prime)
        self.lines = [state] * n
        self.star = self.stoi.get("*")
        self._bar = self.stoi.get("@")
        self._only_bar = np.arange(len(vocab)) == self.stoi.get("@", -1)
        self._top_suffices = len(vocab) * self.FORCE_BELOW <= 1

    def _push(self, checker, r: int, ch: str) -> None:
        if self.chords.takes(r, ch):  # a chord line (.chord_lines): text, but not the checker's
            self.count[r] += 1
            self.texts[r].append(ch)
            return
        if ch == "\n" and self.chords.after_bar[r] and not self.chords.on and self.chords.chord_now(r) is not None:
            self.chord_lines[r].append((self.count[r] + 1, chord_line(self.chords.chord_now(r)) + "\n"))
        if ch == "@":
            self.bar_ticks[r] = checker.elapsed  # the bar is closed (and its clock reset) on "@"
        checker.push(ch)
        self.count[r] += 1
        self.texts[r].append(ch)
        if ch == "\n" and checker.at_bar_boundary and checker.meter_str is None and self.fixed is None:
            ticks = self.bar_ticks[r]
            if ticks > 0:
                # where each bar before the metre was fixed starts, its columns and length, so
                # that bars of another length can declare their own time signature
                self.bars_before[r].append(self.bar_start[r] + (ticks,))
                # the first bar may be a pickup: the metre is the length of a later bar
                meter = meter_of_ticks(ticks, checker) if len(self.bars_before[r]) >= 2 else None
                if meter is not None:
                    checker.set_meter(meter)  # the same switch a *M line makes at a bar start
                    self.meters[r] = meter
                    self.adopted_at[r] = self.count[r]
            self.bar_start[r] = (self.count[r], checker.n)

    def _fresh(self, vocab: list[str], spines: int, lenient: bool = False) -> KernChecker:
        # the generation grammar: only token shapes the corpus writes (no beamed rests, no
        # pile-ups of signifiers), so every sample loads in strict kern parsers too, and
        # pitches within four ledger lines of their column's staff (lenient: any shape, for a prime)
        c = KernChecker(vocab, spines, self.fixed, shapes=None if lenient else self.shapes, clefs=self.clefs)
        if self.fixed is None:
            # until the metre is adopted, bars may be at most a 4/4 bar long: nothing else would
            # make a model that never learnt to count close its first bars
            c.barlen = self.FIRST_BARS_AT_MOST * TPQ
        return c

    def _rescue(self, r: int) -> None:
        c = self._fresh(list(self.vocab), self.spines, lenient=True)
        lines = ChordLines(self.vocab if self.chords.on else [], None, 1)
        for i, ch in enumerate(self.texts[r]):
            if i == len(self.prime):
                c.use_shapes(self.shapes)
            if not lines.takes(0, ch):
                c.push(ch)
            if self.fixed and i + 1 == len(self.prime):
                c.fix_header()
            if self.adopted_at[r] is not None and i + 1 == self.adopted_at[r]:
                c.set_meter(self.meters[r])
        self.checkers[r] = c
        self.full.add(r)

    def declarations(self, r: int) -> list[tuple[int, str]]:
        """(offset in the text, interpretation line) so that every bar of sample ``r`` matches
        a declared metre: the header declares the adopted one; bars written before it was
        adopted that do not fit it (other than a short first bar, a pickup) get their own."""
        chords = list(self.chord_lines[r])  # a guided model's chords, where it wrote no chord lines
        if self.meters[r] is None or self.fixed:
            return chords
        bars = self.bars_before[r]
        metre_ticks = bars[-1][2]
        out = []
        for i, (offset, n, ticks) in enumerate(bars[:-1]):
            if i == 0 and ticks <= metre_ticks:
                continue
            sig = signature_of_ticks(ticks)
            if sig is not None:
                # offset -1: the first bar's own metre goes in the header (music21 reads a
                # metre line right after the opening barline as a second, conflicting one)
                out.append((-1 if i == 0 else offset, "\t".join([f"*M{sig[0]}/{sig[1]}"] * n) + "\n"))
        if out:
            offset, n, _ = bars[-1]
            out.append((offset, "\t".join([f"*M{self.meters[r][0]}/{self.meters[r][1]}"] * n) + "\n"))
        return out + chords

    @staticmethod
    def _line_state(text: str) -> tuple[bool, int]:
        """(at the start of a line, interpretation lines so far in this bar) after ``text``."""
        at_start, interp = True, 0
        for line in text.split("\n")[:-1]:
            interp = 0 if line.startswith("@") else interp + line.startswith("*")
        at_start = text == "" or text.endswith("\n")
        return at_start, interp

    def _advance(self, r: int, ch: str) -> None:
        at_start, interp = self.lines[r]
        if at_start:
            interp = 0 if ch == "@" else interp + (ch == "*")
        self.lines[r] = (ch == "\n", interp)

    def rows(self) -> np.ndarray:
        """Per sample, the characters it may take next: (samples, vocab) bool."""
        rows = []
        bar, star, offer = self._bar, self.star, self._offer
        for r, c in enumerate(self.checkers):
            chord_row = self._chord_row(r)
            if chord_row is not None:
                rows.append(chord_row)
                continue
            raw = c.allowed()
            got = offer.get(id(raw))
            if got is None:
                # not offered unless nothing else is valid (the grammar itself keeps them, so the
                # checker can never be left without a way on)
                plain = raw & ~self.discouraged
                row = plain if plain.any() else raw
                got = self._offer[id(raw)] = (raw, row, bool(row.any()))  # raw pins the id
            row = got[1]
            if not got[2]:
                # the generation grammar (no grace notes) has led into a corner only a grace note
                # gets out of: re-read that sample with the full grammar and go on from there
                self._rescue(r)
                c = self.checkers[r]
                row = c.allowed()
                if not row.any():
                    raise CadenzaError(f"constrained sampling: the kern checker has no valid character for sample(s) {[r]}; use --no-constrained")
            at_start, interp = self.lines[r]
            if at_start:
                # a full bar may go on only with grace notes; the model means a new bar: close it
                if bar is not None and c.elapsed >= c.barlen and row[bar]:
                    row = self._only_bar
                elif star is not None and interp >= 1:
                    got = self._no_star.get(id(row))
                    if got is None:
                        cut = row.copy()
                        cut[star] = False
                        got = self._no_star[id(row)] = (row, cut if row.sum() > 1 else row)
                    row = got[1]
            if self.chords.may_open(r):
                row = row | self._chars_row(frozenset("!"))
            rows.append(row)
        return rows[0][None] if len(rows) == 1 else np.stack(rows)

    def _chars_row(self, chars: frozenset[str]) -> np.ndarray:
        row = self._chord_rows.get(chars)
        if row is None:
            row = self._chord_rows[chars] = np.array([t in chars for t in self.vocab])
        return row

    def _chord_row(self, r: int) -> np.ndarray | None:
        """Inside a chord line, its next characters; where the sampler must open one, ``!``."""
        if self.chords.inside(r):
            return self._chars_row(frozenset(self.chords.next_chars(r)))
        return self._chars_row(frozenset("!")) if self.chords.must_write(r) else None

    def guided(self, logits: np.ndarray) -> np.ndarray:
        """``logits`` with chord guidance (the model's own where none is asked, or none applies)."""
        if self.guide is None:
            return logits
        at = [None if self.chords.inside(r) or self.chords.must_write(r) or self.chords.chord_now(r) is None
              else (current_token(self.texts[r]), self.chords.chord_now(r)) for r in range(len(self.checkers))]
        return self.guide.guide(logits, at)

    def mask(self) -> torch.Tensor:
        import torch

        return torch.from_numpy(self.rows().copy())  # rows() may be a read-only cached row

    def apply(self, logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(masked logits, rows where the model left no real probability on valid characters)."""
        m = self.mask()
        if self.guide is not None:
            import torch

            logits = torch.from_numpy(self.guided(logits.detach().cpu().numpy().copy())).to(logits)
        mass = (logits.softmax(-1) * m).sum(-1)
        self._mask = m
        return logits.masked_fill(~m, float("-inf")), mass < self.FORCE_BELOW

    def observe(self, free: torch.Tensor) -> None:
        """What the sampler would have drawn without the checker (same filters, same random
        draw, or the top token for beams): the next :meth:`push` counts the rows where that
        was invalid as changed steps (``forced``)."""
        self._changed = ~self._mask.gather(1, free.long()[:, None])[:, 0]

    def push(self, tokens: torch.Tensor, forced: torch.Tensor) -> torch.Tensor:
        import torch

        changed = getattr(self, "_changed", None)
        self._changed = None
        out = self._push_rows(tokens.tolist(), forced.tolist(), None if changed is None else changed.tolist())
        return torch.tensor(out, dtype=tokens.dtype)

    def pick(self, logits: np.ndarray, draw) -> np.ndarray:
        """:meth:`apply`, :meth:`observe` and :meth:`push` in one, for a numpy sampling loop:
        ``draw(logits, mask)`` gives (the token drawn from ``logits``, the same draw from the
        masked logits) per row."""
        m = self.rows()
        logits = self.guided(logits)
        free, chosen = draw(logits, m)
        forced, changed = [], []
        for r, (f, top) in enumerate(zip(free.tolist(), logits.argmax(-1).tolist())):
            row = m[r]
            changed.append(not row[f])
            # the model's top token has at least 1/vocab of the probability: where it is valid
            # and that is at least FORCE_BELOW, the step is not forced (no softmax needed)
            if self._top_suffices and row[top]:
                forced.append(False)
            else:
                e = np.exp(logits[r] - logits[r, top])
                forced.append(bool(e[row].sum() < self.FORCE_BELOW * e.sum()))
        return np.array(self._push_rows(chosen.tolist(), forced, changed), dtype=np.int64)

    def _push_rows(self, ids: list[int], forced: list[bool], changed: list[bool] | None) -> list[int]:
        for r, c in enumerate(self.checkers):
            chord_row = self._chord_row(r)
            if chord_row is not None:  # the chord line is the sampler's to write, not a forced step
                if not chord_row[ids[r]]:
                    ids[r] = int(np.flatnonzero(chord_row)[0])
            elif forced[r]:
                ids[r] = self.stoi[self.fallback(c)]
            if chord_row is None and (forced[r] or (changed is not None and changed[r])):
                self.forced[r] += 1
            self._push(c, r, (self.vocab if r in self.full else self.offered)[ids[r]])
            self._advance(r, self.vocab[ids[r]])
        return ids

    def fallback(self, checker) -> str:
        """The cheapest valid character: end the token or line if allowed (a model that has left
        the music gets back to it soonest), else whatever the checker says completes it."""
        allowed = checker.allowed_chars()
        for ch in ("\t", "\n", "@", "."):
            if ch in allowed:
                return ch
        fb = checker.forced_fallback()
        if fb in self.NOT_OFFERED:
            fb = next((c for c in sorted(allowed) if c not in self.NOT_OFFERED), fb)
        return fb

    def select(self, index: torch.Tensor) -> None:
        idx = index.tolist()
        if getattr(self, "_changed", None) is not None:
            self._changed = self._changed[index]
        self.checkers = [self.checkers[i].copy() for i in idx]
        self.chords.copy_rows(idx)
        self.chord_lines = [list(self.chord_lines[i]) for i in idx]
        self.forced = [self.forced[i] for i in idx]
        self.lines = [self.lines[i] for i in idx]
        self.meters = [self.meters[i] for i in idx]
        self.count = [self.count[i] for i in idx]
        self.bars_before = [list(self.bars_before[i]) for i in idx]
        self.bar_start = [self.bar_start[i] for i in idx]
        self.bar_ticks = [self.bar_ticks[i] for i in idx]
        self.texts = [list(self.texts[i]) for i in idx]
        self.adopted_at = [self.adopted_at[i] for i in idx]
        self.full = {k for k, i in enumerate(idx) if i in self.full}
