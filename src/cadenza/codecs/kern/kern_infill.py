"""Rewriting chosen bars of the user's kern score (``cadenza infill my.krn --bars 5-8``): the kern
codec's half of infilling, as :mod:`cadenza.codecs.midi_infill` is the MIDI codecs' (the command
itself is :mod:`cadenza.generation.infill`).

The model (trained to fill in the middle, see :mod:`cadenza.codecs.fim`) reads the bars before
the range as the prefix and the bars after it as the suffix, both as cleaned text, then writes
the middle: whole bars, checked bar by bar in the metre in force, that must end with one column
per staff so they join the bar that follows. The file written is the user's own lines, unchanged,
up to the barline that opens the range and from the barline that closes it; only the lines
between are the model's (other spines such as ``**dynam`` get nulls there).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from cadenza import CadenzaError
from cadenza.codecs.kern.cleaning import clean, read_text
from cadenza.music.humdrum.clefs import settle_clefs
from cadenza.codecs.kern.header import Header
from cadenza.codecs.kern.prompt import _header_at, bar_starts, file_row
from cadenza.music.humdrum.spines import BAR, is_manipulator_line, lines_of, spine_moves

_BARNUM = re.compile(r"^=+(\d+)")


@dataclass
class KernInfill:
    """The parts of a kern file around the bars to rewrite: ``prefix`` and ``suffix`` (cleaned
    text the model reads), ``resume`` (the header in force and a barline: where the checker
    starts), ``header`` in force in the range, and how to put the result back into the file."""

    prefix: str
    suffix: str
    resume: str
    header: Header
    bars: tuple[int, int]
    lines: list[str]  # the user's file, line by line
    open_line: int  # index of the barline line that opens the first bar of the range
    close_line: int  # index of the barline line that opens the bar after the range
    cols: list[bool] = field(default_factory=list)  # which columns are **kern at the range


def columns_after(text: str, spines: int) -> int:
    """How many columns cleaned ``text`` ends with, starting from ``spines``."""
    n = spines
    for line in text.split("\n"):
        toks = line.split("\t")
        if line.startswith("*") and is_manipulator_line(toks):
            n = len(spine_moves(toks, strict=False))
    return n


def read_kern_infill(path: Path, first: int, last: int, spines: int, headed: bool = True, context_bars: int = 4, suffix_bars: int = 2, text: str | None = None) -> KernInfill:
    """Bars ``first``-``last`` of the kern file ``path`` (by its own bar numbers, ``=5`` opening
    bar 5; or of its kern ``text``, given) to rewrite, with ``context_bars`` before and
    ``suffix_bars`` after as context."""
    user = read_text(Path(path)) if text is None else text
    text, base = clean(user, str(path))
    if spines and base.spines != spines:
        raise CadenzaError(f"{path}: {base.spines} **kern spines, but the model writes {spines}")
    spines = spines or base.spines  # 0: a model of every layout rewrites the file in its own
    lines = lines_of(user)
    barlines = [i for i, x in enumerate(lines) if x.startswith("=")]
    numbers = {}
    for k, i in enumerate(barlines):
        m = _BARNUM.match(lines[i])
        if m:
            numbers.setdefault(int(m.group(1)), k)
    if first not in numbers or last + 1 not in numbers:
        known = f"bars {min(numbers)}-{max(numbers) - 1}" if len(numbers) > 1 else "no numbered bars"
        missing = first if first not in numbers else last + 1
        raise CadenzaError(f"{path}: no barline ={missing} (the file has {known}; the bars after the range must exist)")
    starts = bar_starts(text, spines)
    shift = len(starts) - len(barlines)  # cleaning opens with a barline when the file has a pickup
    if shift not in (0, 1):
        raise CadenzaError(f"{path}: its barlines do not line up with the cleaned text ({len(barlines)} against {len(starts)})")
    k0, k1 = numbers[first] + shift, numbers[last + 1] + shift
    (c0, n0), (c1, n1) = starts[k0], starts[k1]
    if n0 != spines or n1 != spines:
        bar = first if n0 != spines else last + 1
        raise CadenzaError(f"{path}: bar {bar} opens with a staff split into voices; choose a range whose ends have one column per staff")
    _, at0 = _header_at(text, c0, spines, base)
    _, at1 = _header_at(text, c1, spines, base)
    if not at0.meter:
        raise CadenzaError(f"{path}: declares no metre (*M) for bar {first}")
    if at1.meter != at0.meter or any(line.startswith("*M") and line[2:3].isdigit() for line in text[c0:c1].split("\n")):
        raise CadenzaError(f"{path}: the metre changes within bars {first}-{last + 1}; choose a range in one metre")
    begin = max(0, k0 - max(context_bars, 0))
    while begin > 0 and starts[begin][1] != spines:
        begin -= 1
    head, _ = _header_at(text, starts[begin][0], spines, base)
    prefix = (head if headed else "") + BAR + "\n" + text[starts[begin][0] : c0]
    stop = starts[min(len(starts) - 1, k1 + max(suffix_bars, 0))][0]
    suffix = text[c1:stop]
    resume = "".join(x + "\n" for x in at0.opening()) + BAR + "\n"
    cols = _columns_at(lines, barlines[numbers[first]])
    if cols != _columns_at(lines, barlines[numbers[last + 1]]):
        raise CadenzaError(f"{path}: the spines change within bars {first}-{last}; choose a range without spine splits or joins")
    return KernInfill(prefix, suffix, resume, at0, (first, last), lines, barlines[numbers[first]], barlines[numbers[last + 1]], cols)


def _columns_at(lines: list[str], upto: int) -> list[bool]:
    """Which columns are **kern at line ``upto`` of a file."""
    cols: list[bool] = []
    for line in lines[:upto]:
        fields = line.rstrip(" \t").split("\t")
        if not line or line.startswith("!"):
            continue
        if fields[0].startswith("**"):
            cols = [f == "**kern" for f in fields]
        elif fields[0].startswith("*") and is_manipulator_line(fields):
            cols = [cols[m[0]] for m in spine_moves(fields, strict=False)]
    return cols


def join_infill(kin: KernInfill, middle: str) -> tuple[str, dict[str, int]]:
    """The user's file with the lines of bars ``kin.bars`` replaced by ``middle`` (cleaned text of
    whole bars, each closed by a barline line); every other line is the user's own."""
    spines = kin.header.spines
    if middle.count("\n" + BAR + "\n") + middle.startswith(BAR + "\n") < kin.bars[1] - kin.bars[0] + 1:
        raise CadenzaError(f"the infill has fewer than the {kin.bars[1] - kin.bars[0] + 1} bars asked for")
    if columns_after(middle, spines) != spines:
        raise CadenzaError("the infill ends with a staff split into voices; it cannot join the next bar")
    body, dropped = settle_clefs(middle, list(kin.header.clefs))
    cols = kin.cols
    kern_pos = [i for i, k in enumerate(cols) if k]
    staff = list(range(len(kern_pos)))
    rows: list[str] = []
    number = kin.bars[0]
    mlines = [x for x in body.split("\n") if x]
    for k, line in enumerate(mlines):
        if line == BAR:
            if k == len(mlines) - 1:
                break  # the user's own barline closes the range
            number += 1
            rows.append("\t".join([f"={number}"] * len(cols)))
            continue
        row, staff = file_row(line.split("\t"), cols, staff)
        rows.append(row)
    # section labels (``*>B``) belong to the form, not the notes: they stay where they were
    labels = [x for x in kin.lines[kin.open_line + 1 : kin.close_line] if x.startswith("*>")]
    out = kin.lines[: kin.open_line + 1] + labels + rows + kin.lines[kin.close_line :]
    return "\n".join(out).rstrip("\n") + "\n", {"bars": kin.bars[1] - kin.bars[0] + 1, "clefs_dropped": dropped, "lines_written": len(rows)}
