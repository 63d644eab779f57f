"""``cadenza render``: music files -> score (SVG/PDF), sound (WAV) and piano-roll picture (PNG)."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, List, Optional

import typer
from rich.table import Table

from cadenza import CadenzaError
from cadenza.cli.common import DEBUG_ENV, console, error_line, unexpected


def render(
    files: List[Path] = typer.Argument(..., help="Files to render: .krn, .mid, .musicxml/.mxl, or a sample's token .txt (with --model/--run)."),
    to: str = typer.Option("svg,pdf,wav,png", "--to", help="Comma-separated: midi, musicxml, krn, svg, pdf, wav, png (flac/mp3 when ffmpeg is present)."),
    out: Optional[Path] = typer.Option(None, "-o", "--out", help="Output folder (default: beside each file)."),
    title: Optional[str] = typer.Option(None, help="Title in the engraved score's header."),
    soundfont: Optional[Path] = typer.Option(None, help="SoundFont (.sf2) for audio."),
    run: Optional[str] = typer.Option(None, "--run", "--model", help="For token .txt files: the run or bundled model whose codec reads them."),
    force: bool = typer.Option(False, "--force", "-f", help="Replace files that already exist (otherwise render refuses to overwrite them)."),
) -> None:
    """Render music files to a score (SVG/PDF), sound (WAV) and a piano-roll picture (PNG).

    A file that fails is one red line (the others are still rendered), and the exit code is 2."""
    from cadenza import render as _render
    from cadenza.render.tokens import tokens_to_file

    formats = [f.strip().lower() for f in to.split(",") if f.strip()]
    t = Table(title="Rendered")
    t.add_column("input")
    t.add_column("format")
    t.add_column("file")
    failed = 0
    for f in files:  # a file that fails is reported and the others still rendered; exit code 2 at the end
        try:
            with _one_file():
                tokens = f.suffix.lower() == ".txt"
                src = tokens_to_file(f, run, out, formats, force) if tokens else f
                got = _render.render(src, formats, out_dir=out, title=title, soundfont=soundfont, overwrite=force or tokens)
        except CadenzaError as exc:
            error_line(exc)
            failed += 1
            continue
        for fmt, paths in got.items():
            for p in paths:
                t.add_row(f.name, fmt, str(p))
    if t.row_count:
        console.print(t)
    if failed:
        raise typer.Exit(2)


@contextmanager
def _one_file() -> Iterator[None]:
    """An unexpected error while rendering one file is that file's one line too (see
    :func:`cadenza.cli.common.unexpected`)."""
    try:
        yield
    except CadenzaError:
        raise
    except MemoryError:
        raise CadenzaError("out of memory (the input is too large for this machine)") from None
    except Exception as exc:
        if os.environ.get(DEBUG_ENV):
            raise
        raise CadenzaError(unexpected(exc)) from None
