"""The decode loop: sample continuations of a prime, all samples as one batch, one seeded generator.

An LSTM is sampled in numpy (:mod:`cadenza.models.numpy_lstm`) with the numbers torch's seeded
generator draws (:mod:`.draws`), so sampling it loads no torch; other models run the torch loop.
"""

from __future__ import annotations

import ctypes
import functools
import gc
from contextlib import contextmanager
from typing import Any, Callable, Iterator

import numpy as np

from cadenza.generation.draws import SeededDraws
from cadenza.generation.filters import SamplingOptions, choose, numpy_choosers
from cadenza.models.numpy_lstm import NumpyLSTM

NOISE = 1 << 16  # noise drawn at a time by the numpy loop


class few_threads:
    """Sampling a small model is a chain of tiny steps: extra threads only wait on each other
    (42 s vs 6 s for 20 samples seen on 2 busy cores), so use one while sampling. A model
    sampled in numpy (no torch ``parameters``) holds its BLAS to one thread itself
    (:func:`one_blas_thread`): nothing to do."""

    def __init__(self, model: Any, limit: int = 2_000_000):
        params = getattr(model, "parameters", None)
        self.small = params is not None and sum(p.numel() for p in params()) < limit

    def __enter__(self) -> None:
        if self.small:
            import torch

            self.before = torch.get_num_threads()
            torch.set_num_threads(1)

    def __exit__(self, *exc: object) -> None:
        if self.small:
            import torch

            torch.set_num_threads(self.before)


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """numpy's OpenBLAS on one thread while the numpy step runs: its products are too small to
    share, and on two busy cores a second thread turned a 34 us product into 110-180 us. The
    garbage collector waits too: the loop makes no reference cycles, and its passes over the
    objects torch and music21 leave behind took 60 ms of a one-second kern sample."""
    libs = [(set_, get()) for set_, get in _openblas()]
    collecting = gc.isenabled()
    gc.disable()
    for set_, _ in libs:
        set_(1)
    try:
        yield
    finally:
        for set_, before in libs:
            set_(before)
        if collecting:
            gc.enable()


@functools.cache
def _openblas() -> tuple[tuple[Callable[[int], None], Callable[[], int]], ...]:
    """(set, get) of the thread count of each OpenBLAS loaded in this process (numpy's wheels
    bring one; what threadpoolctl does, without the dependency). None found: nothing to set."""
    found = []
    try:
        with open("/proc/self/maps", encoding="utf-8") as f:
            paths = {line.split()[-1] for line in f if "openblas" in line and ".so" in line}
    except OSError:
        return ()
    for path in sorted(paths):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for name in ("scipy_openblas_{}_num_threads64_", "openblas_{}_num_threads64_", "openblas_{}_num_threads"):
            set_, get = getattr(lib, name.format("set"), None), getattr(lib, name.format("get"), None)
            if set_ is not None and get is not None:
                found.append((set_, get))
                break
    return tuple(found)


def sample_ids(
    model: Any,
    prime: list[int],
    n: int,
    length: int,
    opt: SamplingOptions,
    seed: int,
    progress: Callable[[int, int], None] | None = None,
    done: Callable[[list[list[int]]], bool] | None = None,
    constraint: Any | None = None,
    banned: list[int] | None = None,
) -> list[list[int]]:
    """``n`` continuations of ``prime`` of ``length`` new tokens each, as one batch. ``done``
    (checked every 64 steps) may end sampling early, e.g. once every sample has enough bars;
    ``constraint`` (a codec's, e.g. kern's validity checker) masks tokens that would make the
    output invalid; ``banned`` tokens are never drawn (labels and fill-in-the-middle sentinels
    belong in a prime, not in the music).

    An LSTM (a :class:`~cadenza.models.numpy_lstm.NumpyLSTM`, or a network that gives one with
    ``as_numpy``) is sampled in numpy: ~10x faster, with the torch loop's draws from the same
    seed, so it gives the torch loop's tokens (up to float32 rounding on a near tie)."""
    opt.validate()
    fast = None
    if constraint is None or hasattr(constraint, "pick"):
        as_numpy = getattr(model, "as_numpy", None)
        fast = model if isinstance(model, NumpyLSTM) else as_numpy() if as_numpy is not None else None
    if fast is None:
        if isinstance(model, NumpyLSTM):
            raise TypeError("an LSTM sampled in numpy needs a constraint with pick()")
        return _torch_sample(model, prime, n, length, opt, seed, progress, done, constraint, banned)
    last, step = fast.start(prime, n)
    if banned:
        last[:, banned] = -np.inf
        step = _banned_step(step, banned)
    with one_blas_thread():
        return _numpy_loop(step, last, n, length, opt, seed, progress, done, constraint)


