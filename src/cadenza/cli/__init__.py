"""The ``cadenza`` command: prepare -> train -> generate, each a thin layer over the Python API.

One module per command (or small group): it parses the flags, calls the API and shows the
result; :mod:`~cadenza.cli.common` holds the progress bar and the one way a command fails (one
red line, exit code 2). Here the commands are registered, in the order ``--help`` lists them.

Floor 9 (the top): may import anything in Cadenza; nothing imports it. Heavy imports (torch,
music21) happen inside the commands, and a command's module is imported only when that command
runs (``cadenza generate`` never imports ``prepare``'s data pipeline and numpy with it: ~0.1 s
of every start-up, issue #21); ``--help`` imports them all to list them.
"""

from __future__ import annotations

from importlib import import_module
import click
import typer
from typer.core import TyperGroup

# command -> (module under cadenza.cli, function), in the order --help lists them
COMMANDS: dict[str, tuple[str, str]] = {
    "prepare": ("prepare", "prepare"), "train": ("train", "train"), "adapt": ("adapt", "adapt"), "generate": ("generate", "generate"),
    "infill": ("infill", "infill"), "render": ("render", "render"), "compose": ("compose", "compose"), "serve": ("serve", "serve"),
    "evaluate": ("evaluate", "evaluate"), "models": ("info", "models"), "codecs": ("info", "codecs"),
}
# ``cadenza benchmark poly``: a group of its own
BENCHMARKS: dict[str, tuple[str, str]] = {"poly": ("evaluate", "benchmark_poly")}


def _lazy(commands: dict[str, tuple[str, str]], groups: dict[str, typer.Typer] | None = None) -> type[TyperGroup]:
    """A click group that builds each command from its module when it is first asked for."""

    class Lazy(TyperGroup):
        def list_commands(self, ctx: click.Context) -> list[str]:
            return [*commands, *(groups or {})]

        def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
            if name in (groups or {}):
                group = typer.main.get_command((groups or {})[name])
                group.name = name
                return group
            if name not in commands:
                return None
            module, function = commands[name]
            one = typer.Typer(add_completion=False)
            one.command(name)(getattr(import_module(f"cadenza.cli.{module}"), function))
            return typer.main.get_command(one)

    return Lazy


def _group(help: str, commands: dict[str, tuple[str, str]], groups: dict[str, typer.Typer] | None = None) -> typer.Typer:
    group = typer.Typer(cls=_lazy(commands, groups), add_completion=False, no_args_is_help=True, help=help)

    @group.callback()
    def _root() -> None:  # a group needs one; it has no options of its own
        pass

    return group


bench = _group("Compare Cadenza's models with published numbers.", BENCHMARKS)
app = _group("Cadenza: turn a corpus of scores into a composer.", COMMANDS, {"benchmark": bench})
