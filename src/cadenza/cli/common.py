"""What every command shares: the two consoles, the progress bar, and one way to fail.

A command's work runs inside :func:`reporting` (or :func:`progress`, which includes it): a
:class:`~cadenza.CadenzaError` becomes one red ``error:`` line on stderr and exit code 2, never a
traceback.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Callable, Iterator, NoReturn

import typer
from rich.console import Console
from rich.text import Text
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from cadenza import CadenzaError

# Markup off: what Cadenza prints holds file names, labels and kern tokens such as *k[f#], which
# Rich would read as markup and swallow; colour is asked for with Text (see :func:`warn`).
console = Console(markup=False)  # results: tables and summaries
err = Console(stderr=True, markup=False)  # progress, warnings and errors


def error_line(message: object) -> None:
    """One red ``error:`` line on stderr, never wrapped at the terminal's width (a script or a
    test reading stderr sees the whole message on one line)."""
    err.print(Text.assemble(("error:", "red"), " ", " ".join(str(message).split())), soft_wrap=True)


def warn(message: object) -> None:
    """One yellow ``warning:`` line on stderr, as written (never read as markup)."""
    err.print(Text.assemble(("warning:", "yellow"), " ", str(message)), soft_wrap=True)


def fail(exc: Exception) -> NoReturn:
    """Report ``exc`` as one red line and leave with exit code 2."""
    error_line(exc)
    raise typer.Exit(2)


DEBUG_ENV = "CADENZA_DEBUG"  # set to 1 to see the traceback of an unexpected error


def unexpected(exc: BaseException) -> str:
    """An error Cadenza did not foresee (a bug), as one line a user can report."""
    return f"unexpected {type(exc).__name__}: {' '.join(str(exc).split())[:200]} (a bug in Cadenza: please report it; {DEBUG_ENV}=1 shows the traceback)"


@contextmanager
def reporting(*also: type[Exception]) -> Iterator[None]:
    """Run a command's work; a :class:`CadenzaError` (or one of the ``also`` types) :func:`fail`\\ s.
    Any other exception is a bug, but still one line and exit code 2, not a traceback (unless
    ``$CADENZA_DEBUG`` is set)."""
    try:
        yield
    except (CadenzaError, *also) as exc:
        fail(exc)
    except (typer.Exit, typer.Abort):
        raise
    except MemoryError:
        fail(CadenzaError("out of memory (the input is too large for this machine)"))
    except Exception as exc:
        if os.environ.get(DEBUG_ENV):
            raise
        fail(CadenzaError(unexpected(exc)))


@contextmanager
def progress(description: str, total: int | None = None, *also: type[Exception]) -> Iterator[Callable[..., None]]:
    """A progress bar on stderr around a command's work (see :func:`reporting`), shown only on a
    terminal (a script reading stderr gets the one error line alone). Yields
    ``update(completed, total, info=None)`` for the API's progress callback."""
    with reporting(*also), Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[info]}", markup=False), TimeElapsedColumn(), TimeRemainingColumn(), console=err, transient=False,
        disable=not err.is_terminal,  # piped or logged: the result or the one error line, no bar
    ) as prog:
        task = prog.add_task(description, total=total, info="")

        def update(completed: int, total: int | None, info: str | None = None) -> None:
            if info is None:
                prog.update(task, completed=completed, total=total)
            else:
                prog.update(task, completed=completed, total=total, info=info)

        yield update
