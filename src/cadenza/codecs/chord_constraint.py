"""The sampler writes each bar's chord (``--chords``) for a notewise model prepared with chords
(:mod:`.bar_chords`): where a bar begins on the grid, the only word offered is the chord asked
for that bar (the progression repeats when the piece is longer); elsewhere chord words are not
offered, nor a ``wait`` that would step over a bar line, so every bar line is reached and
written. Bars are the context's metre from the prime's first step. The same protocol as
:class:`~cadenza.codecs.kern.constraint.KernConstraint` (``apply``/``observe``/``push``,
``pick``, ``select``, ``forced``), so every decoding loop takes it.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import torch

from cadenza import CadenzaError
from cadenza.codecs.bar_chords import chord_tokens, is_chord_word

FORCE_BELOW = 0.01


class WordChords:
    def __init__(self, vocab: list[str], context: dict[str, Any], n: int, prefix: str, steps_per_quarter: int,
                 wait_steps: Callable[[str], int | None]):
        num, den = (context.get("time_signature") or [4, 4])[:2]
        self.bar = max(1, round(steps_per_quarter * 4 * int(num) / int(den)))
        self.vocab, self.wait_steps = vocab, wait_steps
        self.stoi = {t: i for i, t in enumerate(vocab)}
        words = chord_tokens(list(context["chords"]), "word")
        missing = [c for c in words if c not in self.stoi]
        if missing:
            raise CadenzaError(f"--chords: this model's words lack {', '.join(missing[:5])}; prepare its dataset with --condition chords (and --transpose all for every key)")
        self.asked = [self.stoi[c] for c in words]
        self.waits = np.array([wait_steps(t) or 0 for t in vocab])
        self.chord = np.array([is_chord_word(t) for t in vocab])
        now = written = 0
        for w in prefix.split():
            now += wait_steps(w) or 0
        self.now, self.written = [now] * n, [written] * n
        self.forced = [0] * n
        self.meters: list[Any] = [None] * n  # bars are the context's metre: nothing to declare
        self._changed: list[bool] | None = None

    def rows(self) -> np.ndarray:
        out = []
        for now, k in zip(self.now, self.written):
            start = k * self.bar
            if now >= start:
                row = np.zeros(len(self.vocab), dtype=bool)
                row[self.asked[k % len(self.asked)]] = True
            else:
                row = ~self.chord & (self.waits <= start - now)
                if not (row & (self.waits > 0)).any():  # no wait short enough: any wait, the chord comes late
                    row = ~self.chord
            out.append(row)
        return np.stack(out) if out else np.zeros((0, len(self.vocab)), dtype=bool)

    def _forcing(self, r: int) -> bool:
        return self.now[r] >= self.written[r] * self.bar

    def mask(self) -> torch.Tensor:
        return torch.from_numpy(self.rows())

    def apply(self, logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        m = self.mask()
        self._mask = m
        mass = (logits.softmax(-1) * m).sum(-1)
        return logits.masked_fill(~m, float("-inf")), mass < FORCE_BELOW

    def observe(self, free: torch.Tensor) -> None:
        self._changed = (~self._mask.gather(1, free.long()[:, None])[:, 0]).tolist()

    def push(self, tokens: torch.Tensor, forced: torch.Tensor) -> torch.Tensor:
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
            if self.chord[i]:
                self.written[r] += 1
            else:
                self.now[r] += int(self.waits[i])
        return ids

    def declarations(self, r: int) -> list[tuple[int, str]]:
        return []

    def select(self, index: torch.Tensor) -> None:
        idx = index.tolist()
        self.now = [self.now[i] for i in idx]
        self.written = [self.written[i] for i in idx]
        self.forced = [self.forced[i] for i in idx]
        self.meters = [self.meters[i] for i in idx]
