"""The polyphonic-music benchmark: published splits, the NLL-per-frame convention, a training run."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from torch import nn

from cadenza import CadenzaError
from cadenza.polybench.frames import DATASETS, load_poly, nll_per_frame
from cadenza.polybench.run import load_frame_model, run_benchmark
from conftest import shared

SIZES = {"jsb": (229, 76, 77), "nottingham": (694, 173, 170), "musedata": (524, 135, 124), "pianomidi": (87, 12, 25)}


class Fixed(nn.Module):
    """Outputs probability ``p`` for every note of every frame, whatever it has seen."""

    def __init__(self, p: float):
        super().__init__()
        self.logit = math.log(p / (1 - p))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.full_like(x, self.logit)


class Copy(nn.Module):
    """p(note on at t) = 0.9 if it was on at t-1 else 0.1: exercises the shift (frame 0 sees zeros)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return math.log(9) * (2 * x - 1)


def _roll(T: int, notes_per_frame: list[list[int]]) -> np.ndarray:
    r = np.zeros((T, 88), dtype=np.uint8)
    for t, ns in enumerate(notes_per_frame):
        r[t, ns] = 1
    return r


ROLLS = [_roll(3, [[39, 43, 46], [39, 43, 46], [41]]), _roll(5, [[], [60], [60, 64], [0, 87], [0, 87]])]


def test_loader_reproduces_the_published_splits():
    root = shared("midi", "benchmarks")
    for name, sizes in SIZES.items():
        d = load_poly(name, root)
        assert tuple(len(d[s]) for s in ("train", "valid", "test")) == sizes == DATASETS[name][1]
        for split in d.values():
            assert all(r.ndim == 2 and r.shape[1] == 88 and r.dtype == np.uint8 and r.max() <= 1 for r in split)
    assert sum(len(r) for r in load_poly("JSB_Chorales", root)["test"]) == 4725


def test_loader_errors_are_clear(tmp_path):
    with pytest.raises(CadenzaError, match="JSB_Chorales.mat"):
        load_poly("jsb", tmp_path)
    with pytest.raises(CadenzaError, match="unknown polyphonic benchmark"):
        load_poly("bach", tmp_path)


def test_nll_of_fixed_probabilities_is_analytic():
    frames = sum(len(r) for r in ROLLS)
    assert nll_per_frame(Fixed(0.5), ROLLS) == pytest.approx(88 * math.log(2), rel=1e-6)
    ons = sum(int(r.sum()) for r in ROLLS)
    expect = (ons * -math.log(0.25) + (88 * frames - ons) * -math.log(0.75)) / frames
    assert nll_per_frame(Fixed(0.25), ROLLS, batch_size=1) == pytest.approx(expect, rel=1e-6)


def test_frame_t_is_predicted_from_frames_before_t():
    lo, hi = -math.log(0.1), -math.log(0.9)  # cost of a wrong / right guess per note
    nlls = []
    for r in ROLLS:
        prev = np.zeros(88, dtype=np.uint8)  # the first frame is predicted from a zero frame
        seq = []
        for frame in r:
            wrong = int((frame != prev).sum())
            seq.append(wrong * lo + (88 - wrong) * hi)
            prev = frame
        nlls.append(seq)
    all_frames = [x for s in nlls for x in s]
    assert nll_per_frame(Copy(), ROLLS) == pytest.approx(np.mean(all_frames), rel=1e-6)
    from2 = [x for s in nlls for x in s[1:]]  # Bai et al.'s evaluation: each sequence's first frame skipped
    assert nll_per_frame(Copy(), ROLLS, skip_first=True) == pytest.approx(np.mean(from2), rel=1e-6)


def test_short_training_beats_the_all_half_baseline(tmp_path):
    torch.set_num_threads(1)
    root = shared("midi", "benchmarks")
    seen = []
    r = run_benchmark("jsb", root, tmp_path / "run", hidden=32, epochs=2, lr=1e-2, dropout=0.0, seed=1, batch_size=16, progress=seen.append)
    assert r["dataset"] == "jsb" and r["arch"] == "lstm" and r["epochs"] == 2 and len(seen) == 2
    assert r["test_nll"] < 0.5 * 88 * math.log(2)  # 61 nats is the p=0.5 baseline; a few steps learn sparsity
    assert r["published"]["lstm_bai2018"] == 8.45 and r["params"] > 0
    saved = json.loads((tmp_path / "run" / "result.json").read_text())
    assert saved["test_nll"] == pytest.approx(r["test_nll"])
    model = load_frame_model(tmp_path / "run")
    assert nll_per_frame(model, load_poly("jsb", root)["test"]) == pytest.approx(r["test_nll"], rel=1e-5)


def test_tcn_trains_too(tmp_path):
    torch.set_num_threads(1)
    r = run_benchmark("jsb", shared("midi", "benchmarks"), tmp_path, arch="tcn", hidden=32, layers=2, epochs=1, lr=1e-2, dropout=0.1, batch_size=16)
    assert r["arch"] == "tcn" and r["test_nll"] < 0.5 * 88 * math.log(2)


def test_training_windows_cover_each_roll_with_its_true_previous_frames():
    from cadenza.polybench.frames import training_windows

    rng = np.random.default_rng(0)
    rolls = [rng.integers(0, 2, (T, 88)).astype(np.uint8) for T in (1, 5, 64, 130)]
    pieces = training_windows(rolls, 16, rng)
    assert all(1 <= len(y) <= 16 and x.shape == y.shape for x, y in pieces)
    ys = np.concatenate([y for _, y in pieces])
    xs = np.concatenate([x for x, _ in pieces])
    full = np.concatenate(rolls)
    shifted = np.concatenate([np.concatenate([np.zeros((1, 88), np.uint8), r[:-1]]) for r in rolls])
    assert np.array_equal(ys, full) and np.array_equal(xs, shifted)
