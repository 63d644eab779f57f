"""The ``cadenza`` command: prepare -> train -> generate, each a thin layer over the Python API.

One module per command (or small group): it parses the flags, calls the API and shows the
result; :mod:`~cadenza.cli.common` holds the progress bar and the one way a command fails (one
red line, exit code 2). Here the commands are registered, in the order ``--help`` lists them.

Floor 9 (the top): may import anything in Cadenza; nothing imports it. Heavy imports (torch,
music21) happen inside the commands, so ``cadenza --help`` stays fast.
"""

from __future__ import annotations

import typer

from cadenza.cli import adapt, compose, evaluate, generate, info, infill, prepare, render, serve, train

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Cadenza: turn a corpus of scores into a composer.")
app.command()(prepare.prepare)
app.command()(train.train)
app.command()(adapt.adapt)
app.command()(generate.generate)
app.command()(infill.infill)
app.command()(render.render)
app.command()(compose.compose)
app.command()(serve.serve)
app.command()(evaluate.evaluate)

bench = typer.Typer(no_args_is_help=True, help="Compare Cadenza's models with published numbers.")
bench.command("poly")(evaluate.benchmark_poly)
app.add_typer(bench, name="benchmark")

app.command()(info.models)
app.command()(info.codecs)
