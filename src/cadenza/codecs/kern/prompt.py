"""Continuing the user's own kern score (``generate --prompt my.krn``): the prime is the header
in force and the last bars of the file as cleaned text; the file written is the user's own
lines, unchanged, then the continuation in the same columns (other spines such as ``**dynam``
get nulls), numbered on from the user's last bar. A MIDI or MusicXML file is first written as a
kern score (:func:`prompt_kern`, through :mod:`.writer`) and continued as that.

The checker is told only where the user's bars end (the header in force and a barline), not
the bars themselves: real files write shapes and voice layouts the generation grammar never
would, and the sample must go on validly from a bar boundary, not re-check the user.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from cadenza import CadenzaError
from cadenza.codecs.kern.cleaning import clean, read_text
from cadenza.music.humdrum.clefs import settle_clefs
from cadenza.codecs.kern.conditioning import window_prefix
from cadenza.codecs.kern.header import Header
from cadenza.music.humdrum.interpretations import kind_of
from cadenza.music.humdrum.spines import BAR, is_manipulator_line, records, spine_moves
from cadenza.music.humdrum.writer import piece_to_kern

_BARNUM = re.compile(r"^=+(\d+)")


@dataclass
class KernPrompt:
    """What continuing a kern file needs: ``prime`` (header in force + the last bars, cleaned
    text for the model), ``resume`` (header in force at the end + a barline, for the checker),
    ``header`` at the end (metre, key, clefs the continuation keeps), the user's file text and
    how many bars the prime holds; the file's ``name`` (stem) and, for a file written as kern
    first, where that score was ``converted`` to."""

    prime: str
    resume: str
    header: Header
    user_text: str
    bars: int
    info: dict = field(default_factory=dict)
    name: str = ""
    converted: Path | None = None


def _header_at(text: str, offset: int, spines: int, base: Header) -> tuple[str, Header]:
    """The header text in force at ``offset`` of cleaned ``text`` and it as a :class:`Header`."""
    head = ""
    for off, h in window_prefix(text):
        if off <= offset:
            head = h
    got: dict[str, list[str]] = {}
    for line in head.split("\n"):
        toks = line.split("\t")
        kind = kind_of(toks[0]) if line else None
        if kind and len(toks) == spines:
            got[kind] = toks
    meter = (got.get("meter") or [base.meter])[0]
    key = (got.get("key") or [base.key])[0]
    return head, Header(spines, got.get("clef", list(base.clefs)), got.get("keysig", list(base.keysig)), key, meter, None, base.tempo)


def prompt_kern(path: Path, spines: int) -> str:
    """The kern text a kern model continues for the user's file ``path``: a kern file's own text;
    a MIDI or MusicXML file read as a Piece and written as a score of ``spines`` staves."""
    path = Path(path)
    if path.suffix.lower() == ".krn":
        return read_text(path)
    from cadenza.music.reader import read_piece_file

    piece = read_piece_file(path)
    if not spines:  # a model of every layout: the staves the music's parts suggest
        from cadenza.codecs.kern.convert import natural_staves

        spines = natural_staves(piece)
    return piece_to_kern(piece, spines, where=str(path))


def bar_starts(text: str, spines: int) -> list[tuple[int, int]]:
    """(offset of the line after each barline line, columns there) in cleaned ``text`` that opens
    with ``spines`` columns: where each bar begins, and whether a staff is split there."""
    starts: list[tuple[int, int]] = []
    n, offset = spines, 0
    for line in text.split("\n"):
        offset += len(line) + 1
        toks = line.split("\t")
        if line.startswith("*") and is_manipulator_line(toks):
            n = len(spine_moves(toks, strict=False))
        elif line == BAR:
            starts.append((offset, n))
    return starts


def read_kern_prompt(path: Path, bars: int, spines: int, vocab: list[str], headed: bool = True, text: str | None = None) -> KernPrompt:
    """The last ``bars`` bars of the kern file ``path`` (or of its kern ``text``, given) as a
    prime for a model of ``spines`` staves (moved back to the nearest bar where no staff is split
    into voices)."""
    user = read_text(Path(path)) if text is None else text
    text, base = clean(user, str(path))
    if spines and base.spines != spines:
        raise CadenzaError(f"{path}: {base.spines} **kern spines, but the model writes {spines}")
    spines = spines or base.spines  # 0: a model of every layout continues the file in its own
    starts = bar_starts(text, spines)
    if len(starts) < 2:
        raise CadenzaError(f"{path}: no complete bar to continue")
    end, n_end = starts[-1]
    if n_end != spines:
        raise CadenzaError(f"{path}: ends with a staff split into voices; end it on a bar with one column per staff")
    first = max(0, len(starts) - 1 - max(bars, 1))
    while first > 0 and starts[first][1] != spines:
        first -= 1
    begin = starts[first][0]
    head, _ = _header_at(text, begin, spines, base)
    _, at_end = _header_at(text, end, spines, base)
    if not at_end.meter:
        raise CadenzaError(f"{path}: declares no metre (*M) to continue in")
    known = set(vocab)
    resume = "".join(x + "\n" for x in at_end.opening() if set(x) <= known) + BAR + "\n"
    # a model trained on the 2015 text (no headers) gets the bars alone
    prime = (head if headed else "") + BAR + "\n" + text[begin:end]
    return KernPrompt(prime, resume, at_end, user, len(starts) - 1 - first)


def join_continuation(prompt: KernPrompt, continuation: str) -> tuple[str, dict[str, int]]:
    """The user's file, unchanged up to its last barline, then ``continuation`` (cleaned text
    from a bar start, ending with a barline) in the file's columns; ends with ``==`` and ``*-``."""
    body, trailer, cols, last_bar = _user_lines(prompt.user_text)
    cont, dropped = settle_clefs(continuation, list(prompt.header.clefs))
    kern_pos = [i for i, k in enumerate(cols) if k]
    if len(kern_pos) != prompt.header.spines:
        raise CadenzaError(f"the file ends with {len(kern_pos)} **kern columns, the continuation has {prompt.header.spines}")
    staff = list(range(len(kern_pos)))  # per model column, its staff (file order)
    out = list(body)
    number = last_bar + 1
    closing = body[-1].split("\t")[0] if body else ""
    if closing.startswith("=="):  # the user's final double barline leads into the continuation
        out[-1] = "\t".join([f"={number}"] * len(cols))
    elif closing.startswith("="):
        number = last_bar
    else:
        out.append("\t".join([f"={number}"] * len(cols)))
    bars = 0
    cont_lines = [x for x in cont.split("\n") if x]
    while cont_lines and cont_lines[-1] == BAR and (len(cont_lines) < 2 or cont_lines[-2] == BAR):
        cont_lines.pop()
    for k, line in enumerate(cont_lines):
        if line == BAR:
            if k == 0:
                continue
            bars += 1
            number += 1
            last = all(x == BAR for x in cont_lines[k:])
            out.append("\t".join(["==" if last else f"={number}"] * len(cols)))
            if last:
                break
            continue
        toks = line.split("\t")
        row, staff = file_row(toks, cols, staff)
        out.append(row)
    if not out[-1].startswith("=="):
        out.append("\t".join(["=="] * len(cols)))
    out.append("\t".join(["*-"] * len(cols)))
    return "\n".join(out + trailer) + "\n", {"bars": bars, "clefs_dropped": dropped}


