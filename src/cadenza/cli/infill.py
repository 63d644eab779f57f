"""``cadenza infill``: rewrite chosen bars of your own piece with a model trained to fill in the middle."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from cadenza import CadenzaError
from cadenza.cli.common import console, fail, progress


def infill(
    file: Path = typer.Argument(..., help="Your piece: .krn for a kern model; .mid, .musicxml or .krn for a notewise/chordwise model."),
    bars: str = typer.Option(..., "--bars", help="The bars to rewrite, by the file's own numbers: 5-8 (or one bar: 5)."),
    run: Optional[str] = typer.Argument(None, help="A run folder made by `cadenza train --fim-rate ...` (or use --model)."),
    model: Optional[str] = typer.Option(None, "--model", help="A bundled model (see `cadenza models`; those marked 'infill')."),
    out: Path = typer.Option(..., "-o", "--out", help="Folder for the rewritten versions."),
    n: int = typer.Option(1, "-n", help="How many versions (drawn together as one batch)."),
    context_bars: int = typer.Option(4, help="Bars before the range the model reads."),
    suffix_bars: int = typer.Option(2, help="Bars after the range the model reads (so the new bars lead into them)."),
    temperature: float = typer.Option(1.0, help="Below 1: safer; above 1: wilder."),
    top_k: int = typer.Option(0, help="Sample only among the k likeliest tokens (0: off)."),
    top_p: float = typer.Option(1.0, help="Nucleus sampling: the smallest set of tokens with this much probability."),
    min_p: float = typer.Option(0.0, help="Drop tokens less likely than this fraction of the top token."),
    seed: int = typer.Option(0, help="Random seed: the same seed and options give the same files."),
    composer: Optional[str] = typer.Option(None, "--composer", help="A model prepared with --condition composer: write like this composer."),
    style: Optional[str] = typer.Option(None, "--style", help="A model prepared with --condition style."),
    instrument: Optional[str] = typer.Option(None, "--instrument", help="A model prepared with --condition instrument."),
) -> None:
    """Rewrite bars of your piece: every other bar stays exactly as you wrote it, and the new bars lead into the ones after."""
    from cadenza.generation import SamplingOptions
    from cadenza.generation.infill import infill as _infill
    from cadenza.generation.infill import parse_bars

    run = run or model
    if run is None:
        fail(CadenzaError("give a run folder or --model NAME (see `cadenza models`)"))
    if n < 1:
        fail(CadenzaError("-n must be at least 1"))
    labels = {k: v for k, v in (("composer", composer), ("style", style), ("instrument", instrument)) if v}
    opts = SamplingOptions(temperature, top_k, top_p, min_p)
    with progress(f"rewriting bars {bars} of {file.name}") as update:
        samples = _infill(run, file, parse_bars(bars), out, n, seed, opts, context_bars, suffix_bars, labels, progress=update)
    t = Table(title=f"bars {bars} of {file.name} rewritten, {len(samples)} version(s) in {out}")
    for col in ("version", "files", "notes", "forced steps", "tries"):
        t.add_column(col)
    for s in samples:
        t.add_row(str(s.index), ", ".join(str(p.name) for p in s.files.values()), str(s.stats.get("notes", s.stats.get("notes_written", "?"))),
                  str(s.stats.get("forced_steps", 0)), str(s.stats.get("tries", 1)))
    console.print(t)
