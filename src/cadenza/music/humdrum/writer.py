"""A :class:`~cadenza.music.Piece` -> a **kern score, so a kern model can continue a MIDI or
MusicXML file (issue #10): the score is what the model reads, and what the user gets back.

The score is written as simply as stays valid: notes on a grid of sixteenths, or of triplet
eighths in a beat whose onsets fit those better (sextuplets or 32nds where a beat's onsets sit
on them exactly); each staff one column of chords, a note that
sounds on past the next onset in its staff, or past a barline, tied on (``[``, ``_``, ``]``), so
onsets, pitches and durations on the grid survive and every bar fills its metre exactly. Staves
are ordered low to high, as Humdrum writes them; accidentals are sharps in sharp keys and flats
in flat keys.
"""

from __future__ import annotations

from bisect import bisect_right
from math import gcd

from cadenza import CadenzaError
from cadenza.music.chord_names import Chord, parse_chord
from cadenza.music.humdrum.interpretations import keysig_token
from cadenza.music.humdrum.mxhm import add_harmony_spine
from cadenza.music.humdrum.spines import NATURAL
from cadenza.music.piece import Note, Piece

TICKS = 48  # per quarter: sixteenths (12), triplet eighths (16) and metres down to x/64 (3)
_SIXTEENTH, _TRIPLET = 12, 16
_GRIDS = (_SIXTEENTH, _TRIPLET, 8, 6)  # steps in ticks, coarsest first: 16ths, triplet 8ths, sextuplets, 32nds
# Durations in ticks -> kern reciprocals (plain, dotted and triplet values)
_RECIP = {768: "00", 576: "0.", 384: "0", 288: "1.", 192: "1", 144: "2.", 96: "2", 72: "4.", 64: "3", 48: "4", 36: "8.", 32: "6",
          24: "8", 18: "16.", 16: "12", 12: "16", 9: "32.", 8: "24", 6: "32", 4: "48", 3: "64", 2: "96", 1: "192"}
_LONGEST_FIRST = sorted(_RECIP, reverse=True)
_MAJOR = "C- G- D- A- E- B- F C G D A E B F# C#".split()  # by fifths, -7 .. 7
_MINOR = "a- e- b- f c g d a e b f# c# g# d# a#".split()


def piece_to_kern(piece: Piece, staves: int = 2, where: str = "", harmony: bool = False) -> str:
    """``piece`` as a **kern score of ``staves`` staves: one staff takes every note; two split a
    piano at middle C (or take two parts one each); more need as many parts. Raises a one-line
    :class:`CadenzaError` naming ``where`` when the parts cannot fill the staves. ``harmony``:
    the piece's chords (MIDI markers, one a bar) as an ``**mxhm`` spine, for an engraved score
    (a score a kern model reads keeps to its **kern spines)."""
    where = where or piece.name or "the piece"
    parts = _assign(piece, staves, where)
    raw_end = max(n.start + n.duration for part in parts for n in part) * TICKS
    bars = _bars(piece.time_signatures, raw_end + 2 * TICKS)
    cells = _cells(bars, [n.start * TICKS for part in parts for n in part])
    staff_notes = [_quantise(part, cells) for part in parts]
    end = max((e for notes in staff_notes for _, e, _ in notes), default=1)
    bars = [b for b in bars if b[0] < end]
    keys = [_in_force(piece.key_signatures, b[0], (0, 0), lambda k: (_fold(k[1]), k[2])) for b in bars]
    columns = [_column(notes, bars, cells, keys) for notes in staff_notes]
    at: dict[int, int] = {}
    lines = _lines(piece, bars, keys, columns, [_clef(p, staves, i) for i, p in enumerate(parts)], at)
    if harmony and piece.chords:
        lines = add_harmony_spine(lines, _chords_at(piece.chords, at, bars))
    return "\n".join(lines) + "\n"


def _chords_at(chords: list[tuple[float, str]], at: dict[int, int], bars) -> dict[int, Chord]:
    """Each chord on the first data line at or after its time in its bar (``at``: data line ->
    tick); a chord whose bar has no data line from there is left out."""
    out = {}
    for q, name in chords:
        t = round(q * TICKS)
        bar = next((b for b in bars if b[0] <= t < b[0] + b[1]), None)
        lines = [i for i, tick in at.items() if bar is not None and t <= tick < bar[0] + bar[1]]
        if lines:
            out[min(lines, key=at.__getitem__)] = parse_chord(name)
    return out


def _assign(piece: Piece, staves: int, where: str) -> list[list[Note]]:
    """The notes of each staff, lowest staff first."""
    tracks = [t for t in piece.tracks if t.notes and not t.is_drum]
    if not tracks:
        raise CadenzaError(f"{where}: no notes to write as kern")
    if staves == 1:
        return [sorted(n for t in tracks for n in t.notes)]
    if len(tracks) == staves:
        return sorted((sorted(t.notes) for t in tracks), key=_mean_pitch)
    if staves == 2:
        notes = sorted(n for t in tracks for n in t.notes)
        return [[n for n in notes if n.pitch < 60], [n for n in notes if n.pitch >= 60]]
    raise CadenzaError(f"{where}: {len(tracks)} part(s), but the model writes {staves} staves (it continues files with {staves} parts)")


