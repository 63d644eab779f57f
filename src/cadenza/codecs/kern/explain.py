"""Why a character is not allowed: the checker's rejections as readable sentences (what
:func:`~cadenza.codecs.kern.report.check_report` reports and constrained sampling raises)."""

from __future__ import annotations

from typing import Any

from cadenza.codecs.kern.grammar import _BARNL, _DUR, _INTERP, _LS, _NULLTOK, _POST, _PRE, _TSTART
from cadenza.codecs.kern.grammar import fmt_ticks
from cadenza.music.humdrum.spines import BAR, DIGITS, PITCH_LETTERS

# the checker whose state is read (a :class:`~cadenza.codecs.kern.checker.KernChecker`, which
# imports this module: so the type is named, not imported)
KernChecker = Any


def explain(ck: KernChecker, ch: str) -> str:
    """Why ``ch`` is not allowed here (a readable sentence); '' if it is allowed."""
    if ch in ck._allowed_set():
        return ""
    ph = ck._phase
    j = getattr(ck, "_col", 0)
    n = ck.n
    if ph == _BARNL:
        return f"a barline line must be exactly {BAR!r}, got {ch!r} after it"
    if ph == _LS:
        if ch == BAR:
            return _explain_barline(ck)
        if ch == "*":
            return "interpretation lines cannot be written with this vocabulary"
        if ch == "\n":
            return "empty line"
        return _explain_token(ck, ch, line_start=True)
    if ph == _INTERP:
        tok = ck._ip
        if ch in "\t\n":
            if ch == "\n" and j < n - 1:
                return f"interpretation line has {j + 1} tokens but {n} spines are active"
            if ch == "\t" and j == n - 1:
                return f"interpretation line has more than {n} tokens ({n} spines are active)"
            return f"invalid interpretation {tok!r} in column {j + 1} here ({_interp_hint(ck, tok)})"
        return f"invalid interpretation {tok + ch!r}... in column {j + 1} ({_interp_hint(ck, tok + ch)})"
    return _explain_token(ck, ch, line_start=False)

def _interp_hint(ck: KernChecker, tok: str) -> str:
    ctx = ck._ictx
    if ctx[0] is not None:
        return f"{ctx[0]} is required here"
    _, null_ok, other_ok, split_ok, v_ok, x_ok, glob, _ = ctx
    if tok == "*" and not null_ok:
        return "an interpretation line cannot be all '*'"
    if tok in ("*v", "*x", "*^") and ck._ihas_other or tok not in ("*", "*v", "*x", "*^") and not other_ok:
        return "manipulators and other interpretations cannot share a line"
    j = ck._col
    if tok == "*v":
        if not ck._merge_time_ok():
            return "no merge before the bar's first note (music21_safe)"
        if ck._vrun >= 2:
            return "*v merges exactly two columns (music21_safe)"
        return "*v must join two adjacent columns of one staff whose notes end together"
    if tok == "*x":
        return "*x exchanges are not supported"
    if tok == "*^":
        if not ck._split_time_ok():
            return "no split in a full bar or after a merge in the same bar (music21_safe)"
        st = ck.staff[j]
        if ck.max_voices is not None and ck.staff.count(st) + ck._isplits.count(st) >= ck.max_voices:
            return f"at most {ck.max_voices} columns per staff (music21_safe)"
        return f"at most {ck.max_spines} columns"
    if tok.startswith("*M") and tok[2:3].isdigit() or tok.startswith("*met"):
        if glob is None:
            return "a metre or *met goes in column 1 at the start of a bar"
        return "unsupported metre, or *met that does not match the metre"
    return "not a supported interpretation here"

def _explain_barline(ck: KernChecker) -> str:
    if ck.elapsed == 0:
        return "empty bar (barline right after a barline or before any note)"
    for k in range(ck.n):
        if ck.rem[k]:
            return (f"barline while column {k + 1}'s note still sounds "
                    f"({fmt_ticks(ck.rem[k])} left): bar overfull or misaligned")
    for k in range(ck.n):
        if ck.beam[k]:
            return f"barline with a beam still open in column {k + 1}"
    return (f"underfull bar before a barline: {fmt_ticks(ck.elapsed)} of "
            f"{fmt_ticks(ck.barlen)} ({ck.meter_str})")

