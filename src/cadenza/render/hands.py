"""Piano music from a MIDI model as a grand staff: each note given to a hand, then written as a
**kern score by the writer the kern models use (``music/humdrum/writer.py``), so a notewise or
chordwise sample is engraved on two staves as a pianist reads it, not on one staff (music21's
MIDI import) with ledger lines and tuplets of 12 and 48.

A fixed split at middle C puts a left-hand run that climbs to E4 on the treble staff note by
note; here each hand keeps a centre that follows what it plays, and the notes struck together
are divided where they lie nearest the two centres, a hand spanning at most a tenth when it can
(as a pianist's hands do). Onsets are first snapped to the grid the model writes in (its
``step``), so what the model meant as even eighths is engraved as even eighths.
"""

from __future__ import annotations

import re
from dataclasses import replace

from cadenza.music import KEYBOARD_PROGRAMS, Note, Piece, Track

SPAN = 16  # semitones a hand may cover in one chord (a tenth, and a little)
START = (48.0, 72.0)  # each hand's centre before it plays: C3 and C5
FOLLOW = 0.35  # how far a centre moves toward what its hand just played
REACH = ((36.0, 57.0), (62.0, 84.0))  # where each centre may go: a hand plays mostly on its own staff
_BARNUM = re.compile(r"(?m)(?<![^\t\n])=(\d+)")  # a numbered barline token
_LETTERS = re.compile(r"([a-gA-G])\1*")  # a kern pitch's letters (a token may hold a chord's several)


def is_keyboard(piece: Piece) -> bool:
    """Whether ``piece`` is music for one keyboard: one or two pitched tracks, each a keyboard
    program (or the one track of a model that writes no instrument)."""
    tracks = [t for t in piece.tracks if t.notes and not t.is_drum]
    return 0 < len(tracks) <= 2 and (len(tracks) == 1 or all(t.program in KEYBOARD_PROGRAMS for t in tracks))


def snap(piece: Piece, step: float) -> Piece:
    """``piece`` with onsets and ends on a grid of ``step`` quarters (a note keeps at least one
    step); ``step`` <= 0 leaves it as it is."""
    if step <= 0:
        return piece

    def one(n: Note) -> Note:
        start = round(n.start / step) * step
        end = max(start + step, round((n.start + n.duration) / step) * step)
        return replace(n, start=start, duration=end - start)

    return replace(piece, tracks=[replace(t, notes=sorted(one(n) for n in t.notes)) for t in piece.tracks])


def split_hands(piece: Piece) -> Piece:
    """``piece`` as two tracks, left hand then right, every note given to one of them."""
    notes = sorted(n for t in piece.tracks if not t.is_drum for n in t.notes)
    left: list[Note] = []
    right: list[Note] = []
    centre = list(START)
    i = 0
    while i < len(notes):
        j = i
        while j < len(notes) and notes[j].start - notes[i].start < 1e-6:
            j += 1
        chord = sorted(notes[i:j], key=lambda n: n.pitch)
        cut = _best_cut([n.pitch for n in chord], centre)
        for hand, part in ((0, chord[:cut]), (1, chord[cut:])):
            if part:
                (left if hand == 0 else right).extend(part)
                mean = sum(n.pitch for n in part) / len(part)
                centre[hand] += FOLLOW * (mean - centre[hand])
                centre[hand] = min(max(centre[hand], REACH[hand][0]), REACH[hand][1])
        # the hands never cross their centres: the left stays at least a fifth below the right
        if centre[1] - centre[0] < 7:
            mid = (centre[0] + centre[1]) / 2
            centre = [mid - 3.5, mid + 3.5]
        i = j
    return replace(piece, tracks=[Track("left hand", 0, left), Track("right hand", 0, right)])


def _best_cut(pitches: list[int], centre: list[float]) -> int:
    """Where to divide a chord (sorted pitches) between the hands: the notes below the cut go to
    the left. The cost is each note's distance from its hand's centre, and a hand stretched past
    :data:`SPAN` costs more than any distance."""
    best, best_cost = 0, float("inf")
    for cut in range(len(pitches) + 1):
        lo, hi = pitches[:cut], pitches[cut:]
        cost = sum(abs(p - centre[0]) for p in lo) + sum(abs(p - centre[1]) for p in hi)
        cost += 1000 * sum(len(h) > 1 and h[-1] - h[0] > SPAN for h in (lo, hi))
        if cost < best_cost:
            best, best_cost = cut, cost
    return best


def piano_kern(piece: Piece, step: float = 0.0, where: str = "", first_bar: int = 1) -> str:
    """``piece`` (keyboard music) as a two-staff **kern score: onsets snapped to ``step``
    quarters, notes given to the hands (two parts are kept as the staves they are), written by
    the kern writer (the piece's chords as an ``**mxhm`` spine, engraved as chord symbols), then
    clefs and ottavas that follow each staff's register; bars numbered from ``first_bar``."""
    from cadenza.music.humdrum.writer import piece_to_kern

    piece = snap(piece, step)
    two = [t for t in piece.tracks if t.notes and not t.is_drum]
    staves = piece if len(two) == 2 else split_hands(piece)  # two parts (a score's staves, read back): kept as they are
    kern = follow_clefs(piece_to_kern(staves, 2, where=where or piece.name, harmony=True))
    if first_bar != 1:  # an excerpt: its bars numbered as in the whole piece
        kern = _BARNUM.sub(lambda m: f"={int(m.group(1)) + first_bar - 1}", kern)
    return kern


