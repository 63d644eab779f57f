"""Continuing the user's own music: one way, file -> Piece -> excerpt -> codec tokens (fitted to
the model's vocabulary) -> sampled tokens -> Piece -> MIDI files."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, Callable

from cadenza import CadenzaError
from cadenza.codecs import join_tokens
from cadenza.codecs.fim import prime_only
from cadenza.generation.decode import few_threads, sample_ids
from cadenza.generation.request import Request, request_of
from cadenza.generation.run import Run, open_run
from cadenza.generation.samples import Sample, encode_prime
from cadenza.music import Piece, Track, write_midi


def read_prompt(path: Path):
    """A user's file to continue, as a :class:`~cadenza.music.Piece` (MIDI, kern or MusicXML)."""
    from cadenza.music.reader import read_piece_file

    piece = read_piece_file(Path(path))
    if not any(t.notes for t in piece.tracks):
        raise CadenzaError(f"{path}: no notes to continue")
    return piece


def prompt_excerpt(piece, bars: int = 0, seconds: float = 0.0):
    """The last ``bars`` bars (counted back through every time signature, so a metre change in
    them does not make it the whole piece) or ``seconds`` of ``piece``, moved to start at 0.
    Returns (excerpt, start in quarters of the original)."""
    end = piece.end
    if seconds > 0:
        qpm = piece.tempos[-1][1] if piece.tempos else 120.0
        start = max(0.0, end - seconds * qpm / 60.0)
    elif bars > 0:
        from cadenza.music.harmony import bar_grid

        grid = bar_grid(piece.time_signatures, end)
        start = grid[-bars].start if len(grid) > bars else 0.0
    else:
        start = 0.0
    return piece.slice(start, end + 1e-6), start


def continue_piece(run: Run | str | Path, prompt: Path | str, out: Path | str, request: Request | None = None, *,
                   progress: Callable[[int, int], None] | None = None, **fields: Any) -> list[Sample]:
    """Continue the last bars of the user's ``prompt`` file (``request`` and keywords as for
    :func:`~cadenza.generation.generate`: ``n``, ``length``, ``bars``, ``seconds``, ``seed``,
    ``options``, ``prompt_bars``, ``prompt_seconds``)."""
    return follow(open_run(run), request_of(request, prompt=Path(prompt), **fields).seeded(), Path(out), progress)


def follow(run: Run, req: Request, out: Path, progress: Callable[[int, int], None] | None = None) -> list[Sample]:
    """Continue ``req.prompt``. Writes per sample ``NAME-01.mid`` (the prompt excerpt, note for
    note, then the continuation) and ``NAME-01-continuation.mid``, with the prompt's tempo, metre
    and instruments; a codec that continues in its own text (kern) writes the user's file, then
    the continuation."""
    codec, vocab, prompt = run.codec, run.vocab, Path(req.prompt)  # type: ignore[arg-type]
    if codec.can("prompt_text"):
        takes = codec.prompt_suffixes  # type: ignore[attr-defined]
        if prompt.suffix.lower() not in takes:
            raise CadenzaError(f"{prompt}: a {codec.name} model continues {', '.join(takes)} files (its own bars are kept as written)")
        return _continue_text(run, prompt, out, req, progress)
    if not codec.can("prompt_piece"):
        raise CadenzaError(f"--prompt: a {codec.name} model cannot continue a file")
    model, n, length, seed, bars, seconds = run.sampler, req.n, req.length, req.seed, req.bars, req.seconds
    excerpt, _ = prompt_excerpt(read_prompt(prompt), req.prompt_bars, req.prompt_seconds)
    enc = codec.encode_piece(excerpt)  # type: ignore[attr-defined]
    tokens, approximated = codec.fit_prompt(enc, vocab, str(prompt))
    ids = encode_prime(join_tokens(tokens, codec.unit), vocab, codec.unit, where=str(prompt))
    if not ids:
        raise CadenzaError(f"{prompt}: the prompt excerpt has no notes")
    boundary = codec.decode(enc.text, enc.info).piece.end
    # the goal is in the excerpt's last tempo and metre, counted from where its notes end
    qpm = excerpt.tempos[-1][1] if excerpt.tempos else 120.0
    metre = list(excerpt.time_signatures[-1][1:]) if excerpt.time_signatures else [4, 4]
    goal_context = dict(enc.info, tempo=qpm, time_signature=metre)
    goal = codec.length_goal(tokens, goal_context, bars if bars > 0 else 0, seconds if seconds > 0 else 0.0, start=boundary)
    target = goal.quarters if goal is not None else 0.0
    done = None
    if goal is not None:
        length = max(length, goal.min_length)
        done = lambda rows: all(goal.done([vocab[j] for j in r]) for r in rows)  # noqa: E731
    con = None
    if req.progression:  # bars from the excerpt's first bar line: the progression starts on the first new one
        from cadenza.generation.chords import with_progression
        from cadenza.music.harmony import bar_grid

        told = len(bar_grid(excerpt.time_signatures, boundary))
        con = codec.constraint(vocab, with_progression(codec, goal_context, vocab, req.progression, None, told), n, join_tokens(tokens, codec.unit))
    with few_threads(model):
        seqs = sample_ids(model, ids, n, length, req.options, seed, progress, done, con, banned=prime_only(vocab, codec.unit))
    out.mkdir(parents=True, exist_ok=True)
    samples = []
    for i, seq in enumerate(seqs):
        text = join_tokens([vocab[j] for j in ids + seq], codec.unit)
        decoded = codec.decode(text, enc.info)
        full = _prompt_then_continuation(excerpt, decoded.piece, boundary, target, f"{prompt.stem} continued")
        cont = full.slice(boundary, max(full.end, boundary) + 1e-6)
        stem = out / f"{prompt.stem}-{i + 1:02d}"
        files = {"mid": write_midi(full, Path(f"{stem}.mid")), "continuation": write_midi(cont, Path(f"{stem}-continuation.mid"))}
        Path(f"{stem}.txt").write_text(text, encoding="utf-8")  # not with_suffix: "bwv66.6-01" keeps its ".6"
        stats = dict(decoded.stats)
        if req.chords:
            stats["chords"] = req.chords
        stats.update({"prompt_tokens_approximated": approximated, "prompt_notes_folded": int(enc.info.get("folded", 0)), "prompt_quarters": round(boundary, 3), "continuation_quarters": round(cont.end, 3), "notes": sum(len(t.notes) for t in full.tracks), "parsed": True})
        samples.append(Sample(i + 1, text, files, stats))
    return samples


