"""How the next token is chosen from a model's logits: temperature, top-k, nucleus (top-p), min-p,
and Clara's "mostly the top guess" rule."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from cadenza import CadenzaError


@dataclass(frozen=True)
class SamplingOptions:
    """How the next token is chosen. ``temperature`` < 1 is more conservative; ``top_k``/``top_p``/
    ``min_p`` cut the unlikely tail; ``random_freq``/``trunc`` is Clara's rule: take the top guess,
    but with probability ``random_freq`` sample among the top ``trunc`` guesses instead."""

    temperature: float = 1.0
    top_k: int = 0
    top_p: float = 1.0
    min_p: float = 0.0
    random_freq: float = 0.0
    trunc: int = 0

    def validate(self) -> None:
        if self.temperature <= 0:
            raise CadenzaError("--temperature must be > 0")
        if not 0 < self.top_p <= 1:
            raise CadenzaError("--top-p must be in (0, 1]")
        if not 0 <= self.min_p < 1:
            raise CadenzaError("--min-p must be in [0, 1)")
        if not 0 <= self.random_freq <= 1:
            raise CadenzaError("--random-freq must be in [0, 1]")


def filter_logits(logits: torch.Tensor, opt: SamplingOptions) -> torch.Tensor:
    """Apply temperature and the tail cuts to a (batch, vocab) tensor of logits."""
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
