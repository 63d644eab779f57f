"""``cadenza infill``: rewrite chosen bars of the user's own piece and keep every other bar.

A model trained with ``--fim-rate`` (:mod:`cadenza.codecs.fim`) reads
``[labels] <suffix> bars after <prefix> bars before`` and writes on into the middle; the codec
reads the user's file around the range (:meth:`Codec.infill_parts`), measures the middle in its
own units (kern: bars, checked bar by bar in the metre in force; grid codecs: steps) and puts it
back (:meth:`Codec.join_infill`). A sample whose middle cannot join what follows (kern: it ends
with a staff split into voices, or ran out of tokens before its last bar) is drawn again, with
the next seed, up to :data:`ROUNDS` times. The end sentinel is held back until the middle fills
the range (:class:`~cadenza.codecs.fim.HoldEnd`): a model that would stop at once writes on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from cadenza import CadenzaError
from cadenza.codecs import join_tokens, split_tokens
from cadenza.codecs.base import Infill, able
from cadenza.codecs.fim import ROLES, HoldEnd, can_infill, fim_format, fim_prime, prime_only, sentinel
from cadenza.codecs.labels import label_prime
from cadenza.generation.decode import few_threads, sample_ids
from cadenza.generation.request import Request, request_of
from cadenza.generation.run import Run, open_run
from cadenza.generation.samples import Sample, encode_prime, write_summary

ROUNDS = 4


def parse_bars(text: str) -> tuple[int, int]:
    """``"5-8"`` -> (5, 8); ``"5"`` -> (5, 5)."""
    try:
        a, _, b = str(text).partition("-")
        first, last = int(a), int(b or a)
    except ValueError:
        raise CadenzaError(f"--bars {text!r}: give a bar range such as 5-8") from None
    if first < 1 or last < first:
        raise CadenzaError(f"--bars {text!r}: bars count from 1 and the range must not run backwards")
    return first, last


def infill(run: Run | str | Path, path: Path | str, bars: tuple[int, int], out: Path | str, request: Request | None = None, *,
           formats: tuple[str, ...] | None = None, progress: Callable[[int, int], None] | None = None, **fields: Any) -> list[Sample]:
    """``n`` versions of ``path`` with bars ``bars`` (first, last; the file's own numbers)
    rewritten, written to ``out`` as ``<stem>-infill-01.*`` plus ``summary.json`` (``request``
    and keywords as for :func:`~cadenza.generation.generate`: ``n``, ``seed``, ``options``,
    ``context_bars``, ``suffix_bars``, ``labels``)."""
    req = request_of(request, prompt=Path(path), rewrite=tuple(bars), **fields).seeded()
    return rewrite_bars(open_run(run), req, Path(out), formats, progress)


def rewrite_bars(run: Run, req: Request, out: Path, formats: tuple[str, ...] | None = None, progress: Callable[[int, int], None] | None = None) -> list[Sample]:
    """Bars ``req.rewrite`` of ``req.prompt`` written anew (see :func:`infill`)."""
    codec, vocab, n, seed, options = run.codec, run.vocab, req.n, req.seed, req.options
    unit = codec.unit
    if not can_infill(vocab, unit):
        raise CadenzaError(f"{run}: this model was not trained to fill in the middle; train one with `cadenza train --fim-rate 0.5`")
    if not codec.can("infill"):
        raise CadenzaError(f"{run}: a {codec.name} model cannot rewrite bars of a file")
    if req.prompt is None or req.rewrite is None:
        raise CadenzaError("rewriting bars needs a file and the bars to rewrite")
    model, path, (first, last) = run.model, Path(req.prompt), req.rewrite
    context = run.context
    fills = able(codec, "infill", Infill)
    parts = fills.infill_parts(path, first, last, vocab, context, req.context_bars, req.suffix_bars)
    decoding = parts.context
    if req.progression:  # the middle's first bar (bar `first`) takes the progression's first chord
        from cadenza.generation.chords import with_progression

        decoding = with_progression(codec, parts.context, vocab, req.progression, None, strength=req.chord_strength)
    head = split_tokens(label_prime(context, vocab, unit=unit, **req.labels), unit)
    stoi = {t: i for i, t in enumerate(vocab)}
    tokens = head + fim_prime(parts.prefix, parts.suffix, {r: sentinel(r, unit) for r in ROLES}, fim_format(run.config))
    # characters the model never saw are dropped, as `generate --prompt` drops them (a *MM108
    # tempo line for a model that never saw a 0 must not refuse the file)
    ids = encode_prime(join_tokens(tokens, unit), vocab, unit, map_unknown=True, where=str(path))
    dropped = len(tokens) - len(ids)
    end = stoi[sentinel("end", unit)]
    units = parts.units
    length = max(256, units * codec.phrase_grid(1, parts.context).tokens_per_unit + 64)

    def filled(toks: list[str]) -> bool:
        """Whether ``toks`` followed by the end sentinel fill the range (grid codecs: its last
        step is written; a chordwise step is whole once the end follows it)."""
        return codec.reached(toks, units) or (codec.bar_token is None and codec.reach(toks) >= units)

    def middle(seq: list[int]) -> tuple[list[str], bool]:
        """The middle's tokens (up to the end sentinel, cut at the range's end) and whether it
        fills the range: an early end, or tokens that ran out, do not."""
        toks = [vocab[j] for j in (seq[: seq.index(end)] if end in seq else seq)]
        if codec.reached(toks, units):
            return codec.cut(toks, units, vocab), True
        return toks, end in seq and filled(toks)

    def finished(rows: list[list[int]]) -> bool:
        return all(end in r or codec.reached([vocab[j] for j in r], units) for r in rows)

    out.mkdir(parents=True, exist_ok=True)
    results: dict[int, Any] = {}
    problems: dict[int, str] = {}
    tries = [0] * n
    todo = list(range(n))
    with few_threads(model):
        for round_ in range(ROUNDS):
            if not todo:
                break
            con = HoldEnd(end, vocab, filled, len(todo), codec.constraint(vocab, decoding, len(todo), ""))
            seqs = sample_ids(model, ids, len(todo), length, options, seed + 1000 * round_, progress, finished, con, banned=prime_only(vocab, unit, keep=(sentinel("end", unit),)))
            again = []
            for k, (r, seq) in enumerate(zip(todo, seqs)):
                tries[r] += 1
                toks, whole = middle(seq)
                try:
                    if not whole:
                        raise CadenzaError(f"the middle stopped before bar {last} was complete ({codec.reach(toks)} of {units} {'bars' if codec.bar_token else 'grid steps'})")
                    results[r] = (fills.join_infill(parts.handle, toks, decoding), con.forced[k])
                except CadenzaError as exc:
                    problems[r] = str(exc)
                    again.append(r)
            todo = again
    if todo:
        raise CadenzaError(f"{path}: {len(todo)} of {n} infill(s) failed after {ROUNDS} tries ({problems[todo[0]]}); try other bars, --temperature or --seed")
    samples = []
    for i in range(n):
        decoded, forced = results[i]
        decoded.stats.update({"bars_rewritten": f"{first}-{last}", "forced_steps": forced, "tries": tries[i]} | ({"chords": req.chords} if req.chords else {}))
        if dropped:
            decoded.stats["prompt_tokens_dropped"] = dropped
        stem = out / f"{path.stem}-infill-{i + 1:02d}"
        files = codec.export(decoded, stem, formats or codec.sample_formats)
        stem.with_suffix(".txt").write_text(join_tokens(tokens, unit) + decoded.text, encoding="utf-8")
        samples.append(Sample(i + 1, decoded.text, files, decoded.stats))
    write_summary(out, {"run": str(run), "file": str(path), "bars": [first, last], "seed": seed, "n": n, "options": options.__dict__}, samples, default=str)
    return samples
