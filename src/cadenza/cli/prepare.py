"""``cadenza prepare``: a corpus -> a dataset folder."""

from __future__ import annotations

import dataclasses
from collections import Counter
from pathlib import Path
from typing import Any, List, Optional

import typer
from rich.table import Table

from cadenza import CadenzaError
from cadenza.cli.common import console, progress, warn
from cadenza.data.workers import FILE_TIMEOUT

# the flags that are codec options, each named as its field in the codec's Options dataclass
CODEC_FLAGS = ("spines", "layouts", "steps_per_quarter", "note_range")


def prepare(
    ctx: typer.Context,
    sources: List[str] = typer.Argument(..., help="Files, folders (searched recursively) or music21 corpus names like music21:palestrina."),
    out: Path = typer.Option(..., "-o", "--out", help="Dataset folder to write."),
    codec: str = typer.Option("kern", help="Encoding: kern, notewise or chordwise."),
    transpose: Optional[str] = typer.Option(None, help="Augment training pieces: 'all' (12 keys, -5..+6) or shifts like '2' or '-2,2'."),
    spines: int = typer.Option(0, help="kern: number of **kern spines per piece (0: the most common in the corpus)."),
    layouts: str = typer.Option("one", help="kern: 'one' keeps pieces of one spine count; 'all' keeps every layout (piano, chorale, quartet, tune), each piece with its own staves."),
    steps_per_quarter: Optional[int] = typer.Option(None, help="notewise/chordwise: time steps per quarter note (4 or 12)."),
    note_range: Optional[int] = typer.Option(None, help="notewise/chordwise: keys in the note range (38, 62 or 88)."),
    val_fraction: float = typer.Option(0.1, help="Share of the corpus (by piece) held out for validation."),
    test_fraction: float = typer.Option(0.1, help="Share of the corpus (by piece) held out for testing."),
    seed: int = typer.Option(0, help="Seed of the train/validation/test split."),
    workers: int = typer.Option(0, help="Processes for encoding (0: one per core)."),
    file_timeout: float = typer.Option(FILE_TIMEOUT, help="Seconds one file may take; a file that takes longer (or crashes its reader) is skipped with that reason. 0: no limit."),
    condition: Optional[str] = typer.Option(None, "--condition", help="Open each piece with its labels, e.g. composer or composer,style,instrument (from metadata.csv, kern !!!COM: records, music21's corpus, folder names, the tracks); 'chords' (combinable: composer,chords) writes each bar's chord, as the chord reader hears it, at the bar's start."),
    label_min_pieces: int = typer.Option(1, help="With --condition: leave out labels fewer pieces than this carry."),
    hold_out: Optional[List[Path]] = typer.Option(None, "--hold-out", help="A dataset whose validation and test pieces stay held out here too (repeatable): a model trained on this one is then measured fairly on that one."),
) -> None:
    """Encode a corpus into a dataset: clean, split by piece, optionally transpose."""
    from cadenza.data import prepare as _prepare
    from cadenza.data.report import source_name

    from cadenza.codecs.labels import split_condition

    given = {k: ctx.params[k] for k in CODEC_FLAGS if _given(ctx, k)}
    condition, chords = split_condition(condition)
    with progress("encoding", None, TypeError) as update:
        options = codec_options(codec, given) | (chord_option(codec) if chords else {})
        rep = _prepare(sources, out, codec, options, transpose, val_fraction, test_fraction, seed, workers or None, update, file_timeout or None, condition, label_min_pieces, hold_out)
    t = Table(title=f"Dataset {rep.out} ({rep.codec}{f', {rep.layout} spines' if rep.layout else ''})")
    for c in ("split", "pieces", "tokens"):
        t.add_column(c, justify="right" if c != "split" else "left")
    for k in ("train", "val", "test"):
        t.add_row(k, str(rep.pieces[k]), f"{rep.tokens[k]:,}")
    console.print(t)
    console.print(f"{rep.used} file{'' if rep.used == 1 else 's'} used, {rep.skipped} skipped, vocabulary {rep.vocab_size} tokens; every file's fate is in {rep.out / 'manifest.json'}, the corpus report in {rep.out / 'report.md'}", soft_wrap=True)
    for layout, n in list((rep.layouts or {}).items())[:8]:
        console.print(f"layout {layout.replace(chr(9), ' ')}: {n} training pieces")
    if rep.by_source:
        t = Table(title="Sources")
        for c in ("source", "pieces", "tokens"):
            t.add_column(c, justify="right" if c != "source" else "left")
        for src, row in rep.by_source.items():
            t.add_row(source_name(src), str(row["pieces"]), f"{row['tokens']:,}")
        console.print(t)
    for kind, counts in (rep.labels or {}).items():
        shown = ", ".join(f"{v} ({k})" for v, k in sorted(counts.items(), key=lambda x: (-x[1], x[0]))[:12])
        console.print(f"{kind} labels: {len(counts)}: {shown}{' ...' if len(counts) > 12 else ''}" if counts else f"{kind} labels: none found")
    if rep.skipped_reasons:
        reasons = Counter(r for _, r in rep.skipped_reasons)
        for r, k in reasons.most_common(8):
            console.print(f"  skipped {k:4d}: {r}")
    for w in rep.warnings:
        warn(w)


def _given(ctx: typer.Context, name: str) -> bool:
    """Whether the user gave flag ``name`` (on the command line or from the environment)."""
    source = ctx.get_parameter_source(name)
    return source is not None and source.name != "DEFAULT"  # by name: typer vendors its own click


def codec_options(codec: str, given: dict[str, Any]) -> dict[str, Any]:
    """The codec-option flags the user gave, checked against the fields of ``codec``'s Options:
    a flag that is not one of them is an error rather than silently ignored."""
    from cadenza.codecs import get_codec

    fields = [f.name for f in dataclasses.fields(get_codec(codec).options)]
    for name in given:
        if name not in fields:
            have = ", ".join("--" + f.replace("_", "-") for f in fields if f in CODEC_FLAGS) or "none"
            raise CadenzaError(f"--{name.replace('_', '-')} does not apply to the {codec} codec (its options: {have})")
    return given


def chord_option(codec: str) -> dict[str, Any]:
    """``--condition chords``: the codec option that writes each bar's chord (a codec that
    cannot is an error)."""
    from cadenza.codecs import get_codec

    if not get_codec(codec).can("chords"):
        raise CadenzaError(f"--condition chords: the {codec} codec cannot write chords")
    return {"chords": True}