def follow_clefs(kern: str) -> str:
    """Kern as the writer writes it (one column a staff, no split spines, chords in a last
    ``**mxhm`` column left as they are) with a treble or bass
    clef chosen for each staff bar by bar, and an ottava (8va, 15ma above; 8vb below) over a
    bar whose notes lie far beyond both: a staff changes clef where its bar would otherwise need
    notes far off the staff or clearly more ledger lines, as an engraver changes clef for a
    passage in the other hand's register and writes 8va over the top of the keyboard."""
    from cadenza.music.humdrum.clefs import FAR, step_of, steps_off

    lines = kern.split("\n")
    clef_row = next((i for i, ln in enumerate(lines) if ln.startswith("*clef")), None)
    if clef_row is None:
        return kern
    clefs = [t for t in lines[clef_row].split("\t") if t.startswith("*clef")]
    width = len(clefs)
    pad = ["*"] * (len(lines[clef_row].split("\t")) - width)  # the columns after the staves (an **mxhm spine)
    bars = [i for i, ln in enumerate(lines) if ln.startswith("=")]
    before: dict[int, list[str]] = {}  # lines to put before a barline (an ottava ending)
    after: dict[int, list[list[str]]] = {}  # lines to put after it (clef changes, ottavas starting)
    ottava = [0] * width  # diatonic steps the notes are shown shifted by: -7 under 8va, +7 under 8vb

    def cost(notes: list[int], clef: str, shift: int) -> tuple[int, int]:
        off = [steps_off(s + shift, clef) // 2 for s in notes]
        return sum(x > FAR for x in off), sum(off)

    for b, at in enumerate(bars):
        end = bars[b + 1] if b + 1 < len(bars) else len(lines)
        steps: list[list[int]] = [[] for _ in clefs]
        for ln in lines[at + 1 : end]:
            if ln and ln[0] not in "*!=":
                for col, tok in enumerate(ln.split("\t")[:width]):
                    steps[col] += [step_of(m.group()) for m in _LETTERS.finditer(tok)]
        change, stop, start = ["*"] * width, ["*"] * width, ["*"] * width
        for col, notes in enumerate(steps):
            if not notes:  # an empty bar (or the end): any ottava stops
                shift = 0
            else:
                now, other = clefs[col], ("*clefF4" if clefs[col] == "*clefG2" else "*clefG2")
                (far_now, led_now), (far_other, led_other) = cost(notes, now, 0), cost(notes, other, 0)
                if far_other < far_now or (far_other == far_now and led_other + 2 * len(notes) ** 0.5 < led_now):
                    clefs[col] = change[col] = other
                shift = min(_OTTAVAS[clefs[col]], key=lambda k: (cost(notes, clefs[col], k), abs(k)))
                if cost(notes, clefs[col], shift)[0] == cost(notes, clefs[col], 0)[0]:
                    shift = 0  # an ottava only where it brings far notes nearer
            if shift != ottava[col]:
                if ottava[col]:
                    stop[col] = "*X" + _ANY[ottava[col]]
                if shift:
                    start[col] = "*" + _OTTAVAS[clefs[col]][shift]
                ottava[col] = shift
        if any(c != "*" for c in stop):
            before[at] = stop
        after[at + 1] = [row for row in (change, start) if any(c != "*" for c in row)]
    out = []
    for i, ln in enumerate(lines):
        if i in before:
            out.append("\t".join(before[i] + pad))
        out.extend("\t".join(row + pad) for row in after.get(i, []))
        out.append(ln)
    return "\n".join(out)


_OTTAVAS = {"*clefG2": {0: "", -7: "8va", -14: "15ma"}, "*clefF4": {0: "", 7: "8ba"}}
_ANY = {-7: "8va", -14: "15ma", 7: "8ba"}


def far_notes(kern: str, limit: int | None = None) -> tuple[int, int]:
    """(notes more than ``limit`` ledger lines off their staff, notes) of kern written by
    :func:`piano_kern`: :func:`cadenza.music.humdrum.clefs.far_share` for one column a staff,
    counting a note under an ottava where it is shown."""
    from cadenza.music.humdrum.clefs import FAR, step_of, steps_off

    limit = FAR if limit is None else limit
    clefs: list[str] = []
    shift: list[int] = []
    far = total = 0
    for ln in kern.split("\n"):
        toks = ln.split("\t")
        if ln.startswith("*clef") and not clefs:
            clefs = [t for t in toks if t.startswith("*clef")]  # the staves (not an **mxhm column)
            shift = [0] * len(clefs)
        elif ln.startswith("*") and clefs:
            for col, tok in enumerate(toks[: len(clefs)]):
                if tok.startswith("*clef"):
                    clefs[col] = tok
                elif tok.startswith("*X") and tok[2:] in _ANY.values():
                    shift[col] = 0
                elif tok[1:] in _ANY.values():
                    shift[col] = next(k for k, v in _ANY.items() if v == tok[1:])
        elif clefs and ln and ln[0] not in "*!=":
            for col, tok in enumerate(toks[: len(clefs)]):
                for m in _LETTERS.finditer(tok):
                    total += 1
                    far += steps_off(step_of(m.group()) + shift[col], clefs[col]) // 2 > limit
    return far, total
