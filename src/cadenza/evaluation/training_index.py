"""Transposition-invariant onset tokens, and an index of the training pieces' tokens that finds
the longest stretch of any piece occurring verbatim in one of them (a truncated suffix array)."""

from __future__ import annotations

import numpy as np

from cadenza.evaluation.pieces import onset_groups, piece_notes
from cadenza.music import Piece

IOI_STEPS = 48  # memorisation tokens quantise IOIs to 1/48 quarter
NGRAM = 8  # memorisation index key length (tokens)


def onset_tokens(piece: Piece) -> tuple[list[tuple], np.ndarray, np.ndarray]:
    """The piece as transposition-invariant tokens (see :mod:`cadenza.evaluation.method`), with the onset
    times and the number of notes starting at each onset. ``len(tokens) == len(times) - 1``."""
    times, groups = onset_groups(piece_notes(piece))
    tokens = []
    for i in range(1, len(groups)):
        ref = max(n.pitch for n in groups[i - 1])
        ioi = int(round((times[i] - times[i - 1]) * IOI_STEPS))
        tokens.append((ioi, tuple(sorted({n.pitch - ref for n in groups[i]}))))
    return tokens, times, np.array([len(g) for g in groups], dtype=int)


def _encode_rows(rows: np.ndarray) -> np.ndarray:
    """int rows (values >= -3) -> fixed-width byte strings that sort like the rows."""
    x = (2 * (rows.astype(np.int64) + 3) + 1).astype(">u4")
    return np.ascontiguousarray(x).view(f"S{4 * rows.shape[1]}").ravel()


class TrainingIndex:
    """Every position of the training token sequences, sorted by its next ``k`` tokens: the
    longest match of any query position is found by binary search (exact up to ``k`` tokens from
    the sorted neighbours) and extended past ``k`` on the candidate occurrences."""

    def __init__(self, pieces: list[Piece], k: int = NGRAM):
        self.k = k
        self.vocab: dict[tuple, int] = {}
        seqs = []
        for p in pieces:
            toks, _, _ = onset_tokens(p)
            seqs.append(np.array([self.vocab.setdefault(t, len(self.vocab)) for t in toks], dtype=np.int64))
        parts = []
        for s in seqs:
            parts += [s, np.array([-1], dtype=np.int64)]  # -1: piece boundary, never matched
        parts.append(np.full(k, -1, dtype=np.int64))
        self.tokens = np.concatenate(parts) if parts else np.full(k, -1, dtype=np.int64)
        self.starts = np.cumsum([0] + [len(s) + 1 for s in seqs])[:-1]  # each piece's first position
        self.names = [p.name for p in pieces]
        self.times = [onset_tokens(p)[1] for p in pieces] if pieces else []
        self.n_pieces = len(pieces)
        self.n_tokens = int(sum(len(s) for s in seqs))
        pos = np.flatnonzero(self.tokens >= 0)
        rows = np.stack([self.tokens[pos + j] for j in range(k)], axis=1) if pos.size else np.zeros((0, k), np.int64)
        keys = _encode_rows(rows) if pos.size else np.array([], dtype=f"S{4 * k}")
        order = np.argsort(keys, kind="stable")
        self.keys, self.pos, self.rows = keys[order], pos[order], rows[order]

    def locate(self, tokens: list[tuple]) -> tuple[str, float] | None:
        """(training piece name, quarter where it starts) of one occurrence of ``tokens``, or None."""
        s = self.ids(tokens)
        if not len(s) or self.keys.size == 0:
            return None
        head = s[: self.k]
        lo_row = np.concatenate([head, np.full(self.k - len(head), -3)])[None]
        hi_row = np.concatenate([head, np.full(self.k - len(head), 2**30)])[None]
        lo = int(np.searchsorted(self.keys, _encode_rows(lo_row), "left")[0])
        hi = int(np.searchsorted(self.keys, _encode_rows(hi_row), "right")[0])
        cand = self.pos[lo:hi]
        last = len(self.tokens) - 1
        if len(s) > self.k and cand.size:
            block = self.tokens[np.minimum(cand[:, None] + np.arange(len(s)), last)]
            cand = cand[(block == s).all(1)]
        if not cand.size:
            return None
        p = int(cand.min())
        i = int(np.searchsorted(self.starts, p, "right") - 1)
        return self.names[i], float(self.times[i][p - self.starts[i]])

    def ids(self, tokens: list[tuple]) -> np.ndarray:
        return np.array([self.vocab.get(t, -2) for t in tokens], dtype=np.int64)  # -2: unseen

    def match_lengths(self, tokens: list[tuple]) -> np.ndarray:
        """For each position i, the most tokens from i on that occur consecutively in one
        training piece."""
        s = self.ids(tokens)
        m, k = len(s), self.k
        if m == 0 or self.keys.size == 0:
            return np.zeros(m, dtype=int)
        padded = np.concatenate([s, np.full(k, -3, dtype=np.int64)])
        q = np.stack([padded[j : j + m] for j in range(k)], axis=1)
        idx = np.searchsorted(self.keys, _encode_rows(q), "left")
        lcp = np.zeros(m, dtype=int)
        for nb in (np.clip(idx - 1, 0, None), np.clip(idx, None, len(self.keys) - 1)):
            lcp = np.maximum(lcp, np.cumprod(q == self.rows[nb], axis=1).sum(1))
        full = np.flatnonzero(lcp == k)
        if full.size:
            qkeys = _encode_rows(q[full])
            lo = np.searchsorted(self.keys, qkeys, "left")
            hi = np.searchsorted(self.keys, qkeys, "right")
            last = len(self.tokens) - 1  # a boundary (-1): never matches
            for i, a, b in zip(full.tolist(), lo.tolist(), hi.tolist()):
                cand = self.pos[a:b]
                length = k
                while i + length < m and cand.size:  # compare 64 tokens at a time
                    span = min(64, m - i - length)
                    block = self.tokens[np.minimum(cand[:, None] + length + np.arange(span), last)]
                    eq = block == s[i + length : i + length + span]
                    run = np.where(eq.all(1), span, eq.argmin(1))
                    if run.max() < span:
                        length += int(run.max())
                        break
                    cand = cand[run == span]
                    length += span
                lcp[i] = length
        return lcp

