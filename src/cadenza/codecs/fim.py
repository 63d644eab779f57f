"""Fill-in-the-middle sentinels: the tokens that let a left-to-right model write the middle of a
piece after reading what comes before *and* after it.

Bavarian et al. (2022, "Efficient Training of Language Models to Fill in the Middle") show that
moving a random middle span of a training text to its end, behind sentinel tokens,

    <prefix> A <suffix> C <middle> B <end>

teaches a causal model to infill at almost no cost to ordinary left-to-right quality. The
Anticipatory Music Transformer does the same for music. Cadenza adds four sentinels to a model's
vocabulary when it is trained with ``--fim-rate`` (they never occur in a corpus):

* character codecs (kern): four characters from Unicode's private use area;
* word codecs (notewise, chordwise): ``<fim:prefix>`` ... words, which no codec word looks like.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

ROLES: tuple[str, ...] = ("prefix", "suffix", "middle", "end")
_CHARS = {"prefix": "\ue000", "suffix": "\ue001", "middle": "\ue002", "end": "\ue003"}


def sentinel(role: str, unit: str) -> str:
    """The token that marks ``role`` (one of :data:`ROLES`) for a codec of ``unit``."""
    return _CHARS[role] if unit == "char" else f"<fim:{role}>"


def sentinels(unit: str) -> list[str]:
    return [sentinel(r, unit) for r in ROLES]


def with_sentinels(vocab: list[str], unit: str) -> list[str]:
    """``vocab`` with the sentinels appended (at the end, so every corpus token keeps its id)."""
    return list(vocab) + [s for s in sentinels(unit) if s not in vocab]


def can_infill(vocab: list[str], unit: str) -> bool:
    """Whether a model of ``vocab`` was trained to fill in the middle."""
    return all(s in vocab for s in sentinels(unit))


def strip_sentinels(text: str, unit: str) -> str:
    """Generated text without sentinels (a model trained with FIM may, rarely, write one)."""
    if unit == "char":
        return text.translate({ord(c): None for c in _CHARS.values()})
    marks = set(sentinels(unit))
    return " ".join(w for w in text.split(" ") if w not in marks)


def prime_only(vocab: list[str], unit: str, keep: tuple[str, ...] = ()) -> list[int]:
    """Ids of the tokens that belong in a prime, never in sampled music: the sentinels and, for
    word codecs, conditioning labels (``<composer:Chopin>``; kern's ``!!!COM:`` lines are kept
    out by its checker), but not chord words (``<chord:C7>``: each bar's, see .bar_chords). ``keep``: tokens still allowed (``<fim:end>`` while infilling)."""
    import re

    marks = set(sentinels(unit)) - set(keep)
    if unit == "char":
        return [i for i, t in enumerate(vocab) if t in marks]
    return [i for i, t in enumerate(vocab) if t not in keep and (t in marks or re.fullmatch(r"<[a-z]+:[^<>\s]+>", t) and not t.startswith("<chord:"))]


def fim_format(config: dict) -> str:
    """The layout a run was trained with: ``spm`` (suffix first) or ``psm``; runs that do not
    say were trained before SPM existed, with PSM."""
    return str((config.get("train") or {}).get("fim_format") or "psm")


def fim_prime(prefix: list, suffix: list, marks: dict, layout: str) -> list:
    """What a FIM-trained model reads before it writes the middle: ``<suffix> C <prefix> A``
    (spm: the middle goes straight on from the prefix) or ``<prefix> A <suffix> C <middle>``.
    ``marks``: each role's sentinel, as a token or as an id (the same for the parts)."""
    if layout == "spm":
        return [marks["suffix"]] + list(suffix) + [marks["prefix"]] + list(prefix)
    return [marks["prefix"]] + list(prefix) + [marks["suffix"]] + list(suffix) + [marks["middle"]]


class HoldEnd:
    """A decoding constraint that keeps the end sentinel (id ``end``) from being drawn until a
    sample's tokens fill the middle (``filled(tokens)``): an early end is not a finished middle.
    A notewise model that stopped at once (0.5 of 16 quarters written on 2 of 5 piano-midi pieces)
    now writes on; the draw it would have made counts in ``forced``. It wraps the codec's own
    constraint (``inner``, or None) in the protocol every decoding loop takes (``pick``;
    ``apply``/``observe``/``push``; ``forced``).

    The numpy loop asks ``filled`` only when the end is drawn (the same tokens as before wherever
    the end came late enough); the torch loop must mask before it draws, so it asks every
    :attr:`RECHECK` tokens, and a middle may run a few tokens past its range (cut away later)."""

    RECHECK = 16

    def __init__(self, end: int, vocab: list[str], filled: Callable[[list[str]], bool], n: int, inner: Any = None):
        self.end, self.vocab, self.filled, self.inner = end, vocab, filled, inner
        self.words: list[list[str]] = [[] for _ in range(n)]
        self.done, self.held, self.checked = [False] * n, [0] * n, [0] * n
        self._rows: list[int] = []

    @property
    def forced(self) -> list[int]:
        inner = self.inner.forced if self.inner is not None else [0] * len(self.held)
        return [a + b for a, b in zip(inner, self.held)]

    def _filled(self, r: int, stale: int = 0) -> bool:
        if not self.done[r] and len(self.words[r]) - self.checked[r] >= stale:
            self.done[r], self.checked[r] = self.filled(self.words[r]), len(self.words[r])
        return self.done[r]

    def _push(self, ids: list[int]) -> None:
        for r, i in enumerate(ids):
            if not self.done[r]:
                self.words[r].append(self.vocab[i])

    def pick(self, logits: np.ndarray, draw: Callable) -> np.ndarray:
        def held(lg: np.ndarray, m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            free, chosen = draw(lg, m)
            again = [r for r, c in enumerate(chosen.tolist()) if c == self.end and m[r].sum() > 1 and not self._filled(r)]
            if again:
                m = m.copy()  # a constraint's rows may be its cached, read-only ones
                m[again, self.end] = False
                chosen = np.where(np.isin(np.arange(len(chosen)), again), draw(lg, m)[1], chosen)
                for r in again:
                    self.held[r] += 1
            return free, chosen

        if self.inner is not None:
            ids = self.inner.pick(logits, held)
        else:
            ids = held(logits, np.ones(logits.shape, dtype=bool))[1]
        self._push(ids.tolist())
        return ids

    def apply(self, logits: Any) -> tuple[Any, Any]:
        import torch

        masked, forced = self.inner.apply(logits) if self.inner is not None else (logits.clone(), torch.zeros(len(logits), dtype=torch.bool))
        self._rows = [r for r in range(len(self.done)) if not self._filled(r, self.RECHECK) and (masked[r] > float("-inf")).sum() > 1]
        if self._rows:
            masked[self._rows, self.end] = float("-inf")
        return masked, forced

    def observe(self, free: Any) -> None:
        for r in self._rows:
            self.held[r] += int(free[r]) == self.end
        if self.inner is not None and hasattr(self.inner, "observe"):
            self.inner.observe(free)

    def push(self, tokens: Any, forced: Any) -> Any:
        ids = self.inner.push(tokens, forced) if self.inner is not None else tokens
        self._push(ids.tolist())
        return ids