def _mean_pitch(notes: list[Note]) -> float:
    return sum(n.pitch for n in notes) / len(notes) if notes else 60.0


def _clef(notes: list[Note], staves: int, index: int) -> str:
    if staves == 2 and not notes:
        return "*clefF4" if index == 0 else "*clefG2"
    return "*clefF4" if _mean_pitch(notes) < 60 else "*clefG2"


def _bars(signatures: list[tuple[float, int, int]], end: float) -> list[tuple[int, int, int, int]]:
    """(start tick, length, numerator, denominator) of each bar up to ``end``. A metre change
    that falls inside a bar ends that bar early, written as a short bar in a metre of its own
    (as a pickup is), so every bar fills its metre."""
    sigs = sorted({round(q * TICKS / 3) * 3: (n, d) for q, n, d in signatures if n > 0 and d in (1, 2, 4, 8, 16, 32, 64)}.items())
    if not sigs or sigs[0][0] > 0:
        sigs.insert(0, (0, (4, 4)))
    out: list[tuple[int, int, int, int]] = []
    pos = 0
    while pos < end:
        i = bisect_right([s[0] for s in sigs], pos) - 1
        num, den = sigs[i][1]
        length = num * 4 * TICKS // den
        nxt = sigs[i + 1][0] if i + 1 < len(sigs) else None
        if nxt is not None and nxt < pos + length:
            length = nxt - pos
            den = max(den, next(d for d in (1, 2, 4, 8, 16, 32, 64) if length * d % (4 * TICKS) == 0))
            num = length * den // (4 * TICKS)
        out.append((pos, length, num, den))
        pos += length
    return out


def _cells(bars: list[tuple[int, int, int, int]], onsets: list[float]) -> list[tuple[int, int, int]]:
    """(start, length, grid step) of each beat (a quarter from its bar's start; the last of a bar
    may be shorter): the first of sixteenths, triplet eighths, sextuplets or 32nds that holds the
    beat's onsets exactly (a score's MIDI), else whichever of the first two fits them better (a
    performance's, whose timing a finer grid would only copy)."""
    cells = [(b + k, min(TICKS, length - k)) for b, length, _, _ in bars for k in range(0, length, TICKS)]
    starts = [c[0] for c in cells]
    offsets: dict[int, list[float]] = {}
    for x in onsets:
        i = max(0, bisect_right(starts, x) - 1)
        offsets.setdefault(i, []).append(x - cells[i][0])
    out = []
    for i, (s, length) in enumerate(cells):
        step = gcd(length, _SIXTEENTH)
        if length == TICKS and i in offsets:
            err = {g: [min(x % g, g - x % g) for x in offsets[i]] for g in _GRIDS}
            exact = [g for g in _GRIDS if max(err[g]) <= 1]
            step = exact[0] if exact else min(_GRIDS[:2], key=lambda g: sum(err[g]) + (g == _TRIPLET) * 1e-6)
        out.append((s, length, step))
    return out


def _snap(x: float, cells: list[tuple[int, int, int]], starts: list[int]) -> int:
    i = min(max(0, bisect_right(starts, x) - 1), len(cells) - 1)
    s, length, step = cells[i]
    return s + min(length, max(0, round((x - s) / step)) * step)