def _continue_text(run: Run, prompt: Path, out: Path, req: Request, progress: Callable[[int, int], None] | None) -> list[Sample]:
    """A text codec (kern): the file's last bars in its own metre, key and clefs are the prime;
    each file written is the user's file unchanged, then the checked continuation. A file the
    codec first converts (MIDI, MusicXML to kern) is kept in ``out`` as the codec wrote it, and
    that conversion is the user's part of each file."""
    codec, vocab, model, n, length = run.codec, run.vocab, run.sampler, req.n, req.length
    prime, context, handle = codec.prompt_file(prompt, req.prompt_bars, vocab, run.context, out)  # type: ignore[attr-defined]
    converted = context.get("converted_prompt")
    if req.progression:  # the prompt's bars carry no chord lines: the progression starts on the first new bar
        from cadenza.generation.chords import with_progression

        context = with_progression(codec, context, vocab, req.progression, None)
    ids = encode_prime(prime, vocab, codec.unit, map_unknown=True, where=str(prompt))
    goal = codec.length_goal([vocab[j] for j in ids], context, req.bars)
    done = None
    if goal is not None:
        length = max(length, goal.min_length)
        done = lambda rows: all(goal.done([vocab[j] for j in r]) for r in rows)  # noqa: E731
    con = codec.constraint(vocab, context, n, prime)
    with few_threads(model):
        seqs = sample_ids(model, ids, n, length, req.options, req.seed, progress, done, con)
    out.mkdir(parents=True, exist_ok=True)
    samples = []
    for i, seq in enumerate(seqs):
        toks = [vocab[j] for j in seq]
        if goal is not None and goal.finish is not None:
            toks = goal.finish(toks)
        text = join_tokens(toks, codec.unit)
        text = codec.whole_bars(text)  # whole bars only
        kern, stats = codec.join_prompt(handle, text)  # type: ignore[attr-defined]
        stem = f"{out / prompt.stem}-{i + 1:02d}"  # a name such as bwv66.6 keeps its dot
        path = Path(stem + ".krn")
        path.write_text(kern, encoding="utf-8")
        Path(stem + ".txt").write_text(prime + text, encoding="utf-8")
        piece = codec.to_piece(kern, prompt.stem)  # type: ignore[attr-defined]
        files = {"krn": path, "mid": write_midi(piece, Path(stem + ".mid"))}
        if converted:
            files["prompt"] = Path(converted)
        user_q = codec.to_piece(handle.user_text).end  # type: ignore[attr-defined]
        stats.update({"prompt_quarters": round(user_q, 3), "continuation_quarters": round(piece.end - user_q, 3), "notes": sum(len(t.notes) for t in piece.tracks),
                      "forced_steps": con.forced[i] if con is not None else 0, "metre": context["header"]["meter"][2:], "parsed": True})
        if req.chords:
            stats["chords"] = req.chords
        samples.append(Sample(i + 1, prime + text, files, stats))
    return samples


def _prompt_then_continuation(excerpt: Piece, decoded: Piece, boundary: float, target: float, name: str) -> Piece:
    """The user's notes exactly, then the model's from ``boundary`` on (at most ``target``
    quarters of them, if a length was asked), on matching tracks."""
    cont_notes = {}
    for t in decoded.tracks:
        kept = [nt for nt in t.notes if nt.start >= boundary - 1e-9 and (target <= 0 or nt.start < boundary + target)]
        if target > 0:
            kept = [replace(nt, duration=min(nt.duration, boundary + target - nt.start)) for nt in kept]
        cont_notes[(t.program, t.name)] = (t, kept)
    tracks = [Track(t.name, t.program, list(t.notes), t.is_drum) for t in excerpt.tracks]
    for (program, name_), (t, kept) in cont_notes.items():
        home = next((x for x in tracks if x.program == program), None)
        if home is None:
            home = Track(name_, program, [])
            tracks.append(home)
        home.notes = sorted(home.notes + kept)
    full = Piece(tracks, list(excerpt.tempos), list(excerpt.time_signatures), name=name)
    if hasattr(excerpt, "key_signatures"):
        full.key_signatures = list(excerpt.key_signatures)
    return full
