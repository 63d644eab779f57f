"""Continuing the user's own music, one way for every codec (as :mod:`.infill` rewrites bars):
the codec reads the file into its prime (:meth:`~cadenza.codecs.base.Continue.continuation_parts`:
kern, the last bars in the file's own metre, key and clefs; MIDI codecs, the excerpt read as a
Piece and fitted to the model's words), the model samples on, and the codec joins each
continuation onto the user's music and writes it (``join_continuation``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from cadenza import CadenzaError
from cadenza.codecs import join_tokens
from cadenza.codecs.base import Continue, able
from cadenza.codecs.fim import prime_only
from cadenza.generation.chords import with_progression
from cadenza.generation.decode import few_threads, sample_ids
from cadenza.generation.request import Request, request_of
from cadenza.generation.run import Run, open_run
from cadenza.generation.samples import Sample, encode_prime
from cadenza.music.excerpt import prompt_excerpt, read_prompt

__all__ = ["continue_piece", "follow", "prompt_excerpt", "read_prompt"]


def continue_piece(run: Run | str | Path, prompt: Path | str, out: Path | str, request: Request | None = None, *,
                   progress: Callable[[int, int], None] | None = None, **fields: Any) -> list[Sample]:
    """Continue the last bars of the user's ``prompt`` file (``request`` and keywords as for
    :func:`~cadenza.generation.generate`: ``n``, ``length``, ``bars``, ``seconds``, ``seed``,
    ``options``, ``prompt_bars``, ``prompt_seconds``)."""
    return follow(open_run(run), request_of(request, prompt=Path(prompt), **fields).seeded(), Path(out), progress)


def follow(run: Run, req: Request, out: Path, progress: Callable[[int, int], None] | None = None) -> list[Sample]:
    """Continue ``req.prompt``: per sample the files the codec writes (kern: ``NAME-01.krn``, the
    user's file unchanged then the new bars, and ``.mid``; MIDI codecs: ``NAME-01.mid``, the
    excerpt note for note then the continuation, and ``NAME-01-continuation.mid``), and its model
    text as ``NAME-01.txt``."""
    codec, vocab, n = run.codec, run.vocab, req.n
    if req.prompt is None:
        raise CadenzaError("continuing needs a prompt file")
    prompt = Path(req.prompt)
    if not codec.can("continue"):
        raise CadenzaError(f"--prompt: a {codec.name} model cannot continue a file")
    joins = able(codec, "continue", Continue)
    parts = joins.continuation_parts(prompt, req.prompt_bars, req.prompt_seconds, vocab, run.context, out)
    ids = encode_prime(join_tokens(parts.prime, codec.unit), vocab, codec.unit, map_unknown=parts.map_unknown, where=str(prompt))
    if not ids:
        raise CadenzaError(f"{prompt}: the prompt excerpt has no notes")
    goal = codec.length_goal([vocab[j] for j in ids], parts.context, max(req.bars, 0), max(req.seconds, 0.0), start=parts.start)
    length, done = req.length, None
    if goal is not None:
        length = max(length, goal.min_length)
        done = lambda rows: all(goal.done([vocab[j] for j in r]) for r in rows)  # noqa: E731
    # the prompt's bars carry no chord the sampler wrote: the progression starts on the first new bar
    context = with_progression(codec, parts.context, vocab, req.progression, None, parts.bars_before, strength=req.chord_strength)
    con = codec.constraint(vocab, context, n, join_tokens(parts.prime, codec.unit))
    model = run.sampler
    with few_threads(model):
        seqs = sample_ids(model, ids, n, length, req.options, req.seed, progress, done, con, banned=prime_only(vocab, codec.unit))
    out.mkdir(parents=True, exist_ok=True)
    samples = []
    for i, seq in enumerate(seqs):
        toks = [vocab[j] for j in seq]
        if goal is not None and goal.finish is not None:
            toks = goal.finish(toks)
        stem = out / f"{prompt.stem}-{i + 1:02d}"  # a name such as bwv66.6 keeps its dot
        decoded, files = joins.join_continuation(parts.handle, toks, goal.quarters if goal is not None else 0.0, stem, context)
        Path(f"{stem}.txt").write_text(decoded.text, encoding="utf-8")  # not with_suffix: "bwv66.6-01" keeps its ".6"
        stats = decoded.stats
        if con is not None:
            stats["forced_steps"] = con.forced[i]
        if req.chords:
            stats["chords"] = req.chords
        samples.append(Sample(i + 1, decoded.text, files, stats))
    return samples
