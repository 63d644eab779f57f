"""``cadenza compose``: one short new piece from a bundled model, rendered, in one command."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from cadenza import CadenzaError
from cadenza.cli.common import console, err, fail, reporting


def compose(
    model: Optional[str] = typer.Option(None, "--model", help="Bundled model name or run folder (default: see `cadenza models`)."),
    out: Optional[Path] = typer.Option(None, "-o", "--out", help="Output folder (default ./cadenza-out/<timestamp>)."),
    bars: int = typer.Option(16, help="Bars to write (kern models)."),
    length: int = typer.Option(600, help="Tokens to write (notewise/chordwise models)."),
    seed: Optional[int] = typer.Option(None, help="Random seed (default: a fresh one, printed so you can replay it)."),
    temperature: float = typer.Option(0.9, help="Below 1: safer; above 1: wilder."),
    prompt: Optional[Path] = typer.Option(None, "--prompt", help="A music file to continue (.mid, .krn, .musicxml), as `generate --prompt`."),
    prime_file: Optional[Path] = typer.Option(None, "--prime-file", help="A file whose text starts the piece (kern: cleaned kern text)."),
    metre: Optional[str] = typer.Option(None, "--metre", help="kern: the time signature, e.g. 3/4, 6/8 (default: drawn from the training pieces)."),
    key: Optional[str] = typer.Option(None, "--key", help="kern: the key, major as a capital (F, Bb), minor in lower case (g, f#), or a church mode (G:dor, \"E phrygian\")."),
    soundfont: Optional[Path] = typer.Option(None, help="SoundFont (.sf2) for the WAV (default: the bundled General MIDI one)."),
    composer: Optional[str] = typer.Option(None, "--composer", help="A model prepared with --condition composer: write like this composer."),
    style: Optional[str] = typer.Option(None, "--style", help="A model prepared with --condition style: write in this style."),
    instrument: Optional[str] = typer.Option(None, "--instrument", help="A model prepared with --condition instrument: write for these instruments."),
) -> None:
    """Compose a short new piece with a bundled model and render it: score, sound and picture."""
    from cadenza.compose import compose as _compose

    prime = None
    if prime_file is not None:
        try:
            prime = prime_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            fail(CadenzaError(f"{prime_file}: {exc}"))
    with reporting(), err.status("composing") as status:
        comp = _compose(model, out, bars, length, seed, temperature, prime, soundfont=soundfont, progress=lambda m: status.update(m), metre=metre, key=key, prompt=prompt,
                          labels={k: v for k, v in (("composer", composer), ("style", style), ("instrument", instrument)) if v})
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
        err.print(f"[yellow]warning:[/yellow] {w}")
