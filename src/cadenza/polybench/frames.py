"""The standard polyphonic-music benchmark (Boulanger-Lewandowski, Bengio & Vincent, ICML 2012).

Four corpora of binary piano rolls (T x 88, column c = MIDI pitch 21 + c; quarter-note frames
for JSB, eighth notes for the others), each split into train/valid/test. A model is scored by
its **negative log-likelihood per frame** on the test split, in nats: the NLL of every test
frame given the frames before it, summed over the 88 notes, averaged over all test frames of
all sequences (each frame weighs the same, so long sequences weigh more).

The frame model here is the one Bai, Kolter & Koltun (2018) report as "LSTM" and "TCN": a
recurrent (or dilated causal convolutional) network reads the frames before ``t`` and outputs 88
independent Bernoulli probabilities (a sigmoid per key) for frame ``t``::

    -log p(y_t | y_<t) = - sum_k [ y_tk log s_tk + (1 - y_tk) log(1 - s_tk) ]

Why not a softmax over chords? A piano roll frame is one of 2**88 chords. A softmax over the
chords seen in training gives every chord that does not occur there probability zero, so a
single unseen chord in the test set (there are many: Nottingham and the piano sets are full of
voicings that occur once) makes the test NLL infinite, and any "fix" (an <unk> chord, dropping
the frame) no longer measures the likelihood of the test data and cannot be compared with the
published numbers. The literature therefore scores a distribution over *all* 2**88 frames:
88 independent notes (this module, Bai et al.'s LSTM/TCN) or an autoregressive NADE/RBM over the
notes of a frame (Boulanger-Lewandowski's RNN-NADE/RNN-RBM, which also captures the dependence
between notes of one chord and so scores better).

Conventions (see :func:`frame_nll`):

* frame ``t`` is predicted from frames ``0..t-1``; the first frame is predicted from an all-zero
  input frame (so every frame of the test set is scored, as Boulanger-Lewandowski asks);
* ``test_nll`` averages over all frames. Bai et al.'s evaluation code feeds ``x = roll[:-1]`` and
  scores ``y = roll[1:]``, i.e. it skips each sequence's first frame; the same model's number in
  that convention is reported as ``test_nll_from2``. The two differ by a few hundredths: a
  first frame has no context, but is also easy to guess (the corpora are transposed to C major /
  C minor, and pieces tend to open on the tonic chord).

This file holds the corpora, the frame models and the NLL; training and scoring a run is
:mod:`cadenza.polybench.run`.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from cadenza import CadenzaError

N_NOTES = 88
LOWEST_MIDI = 21

#: name -> (file, (train, valid, test) sequence counts)
DATASETS: dict[str, tuple[str, tuple[int, int, int]]] = {
    "jsb": ("JSB_Chorales.mat", (229, 76, 77)),
    "nottingham": ("Nottingham.mat", (694, 173, 170)),
    "musedata": ("MuseData.mat", (524, 135, 124)),
    "pianomidi": ("Piano_midi.mat", (87, 12, 25)),
}
SPLITS = ("train", "valid", "test")

#: Published test NLL per frame (nats). Bai et al. 2018 ("An empirical evaluation of generic
#: convolutional and recurrent networks for sequence modeling", Table 1) only ran JSB and
#: Nottingham; RNN-NADE is Boulanger-Lewandowski et al. 2012 (Table 1; JSB about 5.6).
PUBLISHED: dict[str, dict[str, float]] = {
    "jsb": {"lstm_bai2018": 8.45, "tcn_bai2018": 8.10, "rnn_nade_boulanger2012": 5.56},
    "nottingham": {"lstm_bai2018": 3.29, "tcn_bai2018": 3.07, "rnn_nade_boulanger2012": 2.31},
    "musedata": {"rnn_nade_boulanger2012": 5.60},
    "pianomidi": {"rnn_nade_boulanger2012": 7.05},
}

ARCHS = ("lstm", "tcn")


# --------------------------------------------------------------------------------------------
# Data


def dataset_key(name: str) -> str:
    """``jsb|nottingham|musedata|pianomidi`` for a name (a few spellings accepted: ``JSB_Chorales``,
    ``Nott``, ``Piano-midi.de``...); :class:`CadenzaError` for anything else."""
    key = name.lower().replace("-", "").replace("_", "").replace(".", "")
    key = {"jsbchorales": "jsb", "nott": "nottingham", "muse": "musedata", "piano": "pianomidi", "pianomidide": "pianomidi"}.get(key, key)
    if key not in DATASETS:
        raise CadenzaError(f"unknown polyphonic benchmark {name!r}: choose one of {', '.join(DATASETS)}")
    return key


def load_poly(name: str, root: str | os.PathLike) -> dict[str, list[np.ndarray]]:
    """Load one benchmark corpus: ``{"train": [...], "valid": [...], "test": [...]}``, each a list
    of ``T x 88`` uint8 piano rolls (0/1), with the published split sizes.

    ``root`` is the folder holding ``JSB_Chorales.mat`` etc. (``../shared/midi/benchmarks``)."""
    key = dataset_key(name)
    fname, sizes = DATASETS[key]
    path = Path(root) / fname
    if not path.is_file():
        raise CadenzaError(f"{path}: benchmark file not found (point --data at the folder holding {fname}, e.g. ../shared/midi/benchmarks)")
    from scipy.io import loadmat

    try:
        mat = loadmat(str(path))
    except Exception as e:  # corrupt / not a .mat file
        raise CadenzaError(f"{path}: cannot read as a MATLAB file ({e})") from e
    out: dict[str, list[np.ndarray]] = {}
    for split, n in zip(SPLITS, sizes):
        k = f"{split}data"
        if k not in mat:
            raise CadenzaError(f"{path}: no '{k}' array (expected traindata/validdata/testdata)")
        seqs = [np.ascontiguousarray(s, dtype=np.uint8) for s in mat[k][0]]
        if len(seqs) != n:
            raise CadenzaError(f"{path}: {split} split has {len(seqs)} sequences, the published split has {n}")
        for i, s in enumerate(seqs):
            if s.ndim != 2 or s.shape[1] != N_NOTES or len(s) == 0:
                raise CadenzaError(f"{path}: {split} sequence {i} has shape {s.shape}, expected T x {N_NOTES}")
        out[split] = seqs
    return out


def pad_rolls(rolls: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    """Zero-pad rolls to ``(B, Tmax, 88)`` float and a ``(B, Tmax)`` bool mask of real frames."""
    lens = [len(r) for r in rolls]
    y = torch.zeros(len(rolls), max(lens), N_NOTES)
    mask = torch.zeros(len(rolls), max(lens), dtype=torch.bool)
    for i, r in enumerate(rolls):
        y[i, : len(r)] = torch.from_numpy(np.asarray(r, dtype=np.float32))
        mask[i, : len(r)] = True
    return y, mask


def shift_right(y: torch.Tensor) -> torch.Tensor:
    """Model inputs for targets ``y`` (B, T, 88): frame t sees frame t-1; frame 0 sees zeros."""
    return F.pad(y[:, :-1], (0, 0, 1, 0))


def training_windows(rolls: list[np.ndarray], window: int, rng: np.random.Generator) -> list[tuple[np.ndarray, np.ndarray]]:
    """Cut every roll into (inputs, targets) windows of ``window`` frames at a random phase; the
    inputs of a window are the frames one step earlier (a zero frame before the first)."""
    out = []
    for r in rolls:
        x = np.concatenate([np.zeros((1, N_NOTES), np.uint8), r[:-1]])
        cuts = list(range(int(rng.integers(window)) if len(r) > window else 0, len(r), window))
        bounds = ([0] if cuts[0] else []) + cuts + [len(r)]
        out += [(x[a:b], r[a:b]) for a, b in zip(bounds, bounds[1:]) if b > a]
    return out


def length_batches(lengths: list[int], batch_size: int, rng: np.random.Generator | None) -> list[list[int]]:
    """Batches of sequences of similar length (little padding); shuffled when ``rng`` is given."""
    order = np.argsort(lengths, kind="stable")
    if rng is not None:  # shuffle within the sort a little so batches differ between epochs
        noisy = np.asarray(lengths, dtype=float) * rng.uniform(0.9, 1.1, len(lengths))
        order = np.argsort(noisy, kind="stable")
    batches = [order[i : i + batch_size].tolist() for i in range(0, len(order), batch_size)]
    if rng is not None:
        rng.shuffle(batches)
    return batches


# --------------------------------------------------------------------------------------------
# Models


class FrameLSTM(nn.Module):
    """LSTM over frames -> 88 logits (independent Bernoulli notes) for the next frame."""

    def __init__(self, hidden: int = 256, layers: int = 1, dropout: float = 0.0):
        super().__init__()
        self.rnn = nn.LSTM(N_NOTES, hidden, layers, batch_first=True, dropout=dropout if layers > 1 else 0.0)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(hidden, N_NOTES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, T, 88) inputs -> (B, T, 88) logits
        h, _ = self.rnn(x)
        return self.head(self.drop(h))


class _CausalBlock(nn.Module):
    def __init__(self, cin: int, cout: int, kernel: int, dilation: int, dropout: float):
        super().__init__()
        self.pad = (kernel - 1) * dilation
        self.conv1 = nn.Conv1d(cin, cout, kernel, dilation=dilation)
        self.conv2 = nn.Conv1d(cout, cout, kernel, dilation=dilation)
        self.drop = nn.Dropout(dropout)
        self.down = nn.Conv1d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, T)
        h = self.drop(F.relu(self.conv1(F.pad(x, (self.pad, 0)))))
        h = self.drop(F.relu(self.conv2(F.pad(h, (self.pad, 0)))))
        return F.relu(h + self.down(x))


class FrameTCN(nn.Module):
    """Bai et al.'s TCN: residual blocks of dilated causal convolutions (dilation 1, 2, 4, ...)."""

    def __init__(self, hidden: int = 150, layers: int = 4, dropout: float = 0.25, kernel_size: int = 5):
        super().__init__()
        self.blocks = nn.Sequential(*[_CausalBlock(N_NOTES if i == 0 else hidden, hidden, kernel_size, 2**i, dropout) for i in range(layers)])
        self.head = nn.Linear(hidden, N_NOTES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.blocks(x.transpose(1, 2)).transpose(1, 2))


