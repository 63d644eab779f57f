"""How the next token is chosen from a model's logits: temperature, top-k, nucleus (top-p), min-p,
and Clara's "mostly the top guess" rule, as one :class:`SamplingOptions` (defined with the
:class:`~cadenza.generation.request.Request` it travels in, which imports no torch) says. The
torch versions load torch when first called: the numpy sampling loop never needs it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import numpy as np

from cadenza.generation.request import SamplingOptions

if TYPE_CHECKING:
    import torch

__all__ = ["SamplingOptions", "choose", "choose_masked_np", "choose_np", "filter_logits", "filter_logits_np", "numpy_choosers"]


def filter_logits(logits: torch.Tensor, opt: SamplingOptions) -> torch.Tensor:
    """Apply temperature and the tail cuts to a (batch, vocab) tensor of logits."""
    import torch

    logits = logits / opt.temperature
    if opt.top_k > 0:
        k = min(opt.top_k, logits.shape[-1])
        kth = torch.topk(logits, k, dim=-1).values[..., -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if opt.min_p > 0:
        probs = logits.softmax(-1)
        cut = probs.max(-1, keepdim=True).values * opt.min_p
        logits = logits.masked_fill(probs < cut, float("-inf"))
    if opt.top_p < 1.0:
        sorted_logits, order = torch.sort(logits, descending=True, dim=-1)
        cum = sorted_logits.softmax(-1).cumsum(-1)
        drop = cum - sorted_logits.softmax(-1) >= opt.top_p  # keep the token that crosses top_p
        sorted_logits = sorted_logits.masked_fill(drop, float("-inf"))
        logits = torch.full_like(logits, float("-inf")).scatter(-1, order, sorted_logits)
    return logits


def choose(logits: torch.Tensor, opt: SamplingOptions, gen: torch.Generator) -> torch.Tensor:
    """One next token per row."""
    import torch

    if opt.random_freq > 0 or opt.trunc > 0:
        greedy = logits.argmax(-1)
        trunc = max(1, opt.trunc or 3)
        top = torch.topk(logits / opt.temperature, min(trunc, logits.shape[-1]), dim=-1)
        pick = torch.multinomial(top.values.softmax(-1), 1, generator=gen).squeeze(-1)
        alt = top.indices.gather(-1, pick[:, None]).squeeze(-1)
        coin = torch.rand(logits.shape[0], generator=gen) < opt.random_freq
        return torch.where(coin, alt, greedy)
    probs = filter_logits(logits, opt).softmax(-1)
    return torch.multinomial(probs, 1, generator=gen).squeeze(-1)


def filter_logits_np(logits: np.ndarray, opt: SamplingOptions) -> np.ndarray:
    """:func:`filter_logits` for a (batch, vocab) numpy array (the fast sampling loop's)."""
    if opt.temperature != 1.0:
        logits = logits / opt.temperature
    if opt.top_k > 0 and opt.top_k < logits.shape[-1]:
        kth = -np.partition(-logits, opt.top_k - 1, axis=-1)[:, opt.top_k - 1 : opt.top_k]
        logits = np.where(logits < kth, -np.inf, logits)
    if opt.min_p > 0:
        probs = _softmax(logits)
        logits = np.where(probs < probs.max(-1, keepdims=True) * opt.min_p, -np.inf, logits)
    if opt.top_p < 1.0:
        order = np.argsort(-logits, axis=-1, kind="stable")
        p = np.take_along_axis(_softmax(logits), order, -1)
        drop = np.cumsum(p, -1) - p >= opt.top_p  # keep the token that crosses top_p
        keep = np.empty_like(drop)
        np.put_along_axis(keep, order, ~drop, -1)
        logits = np.where(keep, logits, -np.inf)
    return logits


def _softmax(logits: np.ndarray) -> np.ndarray:
    e = np.exp(logits - logits.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _plain(opt: SamplingOptions) -> bool:
    return not (opt.random_freq > 0 or opt.trunc > 0 or opt.temperature != 1.0 or opt.top_k > 0 or opt.min_p > 0 or opt.top_p < 1.0)


def choose_np(logits: np.ndarray, opt: SamplingOptions, noise: np.ndarray, coin: np.ndarray | None = None) -> np.ndarray:
    """:func:`choose` for numpy logits with its randomness given: ``noise`` is Gumbel noise,
    ``-log`` of the exponential draws torch's ``multinomial`` races the probabilities against
    (``argmax(p / q)``), so with torch's draws this picks torch's tokens: (batch, vocab), or for
    Clara's rule (batch, trunc) over the top ``trunc`` tokens and ``coin`` (batch,) uniforms.
    Masking tokens under the same noise keeps the draw wherever it was allowed (what the kern
    constraint's count of changed steps needs)."""
    if opt.random_freq > 0 or opt.trunc > 0:
        greedy = logits.argmax(-1)
        trunc = min(max(1, opt.trunc or 3), logits.shape[-1])
        top = np.argsort(-logits, axis=-1, kind="stable")[:, :trunc]
        vals = np.take_along_axis(logits, top, -1) / opt.temperature + noise
        alt = np.take_along_axis(top, vals.argmax(-1)[:, None], -1)[:, 0]
        return np.where(coin < opt.random_freq, alt, greedy)
    if not _plain(opt):
        logits = filter_logits_np(logits, opt)
    return (logits + noise).argmax(-1)


def choose_masked_np(logits: np.ndarray, mask: np.ndarray, opt: SamplingOptions, noise: np.ndarray, coin: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(the draw from ``logits``, the same draw from the ``mask``ed logits) per row: a
    constraint's choice, and what it counts as a step it changed."""
    if not _plain(opt):
        return choose_np(logits, opt, noise, coin), choose_np(np.where(mask, logits, -np.inf), opt, noise, coin)
    return _masked_plain(logits, mask, noise)


def _masked_plain(logits: np.ndarray, mask: np.ndarray, noise: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y = logits + noise
    free = y.argmax(-1)
    if mask[0, free[0]] if len(free) == 1 else mask[np.arange(len(free)), free].all():
        return free, free  # the draw was allowed: masking its rivals leaves it the draw
    return free, np.where(mask, y, -np.inf).argmax(-1)


def numpy_choosers(opt: SamplingOptions) -> tuple[Callable, Callable]:
    """(:func:`choose_np`, :func:`choose_masked_np`) with ``opt`` bound, the plain draw (no
    temperature, no cuts) bound straight to its two operations: a sampling loop of 15,000 steps
    asks once instead of every step."""
    if _plain(opt):
        return (lambda logits, noise, coin: (logits + noise).argmax(-1)), (lambda logits, mask, noise, coin: _masked_plain(logits, mask, noise))
    return (lambda logits, noise, coin: choose_np(logits, opt, noise, coin)), (lambda logits, mask, noise, coin: choose_masked_np(logits, mask, opt, noise, coin))