def _quantise(notes: list[Note], cells: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    """(start, end, pitch) on the grid; a note at least one step long; a note sounding again
    before its last sounding ends is cut there (one column cannot hold both)."""
    starts = [c[0] for c in cells]
    got: dict[tuple[int, int], int] = {}
    for n in notes:
        a = _snap(n.start * TICKS, cells, starts)
        b = _snap((n.start + n.duration) * TICKS, cells, starts)
        if b <= a:
            b = a + cells[bisect_right(starts, a) - 1][2]
        got[(a, n.pitch)] = max(b, got.get((a, n.pitch), 0))
    out = []
    last: dict[int, int] = {}  # pitch -> index in out
    for (a, p), b in sorted(got.items()):
        j = last.get(p)
        if j is not None and out[j][1] > a:
            out[j] = (out[j][0], a, p)
        last[p] = len(out)
        out.append((a, b, p))
    return out


def _column(notes: list[tuple[int, int, int]], bars, cells, keys: list[tuple[int, int]]) -> dict[int, str]:
    """tick -> token of one staff: chords and rests that tile every bar, cut at each onset and
    end in the staff, at barlines and around beats off the sixteenth grid, tied where a note goes on."""
    cuts = {a for a, _, _ in notes} | {b for _, b, _ in notes} | {b[0] for b in bars} | {bars[-1][0] + bars[-1][1]}
    cuts |= {x for s, length, step in cells if step != _SIXTEENTH for x in (s, s + length)}
    cuts = sorted(c for c in cuts if c <= bars[-1][0] + bars[-1][1])
    bar_starts = [b[0] for b in bars]
    cell_starts = [c[0] for c in cells]
    out: dict[int, str] = {}
    active: list[tuple[int, int, int]] = []
    k = 0
    for a, b in zip(cuts, cuts[1:]):
        while k < len(notes) and notes[k][0] <= a:
            active.append(notes[k])
            k += 1
        active = [n for n in active if n[1] > a]
        key = keys[bisect_right(bar_starts, a) - 1]
        for x, y in _pieces(a, b, cells[bisect_right(cell_starts, a) - 1][2]):
            if not active:
                out[x] = _RECIP[y - x] + "r"
                continue
            toks = []
            for s, e, p in sorted(active, key=lambda n: n[2]):
                tok = _RECIP[y - x] + _spell(p, *key)
                toks.append(tok if s == x and e == y else "[" + tok if s == x else tok + "]" if e == y else tok + "_")
            out[x] = " ".join(toks)
    return out


def _pieces(a: int, b: int, step: int) -> list[tuple[int, int]]:
    """[a, b) as spans each one kern duration long, longest first, whole steps of the grid
    where they can be (a sextuplet eighth and a sextuplet, not a dotted eighth and a 48th)."""
    out = []
    while a < b:
        d = next((t for t in _LONGEST_FIRST if t <= b - a and t % step == 0), None) or next(t for t in _LONGEST_FIRST if t <= b - a)
        out.append((a, a + d))
        a += d
    return out


def _spell(midi: int, fifths: int, minor: int = 0) -> str:
    """A kern pitch: the pitch class's name among twelve neighbours on the line of fifths
    chosen by the key (sharps for sharp keys, flats for flat keys, C#/Eb/F#/Ab/Bb for C; a
    minor key's raised seventh as such: G# in A minor, E# in F# minor)."""
    lo = -4 if fifths == 0 else max(-1, fifths - 6) if fifths > 0 else min(-6, fifths - 1)
    if minor:
        lo = max(lo, fifths - 3)
    p = next(q for q in range(lo, lo + 12) if (7 * q) % 12 == midi % 12)
    letter, alter = "fcgdaeb"[(p + 1) % 7], (p + 1) // 7
    octave = (midi - NATURAL[letter] - alter) // 12 - 1
    name = letter * (octave - 3) if octave >= 4 else letter.upper() * (4 - octave)
    return name + ("#" * alter if alter > 0 else "-" * -alter)


def _fold(fifths: int) -> int:
    return fifths - 12 if fifths > 7 else fifths + 12 if fifths < -7 else fifths


def _in_force(events: list, tick: int, default, value):
    """``value`` of the last event (quarter, ...) at or before ``tick``, else ``default``."""
    got = [e for e in sorted(events) if round(e[0] * TICKS) <= tick]
    return value(got[-1]) if got else default


def _lines(piece: Piece, bars, keys: list[tuple[int, int]], columns: list[dict[int, str]], clefs: list[str], at: dict[int, int]) -> list[str]:
    """The score's lines; ``at`` gets each data line's index and tick."""
    n = len(columns)

    def row(tok: str) -> str:
        return "\t".join([tok] * n)

    out = [f"!!!OTL: {' '.join(piece.name.split())}"] if piece.name.strip() else []
    out += [row("**kern"), "\t".join(f"*staff{n - i}" for i in range(n)), "\t".join(clefs)]
    keyed = bool(piece.key_signatures)
    metre = tempo = key = None
    ticks = sorted({t for c in columns for t in c})
    j = 0
    for number, ((start, length, num, den), (k, minor)) in enumerate(zip(bars, keys), 1):
        bar_lines = []
        if (k, minor) != key:
            bar_lines.append(row(keysig_token(k)))
            if keyed:
                bar_lines.append(row(f"*{(_MINOR if minor else _MAJOR)[k + 7]}:"))
        if (num, den) != metre:
            bar_lines.append(row(f"*M{num}/{den}"))
        qpm = round(_in_force(piece.tempos, start, 0.0, lambda e: e[1]))
        if qpm > 0 and qpm != tempo:
            bar_lines.append(row(f"*MM{qpm}"))
        key, metre, tempo = (k, minor), (num, den), qpm if qpm > 0 else tempo
        out += (bar_lines + [row("=1-")]) if number == 1 else [row(f"={number}")] + bar_lines
        while j < len(ticks) and ticks[j] < start + length:
            at[len(out)] = ticks[j]
            out.append("\t".join(c.get(ticks[j], ".") for c in columns))
            j += 1
    return out + [row("=="), row("*-")]
