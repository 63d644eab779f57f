"""Clefs that follow the music: how far a note lies off its staff, the share of notes far off
(a score's readability: Mozart's own sonatas keep about 0.2% more than 4 ledger lines away),
and :func:`settle_clefs`, which keeps a sampled clef change only where it brings the notes
nearer the staff (issue #10: a char model flips clefs at random, and 6.3% of its notes ended up
more than 4 ledger lines off).

Pitches are counted in diatonic steps (``c`` = C4 = 28, each letter one step, seven to an
octave); a staff is its bottom and top line. A note ``d`` steps beyond a line needs ``d // 2``
ledger lines.
"""

from __future__ import annotations

from typing import Iterator

from cadenza.music.humdrum.spines import BAR, octave, pitch_run, records, spine_moves

# (bottom line, top line) in diatonic steps
STAFF = {
    "*clefG2": (30, 38),  # E4 .. F5
    "*clefF4": (18, 26),  # G2 .. A3
    "*clefC1": (28, 36),  # C4 .. D5
    "*clefC2": (26, 34),  # A3 .. B4
    "*clefC3": (24, 32),  # F3 .. G4
    "*clefC4": (22, 30),  # D3 .. E4
    "*clefGv2": (23, 31),  # E3 .. F4 (treble 8vb)
    "*clefF3": (20, 28),  # B2 .. C4
}
FAR = 4  # ledger lines: a note beyond this many is "far off its staff"
# the diatonic steps a note may take on each staff and stay within FAR ledger lines
CLEF_RANGE = {clef: (bottom - 2 * FAR - 1, top + 2 * FAR + 1) for clef, (bottom, top) in STAFF.items()}


def step_of(letters: str) -> int:
    """Diatonic step of a kern letter run: ``c`` 28 (C4), ``cc`` 35, ``C`` 21, ``a`` 33."""
    return 7 * octave(letters) + "cdefgab".index(letters[0].lower())


def run_in_range(letter: str, run: int, limits: tuple[int, int] | None) -> bool:
    """Whether a pitch of ``run`` times ``letter`` (``"c", 3``: ``ccc``) lies within ``limits``."""
    if limits is None:
        return True
    step = step_of(letter * run)
    return limits[0] <= step <= limits[1]


def steps_off(step: int, clef: str) -> int:
    """Diatonic steps beyond the staff's outer line (0 on or inside the staff)."""
    bottom, top = STAFF[clef]
    return max(step - top, bottom - step, 0)


def ledger_lines(letters: str, clef: str) -> int:
    """Ledger lines a note needs on a staff with ``clef`` (``"ccc"`` on ``*clefG2``: 3)."""
    return steps_off(step_of(letters), clef) // 2


def _walk(text: str, clefs: list[str | None], dropped: frozenset = frozenset()) -> Iterator[tuple]:
    """Over a kern text (a whole file or cleaned model text with ``clefs`` the columns' opening
    clefs), yields ``("clef", where, before, after)`` for each clef change after the first
    note and ``("note", step, clef, origin)`` for each note of a **kern column with a known
    clef; ``where`` is (line index, column), ``origin`` the ``where`` of the change the clef
    came from (None: the opening). Clef changes in ``dropped`` are read as ``*``."""
    cols: list = [[c, None, True] for c in clefs]  # per column: clef, origin, is **kern
    started = False
    for i, (_, fields) in enumerate(records(text)):
        first = fields[0]
        if first.startswith("**"):
            cols = [[None, None, f == "**kern"] for f in fields]
            continue
        if first.startswith("=") or first == BAR:
            continue
        if len(fields) != len(cols):
            continue
        if first.startswith("*"):
            if any(f in ("*^", "*v", "*x", "*-") for f in fields):
                try:
                    moves = spine_moves(fields, strict=False)
                except ValueError:
                    continue
                cols = [list(cols[m[0]]) for m in moves]
                continue
            for j, f in enumerate(fields):
                if f in STAFF and (i, j) not in dropped:
                    if started:
                        yield ("clef", (i, j), cols[j][0], f)
                        cols[j][:2] = [f, (i, j)]
                    else:
                        cols[j][:2] = [f, None]
            continue
        started = True
        for j, f in enumerate(fields):
            clef, origin, kern = cols[j]
            if not kern or clef is None or f == ".":
                continue
            for sub in f.split(" "):
                if "r" in sub:
                    continue
                letters = pitch_run(sub)
                if letters:
                    yield ("note", step_of(letters), clef, origin)


def far_share(text: str, clefs: list[str | None] | None = None, limit: int = FAR) -> tuple[int, int]:
    """(notes more than ``limit`` ledger lines off their staff, notes with a known clef) of a
    kern file (clefs read from it) or of cleaned model text with its columns' opening ``clefs``."""
    far = total = 0
    for ev in _walk(text, list(clefs or [])):
        if ev[0] == "note":
            total += 1
            far += steps_off(ev[1], ev[2]) // 2 > limit
    return far, total


def settle_clefs(text: str, clefs: list[str | None]) -> tuple[str, int]:
    """Cleaned model text with every clef change dropped (written as ``*``; a line left all
    ``*`` goes) unless the notes it governs (its column and the voices split from it, up to the
    next clef change there) lie nearer the staff under it than under the clef in force.
    Returns the text and how many changes were dropped. Decided in order, so a change back to
    the clef in force after a dropped one is dropped too."""
    dropped: set[tuple[int, int]] = set()
    kept: set[tuple[int, int]] = set()
    while True:
        changes: dict[tuple[int, int], list] = {}
        order: list[tuple[int, int]] = []
        for ev in _walk(text, clefs, frozenset(dropped)):
            if ev[0] == "clef":
                changes[ev[1]] = [ev[2], ev[3], 0, 0]
                order.append(ev[1])
            elif ev[3] in changes:
                c = changes[ev[3]]
                c[2] += steps_off(ev[1], c[1])
                c[3] += steps_off(ev[1], c[0]) if c[0] else 0
        todo = [w for w in order if w not in kept]
        bad = next((w for w in todo if changes[w][0] is not None and not changes[w][2] < changes[w][3]), None)
        kept.update(todo if bad is None else todo[: todo.index(bad)])
        if bad is None:
            break
        dropped.add(bad)
    if not dropped:
        return text, 0
    out = []
    k = -1
    for line in text.split("\n"):
        if line and not line.startswith("!"):
            k += 1
            if line.startswith("*"):
                fields = line.rstrip(" \t").split("\t")
                fields = ["*" if (k, j) in dropped else f for j, f in enumerate(fields)]
                if all(f == "*" for f in fields):
                    continue
                line = "\t".join(fields)
        out.append(line)
    return "\n".join(out), len(dropped)
