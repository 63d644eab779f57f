"""What every command shares: the two consoles, the progress bar, and one way to fail.

A command's work runs inside :func:`reporting` (or :func:`progress`, which includes it): a
:class:`~cadenza.CadenzaError` becomes one red ``error:`` line on stderr and exit code 2, never a
traceback.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from cadenza import CadenzaError

console = Console()  # results: tables and summaries
err = Console(stderr=True)  # progress, warnings and errors


def fail(exc: Exception) -> NoReturn:
    """Report ``exc`` as one red line and leave with exit code 2."""
    err.print("[red]error:[/red]", escape(str(exc)))
    raise typer.Exit(2)


@contextmanager
def reporting(*also: type[Exception]) -> Iterator[None]:
    """Run a command's work; a :class:`CadenzaError` (or one of the ``also`` types) :func:`fail`\\ s."""
    try:
        yield
    except (CadenzaError, *also) as exc:
        fail(exc)


@contextmanager
def progress(description: str, total: int | None = None, *also: type[Exception]) -> Iterator[Callable[..., None]]:
    """A progress bar on stderr around a command's work (see :func:`reporting`). Yields
    ``update(completed, total, info=None)`` for the API's progress callback."""
    with reporting(*also), Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[info]}"), TimeElapsedColumn(), TimeRemainingColumn(), console=err, transient=False
    ) as prog:
        task = prog.add_task(description, total=total, info="")

        def update(completed: int, total: int | None, info: str | None = None) -> None:
            if info is None:
                prog.update(task, completed=completed, total=total)
            else:
                prog.update(task, completed=completed, total=total, info=info)

        yield update