def file_row(toks: list[str], cols: list[bool], staff: list[int]) -> tuple[str, list[int]]:
    """A model line's tokens (``staff``: each model column's staff, in file order) as a line of
    the file's columns (other spines get nulls), and the staves after it (a split or merge moves
    them)."""
    interp = bool(toks) and toks[0].startswith("*")
    kern_pos = [i for i, k in enumerate(cols) if k]
    row = []
    for p, is_kern in enumerate(cols):
        if is_kern:
            s = kern_pos.index(p)
            row += [t for t, st in zip(toks, staff) if st == s]
        else:
            row.append("*" if interp else ".")
    if interp and is_manipulator_line(toks):
        staff = [staff[m[0]] for m in spine_moves(toks, strict=False)]
    return "\t".join(row), staff


def _user_lines(user: str) -> tuple[list[str], list[str], list[bool], int]:
    """(the user's lines up to the spine ends, the records after them, which columns are
    **kern at the end, the last bar number)."""
    lines = user.replace("\r\n", "\n").replace("\r", "\n").rstrip("\n").split("\n")
    end = max((i for i, x in enumerate(lines) if x.rstrip(" \t").split("\t")[0] == "*-"), default=len(lines))
    body, trailer = [x.rstrip(" \t") for x in lines[:end]], lines[end + 1:]
    while body and (not body[-1] or body[-1].startswith("!")):
        trailer.insert(0, body.pop())
    cols: list[bool] = []
    last_bar = 0
    for _, fields in records("\n".join(body)):
        if fields[0].startswith("**"):
            cols = [f == "**kern" for f in fields]
        elif fields[0].startswith("*") and is_manipulator_line(fields):
            cols = [cols[m[0]] for m in spine_moves(fields, strict=False)]
        elif m := _BARNUM.match(fields[0]):
            last_bar = int(m.group(1))
    return body, trailer, cols, last_bar
