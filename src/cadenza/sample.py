"""Generation: sample token sequences from a trained run and turn them into music files.

All samples of one call are drawn as one batch (one forward pass per step for all of them), from
one seeded generator, so the same seed and options give byte-identical files.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch

from cadenza import CadenzaError
from cadenza.codecs import get_codec, join_tokens, split_tokens
from cadenza.codecs.kern.constraint import KernConstraint, declare_meters, meter_of_ticks, signature_of_ticks  # noqa: F401


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
    constraint: KernConstraint | None = None,
) -> list[list[int]]:
    """``n`` continuations of ``prime`` of ``length`` new tokens each, as one batch. ``done``
    (checked every 64 steps) may end sampling early, e.g. once every sample has enough bars;
    ``constraint`` masks tokens that would make the output invalid."""
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


@torch.no_grad()
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
    constraint: KernConstraint | None = None,
) -> list[list[int]]:
    """Beam search: keep the ``beam`` likeliest continuations of each of ``n`` samples.

    With ``stochastic`` the beams are chosen by Gumbel-top-k (Kool et al. 2019, "Stochastic Beams
    and Where to Find Them"): sampling without replacement in proportion to sequence probability,
    so output is varied instead of always the most conservative. Beam output is known to be
    conservative (repetitive, low-surprise music); ``cadenza evaluate`` shows it in its numbers.
    ``length_penalty`` divides the final score by length**penalty (only matters when samples stop
    at different lengths).
    """
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
            last, _ = constraint.apply(last)
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
    return seqs.view(N, B, -1)[torch.arange(N), best].tolist()


def parse_form(form: str) -> list[str]:
    """``"AAB"`` -> ``["A", "A", "B"]``; letters only, the first must start a new phrase."""
    form = form.strip().upper()
    if not form or not form.isalpha():
        raise CadenzaError(f"--form {form!r}: use letters such as AAB, ABA or AABA")
    return list(form)


def form_plan(form: list[str]) -> list[tuple[str, str]]:
    """What to do for each section: ``("new", L)`` sample fresh material, ``("repeat", L)`` copy
    phrase L exactly, ``("vary", L)`` start like L's opening half then continue into new material.

    The varied start is the "sentence" seed 2 wished for: a phrase, its exact repetition, then a
    third statement that begins the same way and goes somewhere new. A new letter right after an
    exact repetition gets it (AAB: A, A, then B opening like A); otherwise a new letter is free.
    """
    plan: list[tuple[str, str]] = []
    seen: set[str] = set()
    for i, letter in enumerate(form):
        if letter in seen:
            plan.append(("repeat", letter))
        elif i >= 2 and form[i - 1] == form[i - 2] and plan[i - 1][0] == "repeat":
            plan.append(("vary", form[i - 1]))
        else:
            plan.append(("new", letter))
        seen.add(letter)
    return plan


def bar_ends(seq: list[int], bar_id: int, nl_id: int) -> list[int]:
    """Indices of the newline closing each barline line (``@`` alone on its line)."""
    return [i for i in range(1, len(seq)) if seq[i] == nl_id and seq[i - 1] == bar_id and (i < 2 or seq[i - 2] == nl_id)]


def _bars_of(seq: list[int], bar_id: int, nl_id: int) -> list[list[int]]:
    """Split ids into bars, each ending with its barline line."""
    bars, start = [], 0
    for end in bar_ends(seq, bar_id, nl_id):
        bars.append(seq[start : end + 1])
        start = end + 1
    if start < len(seq):
        bars.append(seq[start:])
    return bars


def sample_form(model, prime: list[int], vocab: list[str], form: str, phrase_bars: int, opt: SamplingOptions, seed: int, n: int = 1,
                progress: Callable[[int, int], None] | None = None, make_constraint=None) -> tuple[list[list[int]], list[list[dict[str, Any]]], list[int]]:
    """Sample ``n`` pieces in a form such as AAB: returns the ids and, per sample, the phrases
    (letter, how made, first and last bar)."""
    if phrase_bars < 1:
        raise CadenzaError("--phrase-bars must be at least 1")
    if "@" not in vocab:
        raise CadenzaError("--form needs a kern model (bars are marked by '@')")
    bar_id, nl_id = vocab.index("@"), vocab.index("\n")
    plan = form_plan(parse_form(form))
    out_ids, out_marks, out_forced, out_meters = [], [], [], []
    for i in range(n):
        forced = 0
        meter = None
        text = list(prime)
        phrases: dict[str, list[int]] = {}
        marks = []
        bar = 1
        for j, (how, letter) in enumerate(plan):
            if how == "repeat":
                section = list(phrases[letter])
            else:
                start: list[int] = []
                if how == "vary":
                    src = _bars_of(phrases[letter], bar_id, nl_id)
                    start = [t for b in src[: max(1, (phrase_bars + 1) // 2)] for t in b]
                need = phrase_bars - sum(1 for _ in _bars_of(start, bar_id, nl_id))
                cont: list[int] = []
                if need > 0:
                    done = lambda rows: len(bar_ends(rows[0], bar_id, nl_id)) >= need  # noqa: E731
                    con = make_constraint(1, text + start) if make_constraint else None
                    got = sample_ids(model, text + start, 1, need * 400, opt, seed * 1000 + i * 31 + j, None, done, con)[0]
                    forced += con.forced[0] if con else 0
                    meter = meter or (con.meters[0] if con else None)
                    cont = _cut_after_bars(got, bar_id, nl_id, need)
                section = start + cont
                letter = plan[j][1] if how == "new" else form.strip().upper()[j]
                phrases.setdefault(letter, section)
            nbars = len(_bars_of(section, bar_id, nl_id))
            marks.append({"phrase": form.strip().upper()[j], "made": how, "first_bar": bar, "last_bar": bar + nbars - 1})
            bar += nbars
            text += section
            if progress:
                progress(i * len(plan) + j + 1, n * len(plan))
        out_ids.append(text[len(prime):])
        out_marks.append(marks)
        out_forced.append(forced)
        out_meters.append(meter)
    return out_ids, out_marks, out_forced, out_meters


def word_steps(words: list[str], codec_name: str) -> list[int]:
    """For notewise/chordwise words: the grid step each word ends at (so phrases can be cut at a
    bar line of the grid). notewise: waits advance time; chordwise: one step per chord word of
    the first instrument in a step (or per letter, a step where nothing changes)."""
    import re as _re

    from cadenza.codecs.notewise import RANK

    out, now, last_rank = [], 0, None
    for w in words:
        if codec_name == "notewise":
            m = _re.fullmatch(r"wait(\d+)", w)
            if m:
                now += int(m.group(1))
        else:
            if _re.fullmatch(r"[a-z]", w):
                now += 1
                last_rank = None
            else:
                m = _re.fullmatch(r"([a-z]+)[012]+", w)
                rank = RANK.get(m.group(1), 0) if m else 0
                if last_rank is None or rank <= last_rank:
                    now += 1  # a new step starts with its first instrument
                last_rank = rank
        out.append(now)
    return out


def sample_form_words(model, prime: list[int], vocab: list[str], codec, form: str, phrase_bars: int, bar_steps: int, opt: SamplingOptions,
                      seed: int, n: int = 1, progress: Callable[[int, int], None] | None = None) -> tuple[list[list[int]], list[list[dict[str, Any]]]]:
    """:func:`sample_form` for notewise/chordwise models: phrases of ``phrase_bars`` bars of
    ``bar_steps`` grid steps; a phrase is cut where the grid reaches its end."""
    plan = form_plan(parse_form(form))
    letters = form.strip().upper()
    need_steps = phrase_bars * bar_steps

    def steps(ids: list[int]) -> list[int]:
        return word_steps([vocab[j] for j in ids], codec.name)

    def close(ids: list[int]) -> list[int]:
        """notewise: release the notes still sounding, so a phrase can be repeated exactly."""
        if codec.name != "notewise":
            return ids
        import re as _re

        on: dict[str, None] = {}
        for j in ids:
            w = vocab[j]
            if _re.fullmatch(r"end[a-z]+\d+", w):
                on.pop(w[3:], None)
            elif _re.fullmatch(r"[a-z]+\d+", w) and not w.startswith("wait"):
                on[w] = None
        return ids + [vocab.index("end" + w) for w in on if "end" + w in vocab]

    def cut(ids: list[int], limit: int) -> list[int]:
        return close(_cut(ids, limit))

    def _cut(ids: list[int], limit: int) -> list[int]:
        st = steps(ids)
        if codec.name == "chordwise":  # words are whole steps: keep the first ``limit`` of them
            return next((ids[:k] for k, v in enumerate(st) if v > limit), ids)
        for k, v in enumerate(st):
            if v >= limit:
                if codec.name == "notewise" and v > limit and vocab[ids[k]].startswith("wait"):
                    over = v - limit
                    keep = int(vocab[ids[k]][4:]) - over
                    w = f"wait{keep}"
                    return ids[:k] + ([vocab.index(w)] if keep > 0 and w in vocab else [])
                # chordwise: step k starts at limit + 1; keep what came before it
                return ids[: k + 1] if codec.name == "notewise" else ids[:k]
        return ids

    out_ids, out_marks = [], []
    for i in range(n):
        text = list(prime)
        phrases: dict[str, list[int]] = {}
        marks, at = [], 0
        for j, (how, letter) in enumerate(plan):
            if how == "repeat":
                section = list(phrases[letter])
            else:
                start = cut(phrases[letter], need_steps // 2) if how == "vary" else []
                left = need_steps - (steps(start)[-1] if start else 0)
                cont: list[int] = []
                if left > 0:
                    done = lambda rows: (steps(rows[0])[-1] if rows[0] else 0) >= left + (1 if codec.name == "chordwise" else 0)  # noqa: E731
                    got = sample_ids(model, text + start, 1, max(64, left * 8), opt, seed * 1000 + i * 31 + j, None, done)[0]
                    cont = cut(got, left)
                section = start + cont
                phrases.setdefault(letters[j], section)
            marks.append({"phrase": letters[j], "made": how, "first_bar": at // bar_steps + 1, "last_bar": (at + need_steps) // bar_steps})
            at += need_steps
            text += section
            if progress:
                progress(i * len(plan) + j + 1, n * len(plan))
        out_ids.append(text[len(prime):])
        out_marks.append(marks)
    return out_ids, out_marks


def mark_phrases(kern: str, marks: list[dict[str, Any]]) -> str:
    """Insert a ``!!phrase`` comment line before the barline that opens each phrase."""
    starts = {m["first_bar"]: m for m in marks}
    out = []
    for line in kern.split("\n"):
        head = line.split("\t")[0]
        if head.startswith("=") and head[1:].rstrip("-").isdigit() and int(head[1:].rstrip("-")) in starts:
            m = starts[int(head[1:].rstrip("-"))]
            out.append(f"!!phrase {m['phrase']} ({m['made']}) bars {m['first_bar']}-{m['last_bar']}")
        out.append(line)
    return "\n".join(out)


def encode_prime(text: str, vocab: list[str], unit: str, map_unknown: bool = False, where: str = "--prime") -> list[int]:
    """Prime text -> ids. Characters (or words) the model never saw are an error naming them,
    unless ``map_unknown``, which drops them (and says how many)."""
    stoi = {t: i for i, t in enumerate(vocab)}
    toks = split_tokens(text, unit)
    bad = [(i, t) for i, t in enumerate(toks) if t not in stoi]
    if bad and not map_unknown:
        shown = ", ".join(f"{t!r} at {i}" for i, t in bad[:5])
        raise CadenzaError(f"{where}: {len(bad)} {'character' if unit == 'char' else 'token'}(s) the model never saw: {shown} (use --map-unknown to drop them)")
    return [stoi[t] for t in toks if t in stoi]


@dataclass
class Sample:
    index: int
    text: str
    files: dict[str, Path] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)


def generate(
    run: Path,
    out: Path,
    n: int = 1,
    length: int = 2000,
    seed: int = 0,
    prime: str | None = None,
    options: SamplingOptions = SamplingOptions(),
    formats: tuple[str, ...] = ("krn", "mid", "musicxml"),
    map_unknown: bool = False,
    bars: int = 0,
    beam: int = 0,
    beam_sample: bool = False,
    form: str | None = None,
    phrase_bars: int = 4,
    seconds: float = 0.0,
    constrained: bool | None = None,
    progress: Callable[[int, int], None] | None = None,
    on_sample: Callable[[Sample], None] | None = None,
) -> list[Sample]:
    """Sample ``n`` pieces from the run folder ``run`` into ``out`` (``sample-01.krn`` ...)."""
    from cadenza.pretrained import resolve
    from cadenza.train import load_run

    model, config = load_run(resolve(run))
    codec = get_codec(config["codec"], config["codec_options"])
    vocab = config["vocab"]
    prime_text = codec.default_prime(vocab) if prime is None else prime
    ids = encode_prime(prime_text, vocab, codec.unit, map_unknown)
    if not ids:
        # an empty prime: start from the most neutral token the model knows
        ids = [vocab.index("\n")] if "\n" in vocab else [0]
    done = None
    target = 0.0
    if codec.unit == "word" and (bars or seconds):
        ctx = config.get("context", {})
        ts = ctx.get("time_signature") or [4, 4]
        qpm = ctx.get("tempo") or 120.0
        target = seconds * qpm / 60.0 if seconds else bars * ts[0] * 4.0 / ts[1]
        length = max(length, int(target * codec.options.steps_per_quarter * 8))
        start = codec.decode(join_tokens([vocab[j] for j in ids], "word"), ctx).payload.end

        def done(rows: list[list[int]]) -> bool:
            return all(codec.decode(join_tokens([vocab[j] for j in ids + r], "word"), ctx).payload.end >= start + target for r in rows)

        bars = 0
    elif seconds:
        raise CadenzaError("--seconds needs a notewise/chordwise model (use --bars for kern)")
    if bars:
        bar_id, nl_id = vocab.index("@"), vocab.index("\n")
        need = bars + 1 if ids[-2:] != [bar_id, nl_id] else bars  # the closing barline of the last bar
        done = lambda rows: all(len(bar_ends(r, bar_id, nl_id)) >= need for r in rows)  # noqa: E731
        length = max(length, bars * int(config.get("context", {}).get("chars_per_bar", 120) * 4))
    ctx = config.get("context", {})
    has_constraint = codec.constraint(vocab, ctx, 0, "") is not None
    if constrained is None:
        constrained = has_constraint
    if constrained and not has_constraint:
        raise CadenzaError(f"--constrained: {codec.name} decoding never fails, so it has no constraint")
    make = (lambda rows, prefix: codec.constraint(vocab, ctx, rows, join_tokens([vocab[j] for j in prefix], codec.unit))) if constrained else None
    with few_threads(model):
        seqs, marks, forced, meters = _draw(model, ids, vocab, codec, n, length, seed, options, form, phrase_bars, beam, beam_sample, progress, done, make, config.get("context", {}))
    if bars:
        seqs = [_cut_after_bars(seq, bar_id, nl_id, need) for seq in seqs]
    return _write_samples(run, out, seqs, ids, vocab, codec, config, marks, formats, n, length, seed, options, on_sample, forced, constrained, meters)


def _draw(model, ids, vocab, codec, n, length, seed, options, form, phrase_bars, beam, beam_sample, progress, done, make=None, context=None):
    marks: list[list[dict[str, Any]]] | None = None
    forced = [0] * n
    meters: list[Any] = [None] * n
    if form and codec.unit == "word":
        ctx = context or {}
        ts = ctx.get("time_signature") or [4, 4]
        bar_steps = max(1, int(round(codec.options.steps_per_quarter * 4 * ts[0] / ts[1])))
        seqs, marks = sample_form_words(model, ids, vocab, codec, form, phrase_bars, bar_steps, options, seed, n, progress)
    elif form:
        seqs, marks, forced, meters = sample_form(model, ids, vocab, form, phrase_bars, options, seed, n, progress, make)
        if make:
            meters = [_declared(vocab, ids + seq, make) for seq in seqs]
    elif beam > 1 or beam_sample:
        B = max(beam, 1)
        con = make(n * B, ids) if make else None
        seqs = beam_search_ids(model, ids, n, length, B, options, seed, beam_sample, progress=progress, done=done, constraint=con)
        if con:
            meters = [_declared(vocab, ids + seq, make) for seq in seqs]
            forced = [0] * n
    else:
        con = make(n, ids) if make else None
        seqs = sample_ids(model, ids, n, length, options, seed, progress, done, con)
        if con:
            forced, meters = list(con.forced), [(m, con.declarations(r)) if m else None for r, m in enumerate(con.meters)]
    return seqs, marks, forced, meters


def _declared(vocab: list[str], seq: list[int], make) -> tuple[tuple[int, int], list[tuple[int, str]]] | None:
    spines = make(1, []).checkers[0].spines
    meter, lines = declare_meters("".join(vocab[j] for j in seq), vocab, spines)
    return (meter, lines) if meter else None


def _write_samples(run, out, seqs, ids, vocab, codec, config, marks, formats, n, length, seed, options, on_sample, forced=None, constrained=False, meters=None) -> list[Sample]:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    samples = []
    for i, seq in enumerate(seqs):
        text = join_tokens([vocab[j] for j in ids + seq], codec.unit)
        keep = len(ids)  # never cut into the prime
        if codec.unit == "char" and text.rfind("\n") >= keep and not text.endswith("\n"):
            text = text[: text.rindex("\n") + 1]  # --length stopped mid-line: end at the last whole line
        if constrained and codec.unit == "char" and text.rfind("\n@\n") >= keep and not text.endswith("\n@\n"):
            text = text[: text.rindex("\n@\n") + 3]  # ... and, valid by construction, at the last whole bar
        context = config.get("context", {})
        meter = meters[i] if meters else None
        if isinstance(meter, tuple) and len(meter) == 2 and isinstance(meter[1], list):
            meter, declared = meter
            head = f"*M{meter[0]}/{meter[1]}" if meter else None
            for offset, line in sorted(declared, reverse=True):
                if offset < 0:
                    head = line.split("\t")[0].strip()
                else:
                    text = text[:offset] + line + text[offset:]
        else:
            head = f"*M{meter[0]}/{meter[1]}" if meter else None
        if meter and "header" in context:
            header = dict(context["header"], meter=head)
            if header.get("met") and not (tuple(meter) == (4, 4) and header["met"] == "*met(c)"):
                header["met"] = None  # a mensuration sign only where it fits the metre
            context = dict(context, header=header)
        decoded = codec.decode(text, context)
        if codec.bar_token:
            decoded.stats["constrained"] = bool(constrained)
            decoded.stats["forced_steps"] = forced[i] if forced else 0
        if marks is not None:
            if isinstance(decoded.payload, str):
                decoded.payload = mark_phrases(decoded.payload, marks[i])
            decoded.stats["phrases"] = marks[i]
        stem = out / f"sample-{i + 1:02d}"
        files = codec.export(decoded, stem, formats)
        (stem.with_suffix(".txt")).write_text(text, encoding="utf-8")
        s = Sample(i + 1, text, files, decoded.stats)
        samples.append(s)
        if on_sample:
            on_sample(s)
    summary = [{"sample": s.index, **{k: v for k, v in s.stats.items()}, "files": {k: str(v) for k, v in s.files.items()}} for s in samples]
    (out / "summary.json").write_text(json.dumps({"run": str(run), "seed": seed, "n": n, "length": length, "options": options.__dict__, "samples": summary}, indent=1), encoding="utf-8")
    return samples


def _cut_after_bars(seq: list[int], bar_id: int, nl_id: int, count: int) -> list[int]:
    """Keep ``seq`` up to and including its ``count``-th barline line."""
    ends = bar_ends(seq, bar_id, nl_id)
    return seq[: ends[count - 1] + 1] if len(ends) >= count else seq


# --------------------------------------------------------------------------------------------
# Continuing the user's own music (MIDI codecs)



def read_prompt(path: Path):
    """A user's file to continue, as a :class:`~cadenza.music.Piece` (MIDI, kern or MusicXML)."""
    from cadenza.scores import read_piece_file

    piece = read_piece_file(Path(path))
    if not any(t.notes for t in piece.tracks):
        raise CadenzaError(f"{path}: no notes to continue")
    return piece


def prompt_excerpt(piece, bars: int = 0, seconds: float = 0.0):
    """The last ``bars`` bars (by the final time signature) or ``seconds`` of ``piece``, moved to
    start at 0. Returns (excerpt, start in quarters of the original)."""
    end = piece.end
    if seconds > 0:
        qpm = piece.tempos[-1][1] if piece.tempos else 120.0
        start = max(0.0, end - seconds * qpm / 60.0)
    elif bars > 0:
        q0, num, den = piece.time_signatures[-1] if piece.time_signatures else (0.0, 4, 4)
        bar = num * 4.0 / den
        n_bars = math.ceil((end - q0) / bar - 1e-9)
        start = max(0.0, q0 + (n_bars - bars) * bar) if n_bars > bars else 0.0
    else:
        start = 0.0
    return piece.slice(start, end + 1e-6), start


def fit_prompt_words(words: list[str], vocab: list[str]) -> tuple[list[str], int]:
    """Rewrite prompt words the model never saw into ones it knows, where that keeps the music:
    a ``wait9`` becomes ``wait8 wait1`` (waits add up), an unseen chordwise step becomes the
    nearest known step of the same instrument (fewest keys changed). Returns the words and how
    many were approximated (the output still holds the prompt's own notes, exactly)."""
    import re as _re

    known = set(vocab)
    waits = sorted((int(w[4:]) for w in known if _re.fullmatch(r"wait\d+", w)), reverse=True)
    steps: dict[tuple[str, int], list[str]] = {}
    for w in known:
        m = _re.fullmatch(r"([a-z]+)([012]+)", w)
        if m:
            steps.setdefault((m.group(1), len(m.group(2))), []).append(w)
    out, approx = [], 0
    for w in words:
        if w in known:
            out.append(w)
            continue
        m = _re.fullmatch(r"wait(\d+)", w)
        if m and waits:
            left, parts = int(m.group(1)), []
            for v in waits:
                while left >= v:
                    parts.append(f"wait{v}")
                    left -= v
            if left == 0:
                out += parts
                continue
        m = _re.fullmatch(r"([a-z]+)([012]+)", w)
        if m and (m.group(1), len(m.group(2))) in steps:
            cands = steps[(m.group(1), len(m.group(2)))]
            best = min(cands, key=lambda c: (sum(a != b for a, b in zip(c[len(m.group(1)):], m.group(2))), c))
            out.append(best)
            approx += 1
            continue
        out.append(w)  # left for check_prompt to explain
    return out, approx


def check_prompt(codec, encoded, vocab: list[str], where: str) -> None:
    """Refuse, with a clear message, a prompt the model cannot express (unknown instruments,
    pitches outside its range) rather than continue garbage."""
    known = set(vocab)
    words = encoded.text.split()
    unknown = sorted({w for w in words if w not in known})
    folded = encoded.info.get("folded", 0)
    if folded:
        low = getattr(codec, "lowest", None)
        rng = getattr(codec.options, "note_range", "?")
        raise CadenzaError(f"{where}: {folded} note(s) lie outside the model's {rng}-key range{f' (from MIDI {low})' if low else ''}; transpose the prompt or use a model with a wider --note-range")
    if unknown:
        import re as _re

        def prefixes(words: list[str]) -> set[str]:
            return {m.group(1) for w in words if (m := _re.match(r"(?:end)?([a-z]+?)[012]*\d+$", w)) and m.group(1) != "wait"}

        pre = sorted(prefixes(unknown))
        trained = sorted(prefixes(vocab))
        if pre and not set(pre) <= set(trained):
            raise CadenzaError(f"{where}: the model knows the instruments {', '.join(trained)} but the prompt has {', '.join(sorted(set(pre) - set(trained)))}")
        raise CadenzaError(f"{where}: {len(unknown)} token(s) the model never saw, e.g. {', '.join(unknown[:4])}")


def continue_piece(
    run: Path,
    prompt: Path,
    out: Path,
    n: int = 1,
    length: int = 1000,
    seed: int = 0,
    prompt_bars: int = 4,
    prompt_seconds: float = 0.0,
    bars: int = 0,
    seconds: float = 0.0,
    options: SamplingOptions = SamplingOptions(),
    progress: Callable[[int, int], None] | None = None,
) -> list[Sample]:
    """Continue the last bars of the user's ``prompt`` file. Writes per sample ``NAME-01.mid``
    (the prompt excerpt, note for note, then the continuation) and ``NAME-01-continuation.mid``,
    with the prompt's tempo, metre and instruments."""
    from cadenza.music import Piece, Track, write_midi
    from cadenza.pretrained import resolve
    from cadenza.train import load_run

    model, config = load_run(resolve(run))
    codec = get_codec(config["codec"], config["codec_options"])
    if codec.unit != "word":
        raise CadenzaError(f"--prompt continues MIDI-codec models (notewise/chordwise); {run} is a {codec.name} model (use --prime-file with cleaned kern text)")
    piece = read_prompt(prompt)
    excerpt, _ = prompt_excerpt(piece, prompt_bars, prompt_seconds)
    enc = codec.encode_piece(excerpt)
    words, approximated = fit_prompt_words(enc.text.split(), config["vocab"])
    check_prompt(codec, type(enc)(enc.name, " ".join(words), enc.info), config["vocab"], str(prompt))
    ids = encode_prime(" ".join(words), config["vocab"], "word", where=str(prompt))
    if not ids:
        raise CadenzaError(f"{prompt}: the prompt excerpt has no notes")
    boundary = codec.decode(enc.text, enc.info).payload.end
    qpm = excerpt.tempos[-1][1] if excerpt.tempos else 120.0
    bar = excerpt.time_signatures[-1][1] * 4.0 / excerpt.time_signatures[-1][2] if excerpt.time_signatures else 4.0
    target = seconds * qpm / 60.0 if seconds > 0 else bars * bar
    done = None
    if target > 0:
        length = max(length, int(target * codec.options.steps_per_quarter * 8))

        def done(rows: list[list[int]]) -> bool:
            return all(codec.decode(" ".join(config["vocab"][j] for j in ids + r), enc.info).payload.end >= boundary + target for r in rows)

    with few_threads(model):
        seqs = sample_ids(model, ids, n, length, options, seed, progress, done)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    samples = []
    for i, seq in enumerate(seqs):
        text = " ".join(config["vocab"][j] for j in ids + seq)
        decoded = codec.decode(text, enc.info)
        cont_notes = {}
        for t in decoded.payload.tracks:
            kept = [nt for nt in t.notes if nt.start >= boundary - 1e-9 and (target <= 0 or nt.start < boundary + target)]
            if target > 0:
                from dataclasses import replace

                kept = [replace(nt, duration=min(nt.duration, boundary + target - nt.start)) for nt in kept]
            cont_notes[(t.program, t.name)] = (t, kept)
        # prompt + continuation: the user's notes exactly, then the model's, on matching tracks
        tracks = [Track(t.name, t.program, list(t.notes), t.is_drum) for t in excerpt.tracks]
        for (program, name), (t, kept) in cont_notes.items():
            home = next((x for x in tracks if x.program == program), None)
            if home is None:
                home = Track(name, program, [])
                tracks.append(home)
            home.notes = sorted(home.notes + kept)
        full = Piece(tracks, list(excerpt.tempos), list(excerpt.time_signatures), name=f"{Path(prompt).stem} continued")
        if hasattr(excerpt, "key_signatures"):
            full.key_signatures = list(excerpt.key_signatures)
        cont = full.slice(boundary, max(full.end, boundary) + 1e-6)
        stem = out / f"{Path(prompt).stem}-{i + 1:02d}"
        files = {"mid": write_midi(full, stem.with_suffix(".mid")), "continuation": write_midi(cont, Path(f"{stem}-continuation.mid"))}
        stem.with_suffix(".txt").write_text(text, encoding="utf-8")
        stats = dict(decoded.stats)
        stats.update({"prompt_tokens_approximated": approximated, "prompt_quarters": round(boundary, 3), "continuation_quarters": round(cont.end, 3), "notes": sum(len(t.notes) for t in full.tracks), "parsed": True})
        samples.append(Sample(i + 1, text, files, stats))
    return samples