def build_frame_model(arch: str = "lstm", hidden: int = 256, layers: int = 1, dropout: float = 0.0, kernel_size: int = 5) -> nn.Module:
    if arch == "lstm":
        return FrameLSTM(hidden, layers, dropout)
    if arch == "tcn":
        return FrameTCN(hidden, layers, dropout, kernel_size)
    raise CadenzaError(f"unknown frame model {arch!r}: choose one of {', '.join(ARCHS)}")


# --------------------------------------------------------------------------------------------
# NLL


def frame_nll(model: nn.Module, y: torch.Tensor, mask: torch.Tensor, x: torch.Tensor | None = None) -> torch.Tensor:
    """NLL (nats) of each frame, ``(B, T)``, 0 on padding: the model sees ``shift_right(y)`` (frame
    t is predicted from frames < t, frame 0 from a zero frame) and outputs 88 logits per frame;
    the NLL of a frame is the binary cross-entropy summed over the 88 notes. (``x``: explicit
    inputs instead, for training windows cut from the middle of a sequence.)"""
    logits = model(shift_right(y) if x is None else x)
    nll = F.binary_cross_entropy_with_logits(logits, y, reduction="none").sum(-1)
    return nll * mask


@torch.no_grad()
def nll_per_frame(model: nn.Module, rolls: list[np.ndarray], batch_size: int = 32, skip_first: bool = False) -> float:
    """Mean NLL per frame (nats) of ``rolls`` under ``model``, every frame weighted equally.

    ``skip_first=True`` leaves each sequence's first frame out of the sum and the count (Bai et
    al.'s evaluation code, which scores ``roll[1:]`` given ``roll[:-1]``)."""
    was = model.training
    model.eval()
    total, count = 0.0, 0
    for b in length_batches([len(r) for r in rolls], batch_size, None):
        y, mask = pad_rolls([rolls[i] for i in b])
        if skip_first:
            mask[:, 0] = False
        total += float(frame_nll(model, y, mask).double().sum())
        count += int(mask.sum())
    model.train(was)
    return total / max(count, 1)

