"""The random draws of ``torch.Generator().manual_seed(seed)`` on a CPU, made in numpy.

Samples have always been drawn from torch's seeded generator, and the same seed must keep giving
the same files; the numpy sampling loop needs no other part of torch, and importing it took 2.8 s
of a 6.3 s ``generate`` (issue #21). torch's CPU generator is a Mersenne Twister (MT19937) seeded
with the seed's low 32 bits, as numpy's legacy seeding does; what torch makes of its words is
read from ATen (``core/DistributionsHelper.h``, ``core/TransformationHelper.h``):

* ``exponential_`` (float32): per value one 64-bit word (two draws, the first the high half),
  its low 53 bits times 2^-53 as ``u``, then ``-log1p(-u)`` in double, rounded to float32;
* ``rand`` (float32): per value one draw, its low 24 bits times 2^-24.

numpy's ``log`` of ``1 - u`` (exact in double) can differ from the C library's ``log1p`` in the
last bit; the rare value where that could change the float32 rounding is computed with
``math.log1p`` (the C library's, as torch's), so every value is torch's, bit for bit
(``tests/test_draws.py`` checks against torch).
"""

from __future__ import annotations

import math

import numpy as np

_NEAR = 2.0**-45  # a relative margin far wider than the two logarithms' difference


class SeededDraws:
    """torch's seeded CPU generator: :meth:`exponential` and :meth:`rand`, value for value."""

    def __init__(self, seed: int):
        key = np.random.RandomState(seed & 0xFFFFFFFF).get_state()  # MT19937's init_genrand, as torch seeds
        bits = np.random.MT19937()
        bits.state = {"bit_generator": "MT19937", "state": {"key": key[1], "pos": key[2]}}
        self._words = np.random.Generator(bits)

    def _draws(self, count: int) -> np.ndarray:
        """The next ``count`` 32-bit words of the twister, in order."""
        return self._words.integers(0, 1 << 32, size=count, dtype=np.uint32)

    def exponential(self, *shape: int) -> np.ndarray:
        """``torch.empty(*shape).exponential_(generator=gen)``."""
        count = math.prod(shape)
        words = self._draws(2 * count)
        # u = ((high & (2^21 - 1)) * 2^32 + low) * 2^-53, exactly, in two exact float64 parts
        u = (words[0::2] & np.uint32(0x1FFFFF)).astype(np.float64) * 2.0**-21 + words[1::2].astype(np.float64) * 2.0**-53
        e = 0.0 - np.log(1.0 - u)
        out = e.astype(np.float32)
        near = np.flatnonzero((e * (1 - _NEAR)).astype(np.float32) != (e * (1 + _NEAR)).astype(np.float32))
        for i in near.tolist():
            out[i] = -math.log1p(-float(u[i]))
        return out.reshape(shape)

    def rand(self, n: int) -> np.ndarray:
        """``torch.rand(n, generator=gen)``."""
        return (self._draws(n) & np.uint32(0xFFFFFF)).astype(np.float32) * np.float32(2.0**-24)
