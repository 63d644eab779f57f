"""Whole cleaned kern texts checked bar by bar with the incremental checker, going on after a
bad bar with the columns, metre and ties followed leniently (real files, model samples)."""

from __future__ import annotations

from cadenza.codecs.kern.harm import is_chord_line
from cadenza.codecs.kern.checker import KernChecker
from cadenza.codecs.kern.data_tokens import _tie_close, _tie_open
from cadenza.codecs.kern.grammar import DEFAULT_VOCAB
from cadenza.music.humdrum.spines import BAR, NULL, pitch_run, spine_moves


def _lenient_manip(toks: list[str], staff: tuple[int, ...]) -> tuple[int, ...]:
    """Column staffs after a skipped interpretation line (no validity checks): splits and merges
    are followed, an ``*x`` swaps with its right neighbour, anything else (a stray ``*-`` too)
    keeps its column, so a junk token does not cascade into column-count errors."""
    read: list[str] = []
    j = 0
    while j < len(toks):
        if toks[j] == "*x" and j + 1 < len(toks):
            read += ["*x", "*x"]
            j += 2
        else:
            read.append(toks[j] if toks[j] in ("*^", "*v") else "*")
            j += 1
    return tuple(staff[m[0]] for m in spine_moves(read))


def _lenient_ties(fields: list[str], staff: tuple[int, ...],
                  ties: tuple[tuple[str, ...], ...]) -> tuple[tuple[str, ...], ...]:
    """Per-staff open ties after a skipped data line."""
    out = list(ties)
    for j, f in enumerate(fields):
        if f == NULL:
            continue
        for sub in f.split(" "):
            run = pitch_run(sub)
            if not run or "r" in sub:
                continue
            if "[" in sub:
                out[staff[j]] = _tie_open(out[staff[j]], run)
            elif "]" in sub:
                out[staff[j]] = _tie_close(out[staff[j]], run)
    return tuple(out)


def check_report(text: str, spines: int, meter: tuple[int, int] | None = (4, 4), *,
                 strict_durations: bool = True, allow_partial_final: bool = True,
                 complete: bool = False, max_spines: int | None = None,
                 split_bars: bool = False, music21_safe: bool = True) -> tuple[int, list[tuple[int, int, str]]]:
    """Check a whole cleaned text bar by bar: (number of bars, [(bar, line number, problem)]).

    Bars are numbered from 1 (the music before the second ``@``, or before the first if the text
    does not open with one). After a problem the rest of the bar is skipped and checking goes on
    at the next ``@`` with the column layout, metre and ties followed leniently, so each bad bar is
    reported once. ``allow_partial_final``: the last bar may be short (it completes the pickup).
    ``complete``: the text must end right after a barline. ``split_bars``: accept short bars
    that the next bar completes or that are followed by a full bar (real files: mid-bar repeat
    signs, pickups of a new section); off by default, as for sampling. ``music21_safe``: as for
    :class:`KernChecker` (on by default; off to check real files).
    """
    vocab = tuple(sorted(set(DEFAULT_VOCAB) | set(text)))
    ck = KernChecker(list(vocab), spines, meter, strict_durations, max_spines=max_spines,
                     split_bars=split_bars, music21_safe=music21_safe)
    problems: list[tuple[int, int, str]] = []
    ends_with_nl = text.endswith("\n")
    lines = text.split("\n")
    if ends_with_nl:
        lines = lines[:-1]
    lines = [ln for ln in lines if not is_chord_line(ln)]  # chord lines (.harm) are no music: not checked, not counted
    last_bar_line = max((i for i, ln in enumerate(lines) if ln == BAR), default=-1)
    bar = 1
    bars = 0
    data_since_bar = False
    skipping = False
    s_staff, s_ties, s_meter = ck.staff, ck.ties, ck.meter_str  # followed leniently while skipping

    def skip_line(line: str) -> None:
        nonlocal s_staff, s_ties, s_meter
        fields = line.split("\t")
        if len(fields) != len(s_staff):
            return
        if line.startswith("*"):
            s_staff = _lenient_manip(fields, s_staff)
            if fields[0] in ck.g.meters:
                s_meter = fields[0]
        else:
            s_ties = _lenient_ties(fields, s_staff, s_ties)

    for i, line in enumerate(lines):
        lineno = i + 1
        is_data = bool(line) and line != BAR and not line.startswith("*")
        if skipping and line != BAR:
            skip_line(line)
            data_since_bar = data_since_bar or is_data
            continue
        if skipping:  # a barline ends the skipped bar
            ck._resync(len(s_staff), s_staff, s_ties, s_meter, ck.bars_completed + 1)
            skipping = False
        else:
            start = (ck.staff, ck.ties, ck.meter_str)
            full = line + "\n" if (ends_with_nl or i < len(lines) - 1) else line
            for pos, ch in enumerate(full):
                if ch in ck._allowed_set():
                    ck.push(ch)
                    continue
                if (ch == BAR and allow_partial_final and i == last_bar_line
                        and all(not ln.strip() for ln in lines[i + 1:])
                        and ck.elapsed > 0 and not any(ck.rem) and not any(ck.beam)):
                    return bars + 1, problems  # a short final bar completing the pickup
                problems.append((bar, lineno, ck.explain(ch)))
                s_staff, s_ties, s_meter = start
                if line == BAR:  # the barline itself was wrong: go on from here
                    ck._resync(len(s_staff), s_staff, s_ties, s_meter, ck.bars_completed + 1)
                else:
                    skipping = True
                    skip_line(line)
                break
        data_since_bar = data_since_bar or is_data
        if line == BAR and data_since_bar:
            bars += 1
            bar += 1
            data_since_bar = False
    if data_since_bar:
        bars += 1
    if complete:
        if not ends_with_nl:
            problems.append((bar, len(lines), "text ends inside a line"))
        elif skipping or not ck.at_bar_boundary:
            problems.append((bar, len(lines), "text does not end with a barline"))
    return bars, problems


def check_text(text: str, spines: int, meter: tuple[int, int] | None = (4, 4), **kw) -> list[str]:
    """Human-readable problems of a cleaned kern text (empty list: valid), from
    :func:`check_report` (same keyword options)."""
    _, problems = check_report(text, spines, meter, **kw)
    return [f"bar {b}, line {ln}: {msg}" for b, ln, msg in problems]
