"""The sampler writes each bar's chord (``--chords``) for a word model prepared with chords
(:mod:`.bar_chords`): where a bar begins on the grid, the chord asked for that bar is offered
(the progression repeats when the piece is longer) and nothing that would begin the bar without
it; elsewhere chord words are not offered, nor a word that would step over a bar line, so every
bar line is reached and written. Bars are the context's metre from the prime's first step, and
chord ``k`` of the progression goes on bar ``k`` of the text: the prime's own chord words (a
form's earlier phrases, a continued file's bars read by the chord reader) are bars already told,
so the sampler writes from the first bar after them (a continuation's progression is turned to
start there, :func:`cadenza.generation.chords.with_progression`). The same protocol as
:class:`~cadenza.codecs.kern.constraint.KernConstraint` (``apply``/``observe``/``push``,
``pick``, ``select``, ``forced``), so every decoding loop takes it.

How a word moves time is the codec's: a :class:`WaitClock` (notewise: a ``wait`` moves time on)
or a :class:`StepClock` (chordwise: a letter, or a run of instrument words in score order, is
one step).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from cadenza import CadenzaError
from cadenza.codecs.bar_chords import chord_tokens, is_chord_word

if TYPE_CHECKING:  # the torch loop and beams hand tensors; the numpy loop uses pick()
    import torch

FORCE_BELOW = 0.01


class WaitClock:
    """Notewise time: the state is the grid step reached; a ``wait<n>`` moves it ``n`` on, every
    other word takes no time, so a note word at the bar line belongs to the new bar."""

    def __init__(self, vocab: list[str], wait_steps: Callable[[str], int | None]):
        self.waits = np.array([wait_steps(t) or 0 for t in vocab])
        self.chord = np.array([is_chord_word(t) for t in vocab])

    def start(self) -> Any:
        return 0

    def now(self, state: Any) -> int:
        return state

    def advance(self, state: Any, i: int) -> Any:
        return state + int(self.waits[i])

    def allowed(self, state: Any, room: int) -> np.ndarray:
        """Words that may come ``room`` steps before the next bar line (0: at it, none)."""
        if room <= 0:
            return np.zeros(len(self.waits), dtype=bool)
        row = ~self.chord & (self.waits <= room)
        if not (row & (self.waits > 0)).any():  # no wait short enough: any wait, the chord comes late
            row = ~self.chord
        return row


_INSTRUMENT = re.compile(r"([a-z]+)[012]+")


class StepClock:
    """Chordwise time: the state is (steps begun, rank of the last instrument word in the step
    being written, -1: none). A letter begins a step; an instrument word begins one unless it
    follows an instrument of lower rank in score order (then it is the same step); other words
    (labels, chord words) take no time. A step begun at a bar line belongs to the new bar, but
    the instruments of the step in progress may still be written."""

    def __init__(self, vocab: list[str], rank: dict[str, int]):
        self.chord = np.array([is_chord_word(t) for t in vocab])
        self.letter = np.array([re.fullmatch(r"[a-z]", t) is not None for t in vocab])
        ranks = []
        for t in vocab:
            m = _INSTRUMENT.fullmatch(t)
            ranks.append(rank.get(m.group(1), 0) if m else -1)
        self.rank = np.array(ranks)
        self.instrument = self.rank >= 0

    def start(self) -> Any:
        return (0, -1)

    def now(self, state: Any) -> int:
        return state[0]

    def advance(self, state: Any, i: int) -> Any:
        now, last = state
        if self.letter[i]:
            return (now + 1, -1)
        r = int(self.rank[i])
        if r < 0:
            return state
        return (now + 1, r) if last < 0 or r <= last else (now, r)

    def allowed(self, state: Any, room: int) -> np.ndarray:
        if room > 0:
            return ~self.chord
        last = state[1]
        return self.instrument & (self.rank > last) if last >= 0 else np.zeros(len(self.rank), dtype=bool)


class WordChords:
    """Per sample: the clock's state, the chord words written (bars told), and the steps the
    sampler forced on the model (its own chord words are not counted)."""

    def __init__(self, vocab: list[str], context: dict[str, Any], n: int, prefix: str, steps_per_quarter: int, clock: Any):
        num, den = (context.get("time_signature") or [4, 4])[:2]
        self.bar = max(1, round(steps_per_quarter * 4 * int(num) / int(den)))
        self.vocab, self.clock = vocab, clock
        self.stoi = {t: i for i, t in enumerate(vocab)}
        words = chord_tokens(list(context["chords"]), "word")
        missing = [c for c in words if c not in self.stoi]
        if missing:
            raise CadenzaError(f"--chords: this model's words lack {', '.join(missing[:5])}; prepare its dataset with --condition chords (and --transpose all for every key)")
        self.asked = [self.stoi[c] for c in words]
        state, told = clock.start(), 0
        for w in prefix.split():
            if is_chord_word(w):
                told += 1
            elif w in self.stoi:
                state = clock.advance(state, self.stoi[w])
        self.state, self.written = [state] * n, [told] * n
        self.forced = [0] * n
        self.meters: list[Any] = [None] * n  # bars are the context's metre: nothing to declare
        self._changed: list[bool] | None = None

    def rows(self) -> np.ndarray:
        out = []
        for state, k in zip(self.state, self.written):
            room = k * self.bar - self.clock.now(state)
            row = self.clock.allowed(state, room)
            if room <= 0:
                row = row.copy()
                row[self.asked[k % len(self.asked)]] = True
            out.append(row)
        return np.stack(out) if out else np.zeros((0, len(self.vocab)), dtype=bool)

    def _forcing(self, r: int) -> bool:
        return self.clock.now(self.state[r]) >= self.written[r] * self.bar

    def mask(self) -> torch.Tensor:
        import torch

        return torch.from_numpy(self.rows())

    def apply(self, logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        m = self.mask()
        self._mask = m
        mass = (logits.softmax(-1) * m).sum(-1)
        return logits.masked_fill(~m, float("-inf")), mass < FORCE_BELOW

    def observe(self, free: torch.Tensor) -> None:
        self._changed = (~self._mask.gather(1, free.long()[:, None])[:, 0]).tolist()

    def push(self, tokens: torch.Tensor, forced: torch.Tensor) -> torch.Tensor:
        import torch

        changed, self._changed = self._changed, None
        return torch.tensor(self._push_rows(tokens.tolist(), changed), dtype=tokens.dtype)

    def pick(self, logits: np.ndarray, draw) -> np.ndarray:
        m = self.rows()
        free, chosen = draw(logits, m)
        changed = [not m[r][f] for r, f in enumerate(free.tolist())]
        return np.array(self._push_rows(chosen.tolist(), changed), dtype=np.int64)

    def _push_rows(self, ids: list[int], changed: list[bool] | None) -> list[int]:
        for r, i in enumerate(ids):
            if changed is not None and changed[r] and not self._forcing(r):  # the sampler's chord words are not the model's mistakes
                self.forced[r] += 1
            if self.clock.chord[i]:
                self.written[r] += 1
            else:
                self.state[r] = self.clock.advance(self.state[r], i)
        return ids

    def declarations(self, r: int) -> list[tuple[int, str]]:
        return []

    def select(self, index: torch.Tensor) -> None:
        idx = index.tolist()
        self.state = [self.state[i] for i in idx]
        self.written = [self.written[i] for i in idx]
        self.forced = [self.forced[i] for i in idx]
        self.meters = [self.meters[i] for i in idx]
