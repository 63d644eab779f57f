"""``cadenza render``: music files -> score (SVG/PDF), sound (WAV) and piano-roll picture (PNG)."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer
from rich.table import Table

from cadenza import CadenzaError
from cadenza.cli.common import console, err


def render(
    files: List[Path] = typer.Argument(..., help="Files to render: .krn, .mid, .musicxml/.mxl, or a sample's token .txt (with --model/--run)."),
    to: str = typer.Option("svg,pdf,wav,png", "--to", help="Comma-separated: midi, musicxml, krn, svg, pdf, wav, png (flac/mp3 when ffmpeg is present)."),
    out: Optional[Path] = typer.Option(None, "-o", "--out", help="Output folder (default: beside each file)."),
    title: Optional[str] = typer.Option(None, help="Title in the engraved score's header."),
    soundfont: Optional[Path] = typer.Option(None, help="SoundFont (.sf2) for audio."),
    run: Optional[str] = typer.Option(None, "--run", "--model", help="For token .txt files: the run or bundled model whose codec reads them."),
) -> None:
    """Render music files to a score (SVG/PDF), sound (WAV) and a piano-roll picture (PNG)."""
    from cadenza import render as _render

    formats = [f.strip().lower() for f in to.split(",") if f.strip()]
    t = Table(title="Rendered")
    t.add_column("input")
    t.add_column("format")
    t.add_column("file")
    failed = 0
    for f in files:  # a file that fails is reported and the others still rendered; exit code 1 at the end
        try:
            src = _tokens_to_file(f, run, out) if f.suffix.lower() == ".txt" else f
            got = _render.render(src, formats, out_dir=out, title=title, soundfont=soundfont)
        except CadenzaError as exc:
            err.print(f"[red]error:[/red] {exc}")
            failed += 1
            continue
        for fmt, paths in got.items():
            for p in paths:
                t.add_row(f.name, fmt, str(p))
    if t.row_count:
        console.print(t)
    if failed:
        raise typer.Exit(1)


def _tokens_to_file(path: Path, run: Optional[str], out: Optional[Path]) -> Path:
    """A sample's token text -> a .krn or .mid file through the run's codec."""
    from cadenza.codecs import get_codec
    from cadenza.models.pretrained import resolve
    from cadenza.training import load_run

    if run is None:
        raise CadenzaError(f"{path}: token text needs --run RUN (or --model NAME) to know its codec")
    _, config = load_run(resolve(run))
    codec = get_codec(config["codec"], config["codec_options"])
    decoded = codec.decode(path.read_text(encoding="utf-8"), config.get("context", {}))
    stem = (out or path.parent) / path.stem
    files = codec.export(decoded, stem, ("krn", "mid"))
    return files.get("krn") or files["mid"]