def _explain_token(ck: KernChecker, ch: str, line_start: bool) -> str:
    ph = ck._phase
    n = ck.n
    j = 0 if line_start else ck._col
    tok = "" if (line_start or ph == _TSTART) else ck._line.split("\t")[-1]
    col = f"column {j + 1}"
    if ch in "\t\n" and (line_start or ph == _TSTART):
        return f"empty token in {col}"
    if ch == "\n" and j < n - 1 and ph in (_NULLTOK, _POST) and (ck._nok or "q" in ck._suf or ph == _NULLTOK):
        return f"data line has {j + 1} tokens but {n} spines are active"
    if ch == "\t" and j == n - 1 and ph in (_NULLTOK, _POST):
        return f"data line has more than {n} tokens ({n} spines are active)"
    rem = ck.rem[j]
    if ph in (_TSTART, _LS):
        if ch == ".":
            return f"null token in {col}, whose previous event has ended (needs a note or rest)"
        if ch in DIGITS or ch in "([&":
            if rem:
                return (f"new note in {col} while its previous note still sounds "
                        f"({fmt_ticks(rem)} left; needs '.')")
            if ck.avail <= 0:
                return f"note in {col} after the bar is already full ({ck.meter_str})"
            if ck._committed:
                return "timed note in a grace-note line"
            return f"duration starting {ch!r} does not fit the {fmt_ticks(ck.avail)} left in the bar"
        return f"bad token start {ch!r} in {col}"
    if ph == _PRE:
        if ch in DIGITS and ck._forced is not None:
            return f"chord notes must repeat the first note's duration {ck._forced!r} ({col})"
        if ch in DIGITS:
            return f"no duration starting {ch!r} fits in {col} ({fmt_ticks(ck.avail)} left in the bar)"
        return f"bad token {tok + ch!r} in {col}"
    if ph == _DUR:
        p = ck._p + ch
        if ch in DIGITS or ch == ".":
            if ck._forced is not None:
                return f"chord notes must repeat the first note's duration {ck._forced!r} ({col})"
            if any(s.startswith(p) for s in ck.g.all_durs):
                return (f"duration {p!r} in {col} does not fit the {fmt_ticks(ck.avail)} left "
                        f"in the bar (or leaves a remainder no duration can fill)")
            return f"unsupported duration {p!r} in {col}"
        if ck._p not in ck.g.all_durs:
            return f"unsupported duration {ck._p!r} in {col}"
        if ch == "r":
            if ck._forced is not None:
                return f"rests cannot be part of a chord ({col})"
            if "[" in ck._pre:
                return f"rests cannot be tied ({tok + ch!r}, {col})"
            if not ck._nok or ck._p not in ck.g.fits(ck._avk):
                if ck._committed or ck.avail <= 0:
                    return f"rest {tok + ch!r} in a grace-note line or a full bar ({col})"
                return (f"duration {ck._p!r} in {col} overflows the bar "
                        f"({fmt_ticks(ck.avail)} left in {ck.meter_str})")
            return f"rest not allowed here: {tok + ch!r} ({col})"
        if ch in PITCH_LETTERS:
            return (f"duration {ck._p!r} in {col} overflows the bar "
                    f"({fmt_ticks(ck.avail)} left in {ck.meter_str})")
        return f"bad token {tok + ch!r} in {col}"
    if ph == _POST:
        if ch == "]" or ch == "_":
            return f"tie {ch!r} on {ck._run or 'a rest'} in {col} without an open tie '['"
        if ch == "[":
            return f"tie start '[' must come before the duration ({tok + ch!r}, {col})"
        if ch == "J":
            return f"beam end 'J' in {col} without an open beam"
        if ch in "\t\n " and "q" not in ck._suf and not ck._nok:
            if ck._committed:
                why = "a grace-note line"
            elif ck.avail <= 0:
                why = f"the bar is already full ({ck.meter_str})"
            else:
                why = f"its duration overflows the bar ({fmt_ticks(ck.avail)} left in {ck.meter_str})"
            return f"{tok!r} in {col} must be a grace note (q) here: {why}"
        if ch in "\t\n" and ck._bend and ck._bd:
            return f"beam still open in {col} at the end of the bar"
        if ch == " " and ck._rest:
            return "rests cannot be part of a chord"
    if ph == _NULLTOK:
        return f"bad token {tok + ch!r} in {col} ('.' must stand alone)"
    return f"bad token {tok + ch!r} in {col}"
