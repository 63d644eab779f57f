"""Token ids for training: a split as one memory-mapped array, and the windows read from it.

char-rnn reads a corpus as one stream; so do we. ``prepare`` stores each split's ids as
``<split>.ids.npy`` (uint16, or uint32 for vocabularies over 65,536 tokens) beside the text, and
training maps it rather than loading it, so a corpus larger than memory trains. A dataset made
before these files existed gets them built on first use.

Window prefixes: a random window cut from the middle of a piece would not know the metre and
key in force (kern states them once, at the piece's start), so where the codec records them
(``<split>.prefix.npz``, see :func:`cadenza.data.dataset.write_prefixes`) each training window
starts with the header in force, cut to at most half the window (whole lines from the front:
the metre line, last, is kept longest) and the window's own tokens shortened so the total stays
``seq``. The target that would ask the model to guess the window's first token from the prefix
alone is ignored (-100). Validation windows stay plain, so losses compare with older runs.

Fill in the middle (``--fim-rate``, see :mod:`cadenza.codecs.fim`): that share of training
windows is cut in three (at line starts for character codecs, so a kern middle is whole lines)
and read as header + <suffix> C <prefix> A B <end> (``spm``) or header + <prefix> A <suffix> C
<middle> B <end> (``psm``), the same ``seq`` tokens long.
"""

from __future__ import annotations

import json
from pathlib import Path
from dataclasses import dataclass
from typing import Iterator

import numpy as np
import torch

from cadenza import CadenzaError
from cadenza.data.dataset import encode_ids, write_ids


@dataclass(frozen=True)
class Fim:
    """How training windows are taught to fill in the middle: ``rate`` of them, with these
    sentinel ids; cuts fall only after ``line`` (the newline's id) when it is >= 0."""

    rate: float
    prefix: int
    suffix: int
    middle: int
    end: int
    line: int = -1
    spm: bool = True  # suffix first, so the middle goes straight on from the prefix


