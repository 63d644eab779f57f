"""``cadenza serve``: the web app (see :mod:`cadenza.web`)."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from cadenza import CadenzaError
from cadenza.cli.common import reporting


def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on (127.0.0.1: this machine only; 0.0.0.0: every network)."),
    port: int = typer.Option(8000, help="Port to listen on."),
    model: Optional[List[str]] = typer.Option(None, "--model", help="A bundled model or run folder to offer (repeat it; default: every bundled model)."),
    out: Optional[Path] = typer.Option(None, help="Folder for results (default: a temporary folder, removed on exit)."),
    keep: int = typer.Option(200, help="Results kept in that folder; older ones are removed."),
    workers: int = typer.Option(2, help="Generations run at once (8 more may wait; beyond that: 503)."),
) -> None:
    """Open Cadenza in the browser: play or upload a prompt, generate, hear, download, jam."""
    with reporting():
        try:
            from cadenza.web import WebOptions
            from cadenza.web import serve as _serve
        except ModuleNotFoundError as exc:
            raise CadenzaError(f"cadenza serve needs {exc.name}: pip install fastapi uvicorn python-multipart") from None
        _serve(WebOptions(host=host, port=port, models=tuple(model or ()), out=out, keep=keep, workers=workers))