def _banned_step(step: Callable[[np.ndarray], np.ndarray], banned: list[int]) -> Callable[[np.ndarray], np.ndarray]:
    def masked(tokens: np.ndarray) -> np.ndarray:
        out = step(tokens)
        out[:, banned] = -np.inf
        return out

    return masked


class _Banned:
    """A model whose logits for ``banned`` tokens are -inf (the torch loop's view of it)."""

    def __init__(self, model: Any, banned: list[int]):
        self.model, self.banned = model, banned

    def __call__(self, x: Any, state: Any) -> tuple[Any, Any]:
        logits, state = self.model(x, state)
        logits[..., self.banned] = float("-inf")
        return logits, state


def _numpy_loop(step, last, n, length, opt, seed, progress, done, constraint) -> list[list[int]]:
    gen = SeededDraws(seed)
    out = np.empty((n, length), dtype=np.int64)
    V = last.shape[-1]
    block = max(1, NOISE // (n * V))
    clara = opt.random_freq > 0 or opt.trunc > 0
    free_draw, masked_draw = numpy_choosers(opt)
    coin = None
    for t in range(length):
        # the generator's draws in the torch loop's order: per step, multinomial's exponentials
        # (batch, vocab), or for Clara's rule over the top tokens (batch, trunc) and a coin each
        if clara:
            noise = -np.log(gen.exponential(n, min(max(1, opt.trunc or 3), V)).astype(np.float64))
            coin = gen.rand(n)
        else:
            if t % block == 0:
                noises = -np.log(gen.exponential(block, n, V).astype(np.float64))
            noise = noises[t % block]
        if constraint is not None:
            nxt = constraint.pick(last, lambda lg, m: masked_draw(lg, m, noise, coin))
        else:
            nxt = free_draw(last, noise, coin)
        out[:, t] = nxt
        last = step(nxt)
        if progress and (t % 50 == 0 or t == length - 1):
            progress(t + 1, length)
        if done is not None and t % 64 == 63 and done(out[:, : t + 1].tolist()):
            return out[:, : t + 1].tolist()
    return out.tolist()


def _torch_sample(model, prime, n, length, opt, seed, progress, done, constraint, banned) -> list[list[int]]:
    """The plain torch loop, for a model with no numpy step (a transformer)."""
    import torch

    with torch.no_grad():
        state = model.init_state(n)
        logits, state = model(torch.tensor([prime] * n, dtype=torch.long), state)
        if banned:
            model = _Banned(model, banned)
            logits[..., banned] = float("-inf")
        return _torch_loop(model, logits[:, -1], state, n, length, opt, seed, progress, done, constraint)


def _torch_loop(model, last, state, n, length, opt, seed, progress, done, constraint) -> list[list[int]]:
    import torch

    gen = torch.Generator().manual_seed(seed)
    out = torch.empty(n, length, dtype=torch.long)
    for t in range(length):
        if constraint is not None:
            masked, forced = constraint.apply(last)
            if hasattr(constraint, "observe"):  # what the same draw would have been unmasked
                shadow = torch.Generator()
                shadow.set_state(gen.get_state())
                constraint.observe(choose(last, opt, shadow))
            nxt = constraint.push(choose(masked, opt, gen), forced)
        else:
            nxt = choose(last, opt, gen)
        out[:, t] = nxt
        logits, state = model(nxt[:, None], state)
        last = logits[:, -1]
        if progress and (t % 50 == 0 or t == length - 1):
            progress(t + 1, length)
        if done is not None and t % 64 == 63 and done(out[:, : t + 1].tolist()):
            return out[:, : t + 1].tolist()
    return out.tolist()
