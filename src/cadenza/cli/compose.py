"""``cadenza compose``: one short new piece from a bundled model, rendered, in one command."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table
from rich.text import Text

from cadenza.cli import options as o
from cadenza.cli.common import console, err, reporting, warn
from cadenza.cli.options import COMPOSE


def compose(
    model: Annotated[Optional[str], typer.Option("--model", help="Bundled model name or run folder (default: see `cadenza models`).")] = None,
    out: Annotated[Optional[Path], typer.Option("-o", "--out", help="Output folder (default ./cadenza-out/<timestamp>).")] = None,
    bars: Annotated[int, typer.Option(help="Bars to write (kern models).")] = COMPOSE.bars,
    length: Annotated[int, typer.Option(help="Tokens to write (notewise/chordwise models).")] = COMPOSE.length,
    seed: o.FreshSeed = COMPOSE.seed,
    temperature: o.Temperature = COMPOSE.options.temperature,
    top_p: o.TopP = COMPOSE.options.top_p,
    prompt: Annotated[Optional[Path], typer.Option("--prompt", help="A music file to continue (.mid, .krn, .musicxml), as `generate --prompt`.")] = None,
    prime_file: o.PrimeFile = None,
    metre: o.Metre = COMPOSE.metre,
    key: o.Key = COMPOSE.key,
    soundfont: o.Soundfont = None,
    chords: o.Chords = None,
    chord_strength: o.ChordStrength = None,
    composer: o.Composer = None,
    style: o.Style = None,
    instrument: o.Instrument = None,
) -> None:
    """Compose a short new piece with a bundled model and render it: score, sound and picture."""
    from cadenza.compose import compose as _compose

    with reporting():
        request = COMPOSE.but(bars=bars, length=length, seed=seed, options=o.SamplingOptions(temperature=temperature, top_p=top_p), prime=o.prime_text(None, prime_file),
                              metre=metre, key=key, labels=o.labels(composer, style, instrument), chords=chords, chord_strength=chord_strength, prompt=prompt)
    with reporting(), err.status("composing") as status:
        comp = _compose(model, out, request, soundfont=soundfont, progress=lambda m: status.update(Text(m)))
    t = Table(title=f"A new piece by {comp.model}, seed {comp.seed}")
    t.add_column("format")
    t.add_column("file")
    for fmt, paths in comp.files.items():
        for p in paths:
            t.add_row(fmt, str(p))
    console.print(t)
    st = comp.stats
    head = f" in {st['metre']}, key {st['key']}" if st.get("metre") else ""
    console.print(f"{st.get('bars', '?')} bars{head}, {st.get('notes', '?')} notes; replay with --seed {comp.seed}")
    for w in comp.warnings:
        warn(w)
