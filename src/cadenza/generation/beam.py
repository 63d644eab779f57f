"""Beam search, plain or stochastic (Gumbel-top-k), on the torch network (loaded when called:
sampling without beams needs no torch)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from cadenza.generation.filters import SamplingOptions, filter_logits

if TYPE_CHECKING:
    import torch


def beam_search_ids(
    model: torch.nn.Module,
    prime: list[int],
    n: int,
    length: int,
    beam: int,
    opt: SamplingOptions,
    seed: int,
    stochastic: bool = False,
    length_penalty: float = 1.0,
    progress: Callable[[int, int], None] | None = None,
    done: Callable[[list[list[int]]], bool] | None = None,
    constraint: Any | None = None,
) -> list[list[int]]:
    """Beam search: keep the ``beam`` likeliest continuations of each of ``n`` samples.

    With ``stochastic`` the beams are chosen by Gumbel-top-k (Kool et al. 2019, "Stochastic Beams
    and Where to Find Them"): sampling without replacement in proportion to sequence probability,
    so output is varied instead of always the most conservative. Beam output is known to be
    conservative (repetitive, low-surprise music); ``cadenza evaluate`` shows it in its numbers.
    ``length_penalty`` divides the final score by length**penalty (only matters when samples stop
    at different lengths).
    """
    import torch

    with torch.no_grad():
        return _beams(model, prime, n, length, beam, opt, seed, stochastic, length_penalty, progress, done, constraint)


def _beams(model, prime, n, length, beam, opt, seed, stochastic, length_penalty, progress, done, constraint) -> list[list[int]]:
    import torch

    opt.validate()
    gen = torch.Generator().manual_seed(seed)
    B, N = beam, n
    state = model.init_state(N * B)
    logits, state = model(torch.tensor([prime] * (N * B), dtype=torch.long), state)
    last = logits[:, -1]
    V = last.shape[-1]
    scores = torch.full((N, B), float("-inf"))
    scores[:, 0] = 0.0  # all beams start identical: expand only the first
    seqs = torch.empty(N * B, 0, dtype=torch.long)
    for t in range(length):
        if constraint is not None:
            free = filter_logits(last, opt).argmax(-1)
            last, _ = constraint.apply(last)
            if hasattr(constraint, "observe"):  # a beam's top token the checker masked counts
                constraint.observe(free)
        logp = filter_logits(last, opt).log_softmax(-1)
        cand = (scores.view(N * B, 1) + logp).view(N, B * V)
        if stochastic:
            u = torch.rand(cand.shape, generator=gen).clamp_(1e-10, 1 - 1e-10)
            keyed = cand - torch.log(-torch.log(u))
            idx = torch.topk(keyed, B, dim=-1).indices
        else:
            idx = torch.topk(cand, B, dim=-1).indices
        scores = cand.gather(-1, idx)
        src = (torch.arange(N)[:, None] * B + idx // V).view(-1)
        tok = (idx % V).view(-1)
        seqs = torch.cat([seqs[src], tok[:, None]], dim=1)
        state = model.select_state(state, src)
        if constraint is not None:
            constraint.select(src)
            tok = constraint.push(tok, torch.zeros_like(tok, dtype=torch.bool))
        logits, state = model(tok[:, None], state)
        last = logits[:, -1]
        if progress and (t % 50 == 0 or t == length - 1):
            progress(t + 1, length)
        if done is not None and t % 64 == 63 and done(seqs.view(N, B, -1)[:, 0].tolist()):
            break
    final = scores / max(seqs.shape[1], 1) ** length_penalty
    best = final.argmax(-1)
    if constraint is not None and hasattr(constraint, "forced"):
        rows = (torch.arange(N) * B + best).tolist()
        constraint.forced = [constraint.forced[r] for r in rows]  # the kept beam's count
    return seqs.view(N, B, -1)[torch.arange(N), best].tolist()
