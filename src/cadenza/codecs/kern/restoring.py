"""Model text -> a kern file music21 and verovio read: a preamble (spines, clefs, key, metre,
tempo), measure numbers, repaired or dropped broken lines, clef changes that do not bring the
notes nearer the staff dropped (:func:`~cadenza.music.humdrum.clefs.settle_clefs`), spines closed
with ``==`` and ``*-``; chord lines (:mod:`.harm`) become an ``**mxhm`` spine."""

from __future__ import annotations

import re
from collections import Counter

from cadenza.codecs.kern.cleaning import KEPT_MANIPS
from cadenza.music.humdrum.clefs import settle_clefs
from cadenza.codecs.kern.harm import add_harmony_spine, is_chord_line, line_chord
from cadenza.codecs.kern.header import KEEP_INTERP, Header
from cadenza.music.humdrum.interpretations import kind_of
from cadenza.music.humdrum.spines import BAR, NULL, RECIP, spine_moves
from cadenza.music.harmony import Chord

# A kern data sub-token music21 reads. Real files order signifiers freely (``gq8``, ``8.cc#L``,
# ``&(8E/J&)``, rests with a display position ``4rGG``), so the check is on content: only kern
# characters, one pitch (a run of one letter) or a rest, at most one duration with dots right
# after it.
_KERN_CHARS = set("0123456789.%abcdefgABCDEFGr#-nij&()[]{}<>_;:'\"`~^vVuUTtMmWwSsOoRXxyYQqPpLJKkNZz/\\|,!+*$")
_PITCH_RUNS = re.compile(r"[a-gA-G]+")
_STRAY_DOT = re.compile(r"(?<![\d.])\.")


def _valid_subtoken(s: str, has_mate: bool) -> bool:
    if not s or not set(s) <= _KERN_CHARS or _STRAY_DOT.search(s):
        return False
    runs = _PITCH_RUNS.findall(s)
    rest = "r" in s
    if len(runs) > 1 or (not runs and not rest) or any(len(set(r)) > 1 for r in runs):
        return False
    durs = RECIP.findall(s)
    if len(durs) > 1:
        return False
    if durs:
        digits = durs[0][0]
        num = int(digits)
        return num <= 256 and (num > 0 or "q" in s.lower() or digits.startswith("0"))
    return "q" in s or "Q" in s or has_mate  # grace note, or a chord member sharing the duration


def _fix_token(tok: str) -> str | None:
    """A repaired data token, or None if nothing musical is left. Chords keep valid notes only."""
    if tok == NULL:
        return tok
    good: list[str] = []
    for s in tok.split(" "):
        if _valid_subtoken(s, bool(good)):
            good.append(s)
    return " ".join(good) if good else None


def _spines_after(fields: list[str]) -> int | None:
    """Spine count after a manipulation line, or None if the line is not a valid manipulation.
    Spines may split and merge but not end mid-piece (that would orphan the spines after it),
    and a merge joins at least two."""
    if "*-" in fields or "*+" in fields:
        return None
    try:
        moves = spine_moves(fields)
    except ValueError:
        return None
    if any(len(m) == 1 and fields[m[0]] == "*v" for m in moves):
        return None
    return len(moves)


def opening_kinds(text: str) -> frozenset[str]:
    """The header kinds (``clef``, ``keysig``, ``key``, ``meter``) a model text declares in the
    interpretation lines it opens with (a text cleaned with headers, or a prime that has them)."""
    kinds = set()
    for line in text.split("\n"):
        if not line.startswith("*"):
            break
        kinds.update(k for k in map(kind_of, line.split("\t")) if k)
    return frozenset(kinds)


def restore(text: str, header: Header) -> tuple[str, dict[str, int]]:
    """Model text -> a kern file that parses: preamble, numbered bars, repaired lines, closed spines.

    Returns the file text and counts of what was repaired, so the summary can say how much the
    model got wrong.
    """
    n = header.spines
    out = header.lines(opening_kinds(text))
    stats = Counter()
    # a sampled clef change stays only where it brings the notes nearer the staff
    text, stats["clefs_dropped"] = settle_clefs(text, list(header.clefs))
    bar = 0
    data_in_bar = 0
    pending: Chord | None = None
    chords_at: dict[int, Chord] = {}
    for raw in text.split("\n"):
        line = raw.rstrip("\r")
        if not line.strip():
            continue
        if line.startswith(BAR) or line.startswith("="):
            if line.strip() not in (BAR,):
                stats["lines_repaired"] += 1
            if bar > 0 and data_in_bar == 0:
                continue  # an empty bar: skip the duplicate barline
            bar += 1
            label = f"={bar}" if not (bar == 1 and data_in_bar == 0) else "=1-"
            if bar == 1 and data_in_bar > 0:
                label = "=2"  # a pickup preceded the first barline
                bar = 2
            out.append("\t".join([label] * n))
            data_in_bar = 0
            continue
        if line.startswith("!"):
            if is_chord_line(line) and line_chord(line) is not None:
                pending = line_chord(line)  # on the bar's first data line, in the **mxhm spine
            else:
                stats["lines_dropped"] += 1
            continue
        fields = line.split("\t")
        if line.startswith("*"):
            if len(fields) != n or any(not f.startswith("*") for f in fields):
                stats["lines_dropped"] += 1
                continue
            new_n = _spines_after(fields)
            if new_n is None:
                stats["lines_dropped"] += 1
                continue
            fixed = [f if (f in KEPT_MANIPS or KEEP_INTERP.match(f)) else "*" for f in fields]
            if fixed != fields:
                stats["lines_repaired"] += 1
            if all(f == "*" for f in fixed):
                continue
            out.append("\t".join(fixed))
            n = new_n
            continue
        if len(fields) != n:
            stats["lines_repaired"] += 1
            fields = (fields + [NULL] * n)[:n]
        fixed = [_fix_token(f) for f in fields]
        if any(f is None for f in fixed):
            stats["lines_repaired"] += 1
        fixed2 = [f if f is not None else NULL for f in fixed]
        if all(f == NULL for f in fixed2):
            stats["lines_dropped"] += 1
            continue
        if pending is not None:
            chords_at[len(out)], pending = pending, None
        out.append("\t".join(fixed2))
        data_in_bar += 1
    if out[-1].startswith("="):
        out[-1] = "\t".join(["=="] * n)
    else:
        out.append("\t".join(["=="] * n))
    out.append("\t".join(["*-"] * n))
    if chords_at:
        out = add_harmony_spine(out, chords_at)
        stats["chords"] = len(chords_at)
    stats["bars"] = max(bar, 1)
    return "\n".join(out) + "\n", dict(stats)
