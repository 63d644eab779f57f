"""The spine structure of a Humdrum text, checked line by line: an exclusive interpretation
(``**kern``, ``**dynam`` ...) opens every column, each line has one token per active spine,
spine moves are legal, and nothing but comments follows the line that ends every spine.

Verovio aborts the whole process (a C++ exception) on a column count that does not match the
spines, so rendering checks a text here before verovio sees it; the kern codec's cleaning walks
the same lines to know which columns are ``**kern`` after a split or a merge.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from cadenza import CadenzaError
from cadenza.music.humdrum.spines import follow, is_manipulator_line, records, spine_moves


@dataclass(frozen=True)
class Line:
    """One record of a Humdrum text and the spines it lies in."""

    number: int  # the file's line number, from 1
    tokens: list[str]
    spines: list[str]  # the exclusive interpretation of each column on this line
    after: list[str]  # ... and on the next line (another list after a split, merge or end)


def walk(text: str, where: str = "<text>") -> Iterator[Line]:
    """Each record from the exclusive interpretation line (the first yielded) up to, not
    including, the line that ends every spine. Raises :class:`CadenzaError` in one line, naming
    ``where`` and the line, on a malformed structure."""
    spines: list[str] | None = None
    ended = False
    for number, tokens in records(text):
        loc = f"{where}:{number}"
        if spines is None:
            if not tokens[0].startswith("**"):
                raise CadenzaError(f"{loc}: no exclusive interpretation (**kern) before the music")
            spines = tokens
            yield Line(number, tokens, spines, spines)
            continue
        if ended:
            if any(t and not t.startswith("!") for t in tokens):
                raise CadenzaError(f"{loc}: music after all spines ended")
            continue
        if len(tokens) != len(spines):
            raise CadenzaError(f"{loc}: {len(tokens)} columns where {len(spines)} spines are active")
        if all(t == "*-" for t in tokens):
            ended = True
            continue
        after = spines
        if tokens[0].startswith("*") and is_manipulator_line(tokens):
            try:
                after = follow(spines, spine_moves(tokens))
            except ValueError as exc:
                raise CadenzaError(f"{loc}: {exc}") from None
        yield Line(number, tokens, spines, after)
        spines = after


def check_spines(text: str, where: str = "<text>") -> None:
    """Raise :class:`CadenzaError` (one line, naming ``where`` and the line) unless ``text`` has
    a sound spine structure (see :func:`walk`)."""
    for _ in walk(text, where):
        pass