class Stream:
    """A split as one long id array, random windows for training and fixed ones for validation."""

    def __init__(self, text: str | None, unit: str = "char", stoi: dict[str, int] | None = None, ids: np.ndarray | None = None, prefixes: dict[str, np.ndarray] | None = None):
        self.ids = ids if ids is not None else encode_ids(text or "", unit, stoi or {})
        self.prefixes = prefixes  # {"at", "start", "ids", "sep"} (see the module docstring)
        self.fim: Fim | None = None  # set by training when windows fill in the middle

    @classmethod
    def load(cls, dataset: Path, split: str, unit: str, vocab: list[str]) -> "Stream":
        """The split's ids, memory-mapped (built from the text once for older datasets)."""
        path = Path(dataset) / f"{split}.ids.npy"
        if not path.exists():
            text = (Path(dataset) / f"{split}.txt").read_text(encoding="utf-8")
            ids = encode_ids(text, unit, {t: i for i, t in enumerate(vocab)})
            try:
                write_ids(path, ids)
            except OSError:
                return cls(None, ids=ids)  # a read-only dataset: keep them in memory
        prefixes = None
        ppath = Path(dataset) / f"{split}.prefix.npz"
        try:
            if ppath.exists():
                with np.load(ppath) as z:
                    prefixes = {k: z[k] for k in ("at", "start", "ids", "sep")}
            return cls(None, ids=np.load(path, mmap_mode="r"), prefixes=prefixes)
        except (ValueError, OSError, KeyError) as exc:
            raise CadenzaError(f"{path}: unreadable token ids ({exc}); prepare the dataset again") from None

    def __len__(self) -> int:
        return len(self.ids)

    def _window(self, s: int, seq: int) -> tuple[torch.Tensor, torch.Tensor]:
        w = torch.from_numpy(np.asarray(self.ids[s : s + seq + 1], dtype=np.int64))
        return w[:-1], w[1:]

    def prefix_at(self, s: int, most: int) -> np.ndarray:
        """The prefix a window starting at ``s`` gets: the one in force there, at most ``most``
        tokens (whole lines cut from the front where the codec marks lines)."""
        p = self.prefixes
        if p is None or not len(p["at"]) or most <= 0:
            return np.zeros(0, dtype=np.int64)
        k = int(np.searchsorted(p["at"], s, side="right")) - 1
        if k < 0:
            return np.zeros(0, dtype=np.int64)
        ids = p["ids"][p["start"][k] : p["start"][k + 1]]
        if len(ids) > most:
            tail = ids[len(ids) - most :]
            cut = np.flatnonzero(tail == int(p["sep"]))
            ids = tail[cut[0] + 1 :] if int(p["sep"]) >= 0 and len(cut) else tail
        return ids

    def _prefixed(self, s: int, seq: int) -> tuple[torch.Tensor, torch.Tensor]:
        pre = self.prefix_at(s, seq // 2)
        if not len(pre):
            return self._window(s, seq)
        body = np.asarray(self.ids[s : s + seq - len(pre) + 1], dtype=np.int64)
        w = torch.from_numpy(np.concatenate([pre, body]))
        y = w[1:].clone()
        y[len(pre) - 1] = -100  # the prefix cannot know where in the bar the window begins
        return w[:-1], y

    def _middle(self, s: int, seq: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """A window rearranged as header + <suffix> C <prefix> A B <end> (or PSM's order)."""
        f = self.fim
        pre = self.prefix_at(s, seq // 2)
        n = seq + 1 - len(pre) - (3 if f.spm else 4)
        body = np.asarray(self.ids[s : s + n], dtype=np.int64)
        cuts = np.flatnonzero(body[:-1] == f.line) + 1 if f.line >= 0 else np.arange(1, n)
        cuts = np.concatenate([[0], cuts, [n]])
        a, b = sorted(cuts[torch.randint(0, len(cuts), (2,), generator=gen)].tolist())
        if a == b:  # an empty middle teaches nothing: take the rest of the window
            b = n
        if f.spm:
            w = np.concatenate([pre, [f.suffix], body[b:], [f.prefix], body[:b], [f.end]])
        else:
            w = np.concatenate([pre, [f.prefix], body[:a], [f.suffix], body[b:], [f.middle], body[a:b], [f.end]])
        t = torch.from_numpy(w.astype(np.int64))
        return t[:-1], t[1:].clone()

    def batch(self, batch: int, seq: int, gen: torch.Generator, all_fim: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        """Random windows, each rearranged to fill in the middle with the FIM rate's chance (every
        one with ``all_fim``: the FIM steps of a ``--stateful`` run)."""
        starts = torch.randint(0, len(self.ids) - seq - 1, (batch,), generator=gen).tolist()
        if self.fim is not None and self.fim.rate > 0 and seq >= 16:
            fim = [True] * batch if all_fim else (torch.rand(batch, generator=gen) < self.fim.rate).tolist()
            xs, ys = zip(*(self._middle(s, seq, gen) if m else self._prefixed(s, seq) for s, m in zip(starts, fim)))
        else:
            xs, ys = zip(*(self._prefixed(s, seq) for s in starts))
        return torch.stack(xs), torch.stack(ys)

    def streams(self, batch: int, seq: int, k: int, rank: int = 0, world: int = 1) -> tuple[torch.Tensor, torch.Tensor, bool]:
        """char-rnn's batches (``--stateful``): the split cut into ``batch × world`` equal
        streams, this process's ``batch`` of them, their ``k``-th window each (wrapping round
        once a stream is read). Returns x, y and whether a new pass begins (reset the state)."""
        per = (len(self.ids) - 1) // (batch * world)
        n = max(1, per // seq)
        k %= n
        starts = (np.arange(batch) + rank * batch) * per + k * seq
        w = torch.from_numpy(np.stack([np.asarray(self.ids[s : s + seq + 1], dtype=np.int64) for s in starts]))
        return w[:, :-1], w[:, 1:], k == 0

    def windows(self, seq: int, limit: int, rank: int = 0, world: int = 1) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Non-overlapping windows from the start, for a repeatable validation loss; with several
        processes each reads every ``world``-th of them."""
        n = min(limit, (len(self.ids) - 1) // seq)
        for i in range(rank, n, world):
            x, y = self._window(i * seq, seq)
            yield x[None], y[None]


def load_vocab(dataset: Path) -> list[str]:
    path = Path(dataset) / "vocab.json"
    try:
        vocab = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CadenzaError(f"{dataset}: no vocab.json; prepare the dataset again with `cadenza prepare`") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise CadenzaError(f"{path}: not a valid vocabulary ({exc}); prepare the dataset again") from None
    if not isinstance(vocab, list) or not all(isinstance(t, str) for t in vocab):
        raise CadenzaError(f"{path}: not a list of tokens; prepare the dataset again")
    return vocab
