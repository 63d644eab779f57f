"""The numpy sampling loop's random numbers are torch's: ``SeededDraws(seed)`` gives, value for
value and in the same order, what ``torch.Generator().manual_seed(seed)`` gives, so samples kept
their bytes when sampling stopped loading torch (issue #21)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cadenza.generation.draws import SeededDraws


@pytest.mark.parametrize("seed", [0, 3, 11, 999_999, 2**32 + 5, 2**40 + 7, -5])
def test_the_same_draws_as_torchs_generator_in_the_same_order(seed):
    ours, theirs = SeededDraws(seed), torch.Generator().manual_seed(seed)
    # the sampling loop's pattern: a block of exponentials, or per step (batch, trunc) and a coin each
    for shape in [(7, 3, 72), (2, 5), (1, 1, 532)]:
        assert np.array_equal(ours.exponential(*shape), torch.empty(shape).exponential_(generator=theirs).numpy())
        assert np.array_equal(ours.rand(3), torch.rand(3, generator=theirs).numpy())


def test_two_million_exponentials_equal_torchs_bit_for_bit(monkeypatch):
    """Enough values that numpy's logarithm and the C library's differ in the last bit for about
    one in fourteen of them: the float32 values must still be torch's, every one, and the few
    near a float32 rounding boundary (two here) are computed as torch does."""
    import math

    from cadenza.generation import draws

    exact = []
    monkeypatch.setattr(draws, "math", type("m", (), {"prod": staticmethod(math.prod), "log1p": staticmethod(lambda x: exact.append(x) or math.log1p(x))}))
    ours, theirs = SeededDraws(1), torch.Generator().manual_seed(1)
    for _ in range(32):
        got = ours.exponential(65536)
        assert got.dtype == np.float32 and not np.signbit(got).any()
        assert np.array_equal(got, torch.empty(65536).exponential_(generator=theirs).numpy())
    assert len(exact) == 2
