"""``cadenza infill``: rewrite chosen bars of your own piece with a model trained to fill in the middle."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from cadenza.cli import options as o
from cadenza.cli.common import console, progress, reporting
from cadenza.cli.options import DEFAULT


def infill(
    file: Annotated[Path, typer.Argument(help="Your piece: .krn for a kern model; .mid, .musicxml or .krn for a notewise/chordwise model.")],
    bars: Annotated[str, typer.Option("--bars", help="The bars to rewrite, by the file's own numbers: 5-8 (or one bar: 5).")],
    run: Annotated[Optional[str], typer.Argument(help="A run folder made by `cadenza train --fim-rate ...` (or use --model).")] = None,
    model: o.Model = None,
    out: o.Out = ...,  # type: ignore[assignment]
    n: o.N = DEFAULT.n,
    context_bars: Annotated[int, typer.Option(help="Bars before the range the model reads.")] = DEFAULT.context_bars,
    suffix_bars: Annotated[int, typer.Option(help="Bars after the range the model reads (so the new bars lead into them).")] = DEFAULT.suffix_bars,
    temperature: o.Temperature = DEFAULT.options.temperature,
    top_k: o.TopK = DEFAULT.options.top_k,
    top_p: o.TopP = DEFAULT.options.top_p,
    min_p: o.MinP = DEFAULT.options.min_p,
    seed: o.Seed = DEFAULT.seed,  # type: ignore[assignment]
    composer: o.Composer = None,
    style: o.Style = None,
    instrument: o.Instrument = None,
    chords: o.Chords = None,
    chord_strength: o.ChordStrength = None,
) -> None:
    """Rewrite bars of your piece: every other bar stays exactly as you wrote it, and the new bars lead into the ones after."""
    from cadenza.generation import generate
    from cadenza.generation.infill import parse_bars
    from cadenza.generation.run import open_run

    with reporting():
        request = o.Request(n=n, seed=seed, options=o.sampling(temperature, top_k, top_p, min_p), labels=o.labels(composer, style, instrument),
                            prompt=file, rewrite=parse_bars(bars), context_bars=context_bars, suffix_bars=suffix_bars, chords=chords, chord_strength=chord_strength)
        trained = open_run(o.which_run(run, model))
    with progress(f"rewriting bars {bars} of {file.name}") as update:
        samples = generate(trained, out, request, progress=update)
    t = Table(title=f"bars {bars} of {file.name} rewritten, {len(samples)} version(s) in {out}")
    for col in ("version", "files", "notes", "forced steps", "tries"):
        t.add_column(col)
    for s in samples:
        t.add_row(str(s.index), ", ".join(str(p.name) for p in s.files.values()), str(s.stats.get("notes", s.stats.get("notes_written", "?"))),
                  str(s.stats.get("forced_steps", 0)), str(s.stats.get("tries", 1)))
    console.print(t)
