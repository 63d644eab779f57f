"""``generate(run, out, request)``: the one way from a :class:`Run` and a :class:`Request` to
music files. New pieces are sampled here and written with ``summary.json``; a continuation of a
music file (:mod:`.continuation`) and bars rewritten (:mod:`.infill`) are sent on.

All samples of one call are drawn as one batch (one forward pass per step for all of them), from
one seeded generator, so the same seed and options give byte-identical files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from cadenza import CadenzaError
from cadenza.codecs import Codec, LengthGoal, join_tokens
from cadenza.codecs.base import MetreKey, SettlesMetre, able
from cadenza.codecs.fim import prime_only, strip_sentinels
from cadenza.codecs.labels import label_prime, split_labels, strip_labels
from cadenza.generation.chords import with_progression
from cadenza.generation.beam import beam_search_ids
from cadenza.generation.continuation import follow
from cadenza.generation.decode import few_threads, sample_ids
from cadenza.generation.forms import mark_phrases, sample_form
from cadenza.generation.infill import rewrite_bars
from cadenza.generation.request import Request, request_of
from cadenza.generation.run import Run, open_run
from cadenza.generation.samples import Sample, encode_prime, write_summary
from cadenza.music.metre_key import Key, Metre


@dataclass
class Drawn:
    """Sampled ids (after the prime), and per sample: form phrases, forced steps, the metre it
    settled on (the codec's, see ``settles_metre``; None: nothing to declare)."""

    seqs: list[list[int]]
    marks: list[list[dict[str, Any]]] | None
    forced: list[int]
    meters: list[Any]


def generate(
    run: Run | str | Path,
    out: Path | str,
    request: Request | None = None,
    *,
    formats: tuple[str, ...] | None = None,
    progress: Callable[[int, int], None] | None = None,
    on_sample: Callable[[Sample], None] | None = None,
    **fields: Any,
) -> list[Sample]:
    """Generate what ``request`` asks (a :class:`~cadenza.generation.request.Request`; keywords
    are its fields: ``generate(run, out, n=4, bars=16)``) with ``run`` (a :class:`Run`, a run
    folder or a bundled model's name) into ``out``: new pieces (``sample-01.krn`` ... and
    ``summary.json``), a continuation of ``request.prompt`` (:mod:`.continuation`), or its bars
    ``request.rewrite`` written anew (:mod:`.infill`).

    ``formats``: the files each new piece is written as (default the codec's ``sample_formats``);
    ``progress(done, total)`` is called while sampling, ``on_sample(sample)`` as each is written."""
    run = open_run(run)
    req = request_of(request, **fields).seeded()
    if req.rewrite is not None:
        return rewrite_bars(run, req, Path(out), formats, progress)
    if req.prompt is not None:
        return follow(run, req, Path(out), progress)
    return _new_pieces(run, req, Path(out), formats or run.codec.sample_formats, progress, on_sample)


def _new_pieces(run: Run, req: Request, out: Path, formats: tuple[str, ...], progress: Callable[[int, int], None] | None,
                on_sample: Callable[[Sample], None] | None) -> list[Sample]:
    """New pieces: the codec's opening for the metre and key (drawn when not given) or the
    prime, then sampled, in a form, or by beam search; each cut at its length goal."""
    codec, vocab = run.codec, run.vocab
    prime, context, opening = _condition(codec, run.context, vocab, req.prime, req.metre, req.key, req.seed, dict(req.labels))
    head = label_prime(context, vocab, unit=codec.unit, **req.labels)
    if head:
        opening = dict(opening, labels=split_labels(head, codec.unit)[0])
    context = with_progression(codec, context, vocab, req.progression, req.constrained, strength=req.chord_strength)
    if req.chords:
        opening = dict(opening, chords=req.chords)
    ids = encode_prime(head + (codec.default_prime(vocab) if prime is None else prime), vocab, codec.unit, req.map_unknown)
    if not ids:
        # an empty prime: start from the most neutral token the model knows
        ids = [vocab.index("\n")] if "\n" in vocab else [0]
    goal = codec.length_goal([vocab[j] for j in ids], context, req.bars, req.seconds)
    if goal is not None:
        req = req.but(length=max(req.length, goal.min_length))
    make = _constraint_maker(codec, vocab, context, req.constrained)
    model = run.model if req.beam > 1 or req.beam_sample else run.sampler  # beams search on the network
    with few_threads(model):
        drawn = _draw(model, codec, vocab, context, ids, req, progress, goal, make)
    if goal is not None and (goal.finish is not None or not req.form):  # a form is as long as its phrases make it, as before
        drawn.seqs = [to_goal(codec, vocab, ids, seq, goal) for seq in drawn.seqs]
    return write_samples(run, out, context, ids, drawn, req, formats, make is not None, on_sample, opening)


def to_goal(codec: Codec, vocab: list[str], prime: list[int], seq: list[int], goal: LengthGoal) -> list[int]:
    """One sample of a batch cut at its own length goal. A batch samples until its slowest sample
    reaches the goal (and the goal is checked every 64 steps), so every sample runs past it; each
    is cut where it got there: by the codec's ``finish`` (kern: after its last bar), or else at
    the earliest grid step whose :meth:`Codec.cut` (which releases the notes sounding there)
    reaches the goal. A sample that never reached it is kept whole."""
    stoi = {t: i for i, t in enumerate(vocab)}
    toks = [vocab[j] for j in seq]
    if goal.finish is not None:
        return [stoi[t] for t in goal.finish(toks)]
    if not goal.done(toks):
        return seq
    head = [vocab[j] for j in prime]

    def cut(units: int) -> list[str] | None:
        got = codec.cut(head + toks, units, vocab)
        return got[len(head):] if got[: len(head)] == head and goal.done(got[len(head):]) else None

    # cutting later never ends the music sooner, so the first step that reaches the goal is bisected
    lo, hi, best = codec.reach(head) + 1, codec.reach(head + toks) + 1, None
    while lo <= hi:
        mid = (lo + hi) // 2
        got = cut(mid)
        if got is None:
            lo = mid + 1
        else:
            best, hi = got, mid - 1
    return seq if best is None else [stoi[t] for t in best]


def _condition(codec: Codec, context: dict[str, Any], vocab: list[str], prime: str | None, metre: Metre | None, key: Key | None, seed: int,
               labels: dict[str, str] | None = None) -> tuple[str | None, dict[str, Any], dict[str, Any]]:
    """(prime, context, what to report): the codec's opening for ``metre`` / ``key`` (drawn when
    not given), unless the user's own prime opens the piece."""
    chooses = codec.can("metre_key")
    if metre is None and key is None:
        if prime is not None or not chooses:
            return prime, context, {}
    elif not chooses:
        raise CadenzaError(f"--metre/--key: a {codec.name} model has no metre or key to choose (use a kern model)")
    got, context, opening = able(codec, "metre_key", MetreKey).condition(context, vocab, metre, key, seed, labels or None)
    return (got if got is not None else prime), context, opening


def _constraint_maker(codec: Codec, vocab: list[str], context: dict[str, Any], constrained: bool | None) -> Callable[[int, list[int]], Any] | None:
    """``make(rows, prefix_ids)``: the codec's decoding constraint, if it has one and it is wanted
    (by default where it has one)."""
    has_constraint = codec.constraint(vocab, context, 0, "") is not None
    if constrained is None:
        constrained = has_constraint
    if constrained and not has_constraint:
        raise CadenzaError(f"--constrained: {codec.name} decoding never fails, so it has no constraint")
    if not constrained:
        return None
    return lambda rows, prefix: codec.constraint(vocab, context, rows, strip_labels(join_tokens([vocab[j] for j in prefix], codec.unit), codec.unit))


def _draw(model: Any, codec: Codec, vocab: list[str], context: dict[str, Any], ids: list[int], req: Request,
          progress: Callable[[int, int], None] | None, goal: LengthGoal | None, make: Callable[[int, list[int]], Any] | None) -> Drawn:
    n = req.n
    done = None if goal is None else (lambda rows: all(goal.done([vocab[j] for j in r]) for r in rows))
    if req.form:
        seqs, marks, forced = sample_form(model, ids, vocab, codec, context, req.form, req.phrase_bars, req.options, req.seed, n, progress, make)
        return Drawn(seqs, marks, forced, _settled(codec, vocab, context, ids, seqs) if make else [None] * n)
    if req.beam > 1 or req.beam_sample:
        B = max(req.beam, 1)
        con = make(n * B, ids) if make else None
        seqs = beam_search_ids(model, ids, n, req.length, B, req.options, req.seed, req.beam_sample, progress=progress, done=done, constraint=con)
        return Drawn(seqs, None, list(con.forced) if con else [0] * n, _settled(codec, vocab, context, ids, seqs) if con else [None] * n)
    con = make(n, ids) if make else None
    seqs = sample_ids(model, ids, n, req.length, req.options, req.seed, progress, done, con, banned=prime_only(vocab, codec.unit))
    if con:
        return Drawn(seqs, None, list(con.forced), _settled(codec, vocab, context, ids, seqs, con))
    return Drawn(seqs, None, [0] * n, [None] * n)


def _settled(codec: Codec, vocab: list[str], context: dict[str, Any], ids: list[int], seqs: list[list[int]], con: Any = None) -> list[Any]:
    """Per constrained sample, the metre it settled on (``settles_metre``: as ``con`` followed
    it, or read from its text where no one constraint did: forms, beams), or None."""
    if not codec.can("settles_metre"):
        return [None] * len(seqs)
    settles = able(codec, "settles_metre", SettlesMetre)
    return [settles.settled_metre(join_tokens([vocab[j] for j in ids + seq], codec.unit), context, vocab, con, r) for r, seq in enumerate(seqs)]


def write_samples(run: Run, out: Path, context: dict[str, Any], ids: list[int], drawn: Drawn, req: Request, formats: tuple[str, ...],
                  constrained: bool, on_sample: Callable[[Sample], None] | None = None, opening: dict[str, Any] | None = None) -> list[Sample]:
    """Decode and export each sample (``sample-01.*``, its model text as ``.txt``) and write
    ``summary.json``."""
    codec, vocab = run.codec, run.vocab
    out.mkdir(parents=True, exist_ok=True)
    samples = []
    for i, seq in enumerate(drawn.seqs):
        text = strip_sentinels(strip_labels(_whole_lines(join_tokens([vocab[j] for j in ids + seq], codec.unit), len(ids), codec, constrained), codec.unit), codec.unit)
        settled = drawn.meters[i]
        text, sample_context = settled.apply(text, context) if settled is not None else (text, context)
        decoded = codec.decode(text, sample_context)
        decoded.stats.update(opening or {})
        if codec.bar_token:
            decoded.stats["constrained"] = bool(constrained)
            decoded.stats["forced_steps"] = drawn.forced[i]
        if drawn.marks is not None:
            if decoded.score is not None:  # the phrases marked in the score, where the codec writes one
                decoded.score = mark_phrases(decoded.score, drawn.marks[i])
            decoded.stats["phrases"] = drawn.marks[i]
        stem = out / f"sample-{i + 1:02d}"
        files = codec.export(decoded, stem, formats)
        (stem.with_suffix(".txt")).write_text(text, encoding="utf-8")
        s = Sample(i + 1, text, files, decoded.stats)
        samples.append(s)
        if on_sample:
            on_sample(s)
    write_summary(out, {"run": str(run), "seed": req.seed, "n": req.n, "length": req.length, "options": req.options.__dict__}, samples)
    return samples


def _whole_lines(text: str, keep: int, codec: Codec, constrained: bool) -> str:
    """Character text that stopped mid-line ends at its last whole line, and constrained text
    (valid by construction) at its last whole bar, where the codec measures bars so (kern's
    ``whole_bars``); never cut into the first ``keep`` (the prime)."""
    if codec.unit == "char" and text.rfind("\n") >= keep and not text.endswith("\n"):
        text = text[: text.rindex("\n") + 1]
    if constrained:
        text = codec.whole_bars(text, keep)
    return text
