"""Rewriting chosen bars of a MIDI (or MusicXML, kern) file with a notewise or chordwise model.

Bars come from the file's time signatures (bar 1 starts at its first beat). The model reads
the bars before the range (notes cut where the range starts, so they are released at the seam)
as the prefix and the bars after it as the suffix, then writes the middle, which is cut at the
range's end with every note still sounding released there. The piece written keeps every note
that starts outside the range exactly as it was; notes that start inside it are the model's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from cadenza import CadenzaError
from cadenza.codecs.base import Decoded, InfillParts, join_tokens
from cadenza.music import Piece, Track


@dataclass
class MidiInfill:
    piece: Piece
    start: float  # quarters: where the range starts
    end: float  # and where the bar after it starts
    steps: int  # the range's length in grid steps


def bar_starts(piece: Piece, bars: int) -> list[float]:
    """Where bars 1 .. ``bars`` start, in quarters, following the piece's time signatures."""
    sigs = sorted(piece.time_signatures) or [(0.0, 4, 4)]
    out, at, k = [], 0.0, 0
    num, den = sigs[0][1], sigs[0][2]
    while len(out) < bars:
        while k + 1 < len(sigs) and sigs[k + 1][0] <= at + 1e-9:
            k += 1
            num, den = sigs[k][1], sigs[k][2]
        out.append(at)
        at += num * 4.0 / den
    return out


def pad_to(codec: Any, words: list[str], steps: int, vocab: list[str]) -> list[str]:
    """``words`` followed by silence until they reach ``steps`` (a prefix must end exactly where
    the range begins, trailing rests included): the longest waits the model knows, else its
    one-step silence."""
    waits = sorted((int(w[4:]) for w in vocab if re.fullmatch(r"wait\d+", w)), reverse=True)
    quiet = codec.default_prime(vocab)
    out = list(words)
    guard = 0
    while codec.reach(out) < steps and guard < 100_000:
        gap = steps - codec.reach(out)
        w = next((f"wait{k}" for k in waits if k <= gap), None)
        out.append(w or quiet)
        guard += 1
    return out


def infill_parts(codec: Any, piece: Piece, path: Path, first: int, last: int, vocab: list[str], context: dict[str, Any], context_bars: int, suffix_bars: int) -> InfillParts:
    """Bars ``first``-``last`` of ``piece`` (read from ``path``, named in errors) to rewrite."""
    starts = bar_starts(piece, last + 2 + max(suffix_bars, 0))
    begin, b0, b1 = starts[max(0, first - 1 - max(context_bars, 0))], starts[first - 1], starts[last]
    if b0 >= piece.end - 1e-9:
        n_bars = sum(1 for s in starts if s < piece.end)
        raise CadenzaError(f"{path}: has {n_bars} bar(s) by its time signatures; bar {first} is past its end")
    stop = starts[min(len(starts) - 1, last + max(suffix_bars, 0))]
    spq = codec.options.steps_per_quarter
    steps = int(round((b1 - b0) * spq))
    pre_steps = int(round((b0 - begin) * spq))

    def words(part: Piece) -> list[str]:
        if not any(t.notes for t in part.tracks):
            return []
        got, _ = codec.fit_prompt(codec.encode_piece(part), vocab, str(path))
        return got

    prefix = pad_to(codec, words(piece.slice(begin, b0)), pre_steps, vocab) if pre_steps else []
    suffix = words(piece.slice(b1, stop)) if stop > b1 else []
    enc = codec.encode_piece(piece.slice(b0, b1)) if any(n.start >= b0 for n in piece.notes) else None
    ctx = dict(context)
    if enc is not None:  # tempo, metre and instruments of the range decode the middle
        ctx.update({k: enc.info[k] for k in ("tempo", "time_signature", "instruments") if k in enc.info})
    ts = [x for x in piece.time_signatures if x[0] <= b0 + 1e-9]
    if ts:
        ctx["time_signature"] = [int(ts[-1][1]), int(ts[-1][2])]
    return InfillParts(prefix, suffix, steps, ctx, MidiInfill(piece, b0, b1, steps))


def join_infill(codec: Any, handle: MidiInfill, middle: list[str], context: dict[str, Any]) -> Decoded:
    """Every note starting outside the range as it was; the middle's notes moved into the range
    and released at its end."""
    text = join_tokens(middle, codec.unit)
    decoded = codec.decode(text, context)
    new = decoded.piece
    span = handle.end - handle.start
    tracks = [Track(t.name, t.program, [n for n in t.notes if not (handle.start - 1e-9 <= n.start < handle.end - 1e-9)], t.is_drum) for t in handle.piece.tracks]
    added = 0
    for t in new.tracks:
        notes = [replace(n, start=n.start + handle.start, duration=min(n.duration, span - n.start)) for n in t.notes if n.start < span - 1e-9]
        home = next((x for x in tracks if x.program == t.program and not x.is_drum), None)
        if home is None:
            home = Track(t.name, t.program, [])
            tracks.append(home)
        home.notes = sorted(home.notes + notes)
        added += len(notes)
    piece = replace(handle.piece, tracks=tracks)
    stats = dict(decoded.stats, notes_written=added, range_quarters=round(span, 3))
    return Decoded(text, stats, piece)
