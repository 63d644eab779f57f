"""The decode loop: sample continuations of a prime, all samples as one batch, one seeded generator."""

from __future__ import annotations

from typing import Any, Callable

import torch

from cadenza.generation.filters import SamplingOptions, choose


class few_threads:
    """Sampling a small model is a chain of tiny steps: extra threads only wait on each other
    (42 s vs 6 s for 20 samples seen on 2 busy cores), so use one while sampling."""

    def __init__(self, model: torch.nn.Module, limit: int = 2_000_000):
        self.small = sum(p.numel() for p in model.parameters()) < limit

    def __enter__(self) -> None:
        self.before = torch.get_num_threads()
        if self.small:
            torch.set_num_threads(1)

    def __exit__(self, *exc: object) -> None:
        torch.set_num_threads(self.before)


@torch.no_grad()
def sample_ids(
    model: torch.nn.Module,
    prime: list[int],
    n: int,
    length: int,
    opt: SamplingOptions,
    seed: int,
    progress: Callable[[int, int], None] | None = None,
    done: Callable[[list[list[int]]], bool] | None = None,
    constraint: Any | None = None,
) -> list[list[int]]:
    """``n`` continuations of ``prime`` of ``length`` new tokens each, as one batch. ``done``
    (checked every 64 steps) may end sampling early, e.g. once every sample has enough bars;
    ``constraint`` (a codec's, e.g. kern's validity checker) masks tokens that would make the
    output invalid."""
    opt.validate()
    gen = torch.Generator().manual_seed(seed)
    state = model.init_state(n)
    x = torch.tensor([prime] * n, dtype=torch.long)
    logits, state = model(x, state)
    last = logits[:, -1]
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
