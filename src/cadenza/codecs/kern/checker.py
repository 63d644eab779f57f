"""Incremental validity checker for cleaned **kern text (see :mod:`cadenza.codecs.kern`).

A :class:`KernChecker` runs beside a character-level sampler: :meth:`KernChecker.allowed` gives
the characters that keep the text a valid *prefix* (one that can still be completed into valid
bars), :meth:`KernChecker.push` advances by one character. Every state reachable through allowed
characters has at least one allowed character, so masked sampling never gets stuck.
:func:`check_text` / :func:`check_report` check whole texts bar by bar with the same machine.

What "valid" means (kern rhythm semantics)
------------------------------------------
* Lines are ``@`` (barline), interpretation lines (``*...`` in every column) or data lines with
  exactly one token per active column, tab separated. Lines of nulls only are not written
  (cleaning drops them).
* Each column keeps the time until its current event ends. A data line advances time by the
  smallest remaining time; a column must get a note/rest/chord exactly when its previous event
  has ended, and ``.`` (null) while it still sounds.
* Grace notes (``q``) take no time. A *grace line* holds grace notes in columns whose previous
  event has ended and ``.`` elsewhere; grace and timed notes never share a line.
* A column's events must end exactly at the bar length given by the metre (``*M3/4`` lines change
  it, only at the start of a bar); ``@`` is allowed only when every column has filled the bar.
  The first bar (pickup) may be shorter, but its columns must still end together. Durations are
  only offered if the rest of the bar can still be filled (a bar is never left with, say, 1/48
  of a quarter that no duration can fill). Option ``split_bars`` (off by default; on to check
  real files) also accepts a short bar (a bar cut by a mid-bar repeat sign, or a
  section's pickup) when the next bar completes it or is full.
* Ties: ``[`` opens a tie on a pitch, ``_``/``]`` continue/close it and need an open tie on the
  same pitch (letters and octave; accidentals ignored) in the same staff (the original spine:
  voices of a split staff may hand a tie on). Ties may cross barlines; no rests are tied.
* Beams: ``L`` opens, ``J`` closes (needs an open beam in that column); every beam must be closed
  by the last note of the bar (beams do not cross barlines). Slurs are not paired (real files
  hand them between voices), only spelled.
* Spine manipulators: ``*^`` splits a column (at most ``max_spines`` columns), ``*v *v`` merges
  two adjacent columns of the same staff whose current events end together, so every staff
  keeps at least one column and the layout's order. ``*x`` exchanges are never offered (no
  corpus uses them and music21 misreads them). Manipulators and other interpretations do not
  share a line; a metre or ``*met`` is in column 1 and then repeated in every column.
* ``music21_safe`` (default on): music21's humdrum reader mis-times voices beyond simple cases,
  so the checker also keeps at most two columns per staff, merges exactly two columns, never
  merges before a bar's first event, and never splits once the bar is full or after a merge in
  the same bar. With it, every bar of a restored sample reads in music21 with the metre's
  length. Off, runs of ``*v`` and more voices are accepted (as real files have them).

Generated token grammar (the subset the checker allows)
-------------------------------------------------------
data token   ``.`` | a note or rest | a chord of up to 6 notes separated by single spaces
note         ``PREFIX* DUR? GRACE* PITCH ACC? SUFFIX*``
PREFIX       ``(`` (at most 2), ``&(`` (elided slur, once), ``()`` (slur end + start, first),
             ``[`` (tie start, once; not on rests or grace notes), ``{`` (phrase), ``<``/``>``
             (at most 2), one stem mark ``/`` or ``\\``
DUR          a reciprocal 0 (breve), 1, 2, 4, 8, 16, 32, 64, 128, triplet 3, 6, 12, 24, 48, 96,
             quintuplet 5, 10, 20, 40, 80 or septuplet 7, 14, 28, 56, 112, then up to two dots
             (:data:`RECIPS`). Chord notes after the first repeat its DUR or leave it out; only
             grace notes (``ccq``) may have no DUR at all.
GRACE        ``q``/``qq``/``P`` written before the pitch (``16qa``, ``32Pqqbb``), as in real files
PITCH        a run of one letter: a-g up to 4 times (``cccc``), A-G up to 3 times (``AAA``), or
             ``r`` (rest; may carry a display position run ``4rGG``; rests are never in chords)
ACC          ``#`` ``##`` ``-`` ``--`` ``n`` (not on rests)
SUFFIX       signifiers in any order, each at most as often as in :data:`SUFFIX_CAPS`:
             beams ``L J K k``, slur end ``)``, ties ``] _``, articulations ``' ` ; ~ ^ z``,
             ornaments ``T t S s M m W w O``, grace ``q``/``qq``, ``P p`` (appoggiatura), ``y``
             (hidden), ``X x`` (editorial), ``:`` (arpeggio), stems ``/ \\``, placement
             ``< >``, elision ``&``, phrase end ``}``. ``L`` and ``J`` never share a note.
interpretation tokens
             ``*`` ``*^`` ``*v``, clefs (:data:`CLEFS`), key signatures ``*k[...]`` (0-7
             sharps or flats in standard order), keys ``*C:`` ... ``*a-:``, metres (:data:`METERS`,
             only at the start of a bar), ``*met(c)`` (only in 4/4) / ``*met(c|)`` (only in
             2/2), tempi ``*MM20`` ... ``*MM320``. An interpretation line is never all ``*``.
Characters missing from the vocabulary shrink the grammar (durations, pitches, interpretations
that cannot be spelled are never offered); ``\\n \\t @ .`` are required.

Not accepted (real-world irregularities, counted in ``tests/test_kern_checker.py``): chords
whose notes have different durations, user signifiers (``N``, ``i``, non-ASCII), signifiers
between pitch and duration or a pitch before the duration (``4>cc``, ``dd8``), odd tuplets
(``23``, ``22``, ``88``), tied rests, ties closed without an opening, merges across staves, and
bars whose rhythm does not add up (overfull bars, misaligned voices).

Timings: durations are integer ticks (:data:`TPQ` per quarter note; every allowed duration is a
whole number of ticks, checked with :class:`fractions.Fraction` when the tables are built).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Iterable

import numpy as np

BAR = "@"
RECIPS = (
    "0", "1", "2", "4", "8", "16", "32", "64", "128",  # breve .. 128th
    "3", "6", "12", "24", "48", "96",  # triplets
    "5", "10", "20", "40", "80",  # quintuplets
    "7", "14", "28", "56", "112",  # septuplets
)
MAX_DOTS = 2


def _lcm_ticks() -> int:
    from math import lcm

    t = 1
    for r in RECIPS:
        n = int(r)
        for dots in range(MAX_DOTS + 1):
            q = (Fraction(8) if n == 0 else Fraction(4, n)) * (2 - Fraction(1, 2**dots))
            t = lcm(t, q.denominator)
    return t


TPQ = _lcm_ticks()  # ticks per quarter note: every allowed duration is a whole number of ticks
MAX_CHORD = 6
MAX_BEAM = 6
_RUN_CAP = {**{c: 4 for c in "abcdefg"}, **{c: 3 for c in "ABCDEFG"}}
SUFFIX_CAPS = {
    "L": 6, "J": 6, "K": 2, "k": 2, ")": 2, "]": 1, "_": 1, "'": 2, "`": 1, ";": 1, "~": 2,
    "^": 2, "z": 1, "T": 3, "t": 2, "S": 3, "s": 2, "M": 1, "m": 1, "W": 1, "w": 1, "O": 1,
    "q": 2, "P": 1, "p": 1, "y": 3, "X": 1, "x": 2, ":": 1, "/": 1, "\\": 1, "<": 2, ">": 2,
    "&": 1, "}": 1,
}
CLEFS = ("*clefG2", "*clefF4", "*clefC1", "*clefC2", "*clefC3", "*clefC4", "*clefGv2", "*clefF3")
METERS = tuple(
    [(n, 1) for n in (1, 2, 3, 4)] + [(n, 2) for n in range(1, 9)] + [(n, 4) for n in range(1, 13)]
    + [(n, 8) for n in range(1, 19)] + [(n, 16) for n in range(1, 25)]
)
_SHARPS = "fcgdaeb"
_FLATS = "beadgcf"
KEYSIGS = tuple(
    ["*k[]"]
    + ["*k[" + "".join(c + "#" for c in _SHARPS[:i]) + "]" for i in range(1, 8)]
    + ["*k[" + "".join(c + "-" for c in _FLATS[:i]) + "]" for i in range(1, 8)]
)
KEYS = tuple(
    "*" + k + ":"
    for k in (
        "C G D A E B F# C# F B- E- A- D- G- C-".split()
        + "a e b f# c# g# d# a# d g c f b- e- a-".split()
    )
)
MET = {"*met(c)": (4, 4), "*met(c|)": (2, 2)}
TEMPI = tuple(f"*MM{v}" for v in range(20, 321))
UNMETRED_CAP = 16 * TPQ  # bar length cap when no metre is enforced (4 whole notes)

_LETTERS = "abcdefgABCDEFG"
_DIGITS = "0123456789"
_MANIPS = ("*^", "*v")  # no *x: no corpus uses it and music21 misreads it
_NULL, _NORMAL, _GRACE = 0, 1, 2
# phases
_LS, _BARNL, _INTERP, _TSTART, _NULLTOK, _PRE, _DUR, _POST, _MID = range(9)
_FALLBACK_ORDER = "\n\t@r4821630.Jq]" + "cdefgabCDEFGAB"


def dur_ticks(s: str) -> int:
    """Ticks of a kern duration string (``"8."``, ``"0"`` = breve). Exact (Fraction based)."""
    digits = s.rstrip(".")
    dots = len(s) - len(digits)
    n = int(digits)
    base = Fraction(8) if n == 0 else Fraction(4, n)
    q = base * (2 - Fraction(1, 2**dots)) * TPQ
    if q.denominator != 1:
        raise ValueError(f"duration {s!r} is not a whole number of ticks")
    return int(q)


def meter_ticks(num: int, den: int) -> int:
    q = Fraction(4 * num, den) * TPQ
    if q.denominator != 1:
        raise ValueError(f"metre {num}/{den} is not a whole number of ticks")
    return int(q)


def _fmt_ticks(t: int) -> str:
    q = Fraction(t, TPQ)
    return f"{q} quarter" + ("" if q == 1 else "s")


class _Grammar:
    """Tables that depend only on the vocabulary, shared by all checkers (and their caches)."""

    def __init__(self, vocab: tuple[str, ...]):
        self.vocab = vocab
        self.V = frozenset(vocab)
        self.index: dict[str, list[int]] = {}
        for i, c in enumerate(vocab):
            self.index.setdefault(c, []).append(i)
        V = self.V
        self.ticks: dict[str, int] = {}
        for r in RECIPS:
            for dots in range(MAX_DOTS + 1):
                s = r + "." * dots
                if set(s) <= V:
                    self.ticks[s] = dur_ticks(s)
        self.all_durs = frozenset(self.ticks)
        self.max_ticks = max(UNMETRED_CAP, max(meter_ticks(*m) for m in METERS))
        # fillable: bit t set <=> t ticks can be written as a sum of allowed durations
        fill = 1
        limit_mask = (1 << (self.max_ticks + 1)) - 1
        for d in sorted(set(self.ticks.values())):
            step = d
            while step <= self.max_ticks:
                fill |= (fill << step) & limit_mask
                step *= 2
        self.fill = fill
        self.letters = frozenset(c for c in _LETTERS if c in V)
        self.has_q = "q" in V
        self.has_rest = "r" in V
        self.suffix = tuple((c, cap) for c, cap in SUFFIX_CAPS.items() if c in V)
        self.acc_chars = frozenset(c for c in "#-n" if c in V)

        def ok(tok: str) -> bool:
            return set(tok) <= V

        self.meters: dict[str, int] = {}
        for num, den in METERS:
            tok = f"*M{num}/{den}"
            t = meter_ticks(num, den)
            if ok(tok) and self.fillable(t):
                self.meters[tok] = t
        self.met = {tok: f"*M{m[0]}/{m[1]}" for tok, m in MET.items() if ok(tok)}
        self.others = frozenset(t for t in CLEFS + KEYSIGS + KEYS + TEMPI if ok(t))
        self.manips = frozenset(t for t in _MANIPS if ok(t))
        self.null_interp = "*"
        self.cache: dict[tuple, list] = {}  # state key -> [allowed chars, mask or None]
        self._fits: dict[int, frozenset[str]] = {}
        self._interp_opts: dict[tuple, frozenset[str]] = {}
        self.suffix_parts: dict[tuple, frozenset[str]] = {}

    def fillable(self, t: int) -> bool:
        return t >= 0 and (self.fill >> t) & 1 == 1

    def fits(self, avail: int) -> frozenset[str]:
        """Durations a new event may take when ``avail`` ticks are left in the bar."""
        got = self._fits.get(avail)
        if got is None:
            got = frozenset(s for s, t in self.ticks.items() if t > 0 and t <= avail and self.fillable(avail - t))
            self._fits[avail] = got
        return got

    def mask(self, chars: Iterable[str]) -> np.ndarray:
        m = np.zeros(len(self.vocab), dtype=bool)
        idx = [i for c in chars for i in self.index.get(c, ())]
        if idx:
            m[idx] = True
        m.flags.writeable = False
        return m


_GRAMMARS: dict[tuple[str, ...], _Grammar] = {}


def _grammar(vocab: tuple[str, ...]) -> _Grammar:
    g = _GRAMMARS.get(vocab)
    if g is None:
        g = _GRAMMARS[vocab] = _Grammar(vocab)
    return g


def _tie_open(ties: tuple[str, ...], pitch: str) -> tuple[str, ...]:
    if ties.count(pitch) >= 2:
        return ties
    return tuple(sorted(ties + (pitch,)))


def _tie_close(ties: tuple[str, ...], pitch: str) -> tuple[str, ...]:
    if pitch not in ties:
        return ties
    i = ties.index(pitch)
    return ties[:i] + ties[i + 1:]


def _prefix_next(pre: str, nok: bool) -> set[str]:
    """Prefix characters allowed after prefix ``pre`` (see the module grammar)."""
    if pre.endswith("&"):
        return {"("}
    out = set()
    n_paren = pre.count("(")
    if n_paren < 2:
        out.add("(")
        if "&" not in pre:
            out.add("&")
    if pre == "(":
        out.add(")")
    if "{" not in pre:
        out.add("{")  # "()": a slur ends and the next starts on this note
    if "[" not in pre and nok:
        out.add("[")
    if pre.count("<") + pre.count(">") < 2:
        out.update("<>")
    if "/" not in pre and "\\" not in pre:
        out.update("/\\")
    return out


class KernChecker:
    """Character-by-character validity of cleaned **kern text (module docstring: the rules).

    ``vocab``: the model's characters (index = token id); must contain ``\\n``, ``\\t``, ``@``
    and ``.``. ``spines``: the dataset layout (number of **kern columns at the start).
    ``meter``: (numerator, denominator) or None (no metre: bars of any length up to four whole
    notes end wherever all columns end together). ``strict_durations=False`` keeps the rhythm
    bookkeeping (nulls, chords, spine counts) but does not enforce bar lengths (as if unmetred).
    ``max_spines``: most columns spine splits may create (default ``spines + 4``).
    ``split_bars``: also accept short bars completed by the next bar (real files; see module).
    ``music21_safe``: restrict spine splits/merges to what music21 reads right (see module);
    turn it off to check real files.

    Sampling loop::

        ck = KernChecker(vocab, spines=2, meter=(3, 4))
        mask = ck.allowed()             # numpy bool, len(vocab), read-only
        ch = pick(logits, mask) if mask.any() else ck.forced_fallback()
        ck.push(ch)                     # ValueError (with the reason) if ch is not allowed
        beam = ck.copy()                # cheap clone for beam search
        ck.at_bar_boundary, ck.bars_completed

    Per character, allowed()+push() costs a dictionary look-up of the state key (allowed sets
    and masks are cached per vocabulary and shared by all checkers) plus a few attribute
    updates; see ``tests/test_kern_checker.py::test_speed_per_character``.
    """

    def __init__(
        self,
        vocab: list[str],
        spines: int,
        meter: tuple[int, int] | None = (4, 4),
        strict_durations: bool = True,
        *,
        max_spines: int | None = None,
        split_bars: bool = False,
        music21_safe: bool = True,
    ):
        vocab_t = tuple(vocab)
        missing = [c for c in "\n\t@." if c not in vocab_t]
        if missing:
            raise ValueError(f"vocab lacks required characters {missing!r}")
        if spines < 1:
            raise ValueError("spines must be at least 1")
        self.g = _grammar(vocab_t)
        if not self.g.ticks or not self.g.letters and not self.g.has_rest:
            raise ValueError("vocab cannot write any note (needs duration digits and a pitch letter or r)")
        self.spines = spines
        self.max_spines = max(spines, max_spines if max_spines is not None else spines + 4)
        self.strict = strict_durations
        self.split_bars = split_bars
        self.music21_safe = music21_safe
        self.max_voices = 2 if music21_safe else None
        self.n = spines
        self.staff: tuple[int, ...] = tuple(range(spines))
        self.rem: tuple[int, ...] = (0,) * spines
        # open ties per staff (original spine): a sorted tuple of pitches, a pitch at most twice
        # (two voices of a staff may tie the same pitch)
        self.ties: tuple[tuple[str, ...], ...] = ((),) * spines
        self.beam: tuple[int, ...] = (0,) * spines
        self.elapsed = 0
        self.meter_str: str | None = None
        self._set_meter(meter, init=True)
        self.seen_bar = False
        self.bar_has_data = False
        self._merged_in_bar = False
        self.bars_completed = 0
        self._at_bar = False
        self._line = ""
        self._enter_line_start()

    # ---------------------------------------------------------------- state helpers
    def _set_meter(self, meter: tuple[int, int] | None, init: bool = False) -> None:
        self._debt = 0
        if meter is None:
            self.meter_str = None
            self.metred = False
            self.barlen = UNMETRED_CAP
            return
        num, den = meter
        t = meter_ticks(num, den)
        if init and not self.g.fillable(t):
            raise ValueError(f"a {num}/{den} bar cannot be filled with the vocabulary's durations")
        self.meter_str = f"*M{num}/{den}"
        if self.strict:
            self.metred = True
            self.barlen = t
        else:
            self.metred = False
            self.barlen = UNMETRED_CAP

    def set_meter(self, meter: tuple[int, int] | None) -> None:
        """Fix (or clear) the metre from the next bar on, as a ``*M`` line at a bar start would;
        for samplers that let the model choose its bar length before enforcing it."""
        self._set_meter(meter)

    def can_fill(self, ticks: int) -> bool:
        """Whether a bar of ``ticks`` can be filled with the vocabulary's durations."""
        return self.g.fillable(ticks)

    @property
    def at_bar_boundary(self) -> bool:
        """True right after a complete ``@\\n`` (not at the very start)."""
        return self._at_bar

    @property
    def avail(self) -> int:
        return self.barlen - self.elapsed

    def _barline_ok(self) -> bool:
        if any(self.rem) or any(self.beam):
            return False
        if self.elapsed == 0:
            return not self.seen_bar and not self.bar_has_data
        if self.metred:
            return (self.elapsed == self.barlen or self.bars_completed == 0
                    or (self.split_bars and (not self._debt or self.elapsed == self._debt)))
        return True

    def _enter_line_start(self) -> None:
        self._phase = _LS
        self._entry = None
        n = self.n
        rem = self.rem
        za = [False] * n
        seen = False
        for j in range(n - 1, -1, -1):
            za[j] = seen
            if rem[j] == 0:
                seen = True
        self._zafter = za
        self._has_normal = False
        self._has_grace = False
        self._committed = False
        self._col = 0
        self._lkind: list[int] = []
        self._ldur: list[int] = []
        self._sties: list[tuple[str, ...]] = list(self.ties)  # per staff, updated along the line
        self._lbeam: list[int] = []
        self._ltoks: list[str] = []
        self._ctx0 = self._col_ctx(0)
        self._bar_ok = self._barline_ok()
        self._star_ok = self._later_nonnull(-1)
        self._line = ""

    def _split_time_ok(self) -> bool:
        """``music21_safe``: no split once the bar is full or after a merge in the same bar."""
        return not self.music21_safe or (self.elapsed < self.barlen and not self._merged_in_bar)

    def _merge_time_ok(self) -> bool:
        """``music21_safe``: no merge before the bar's first event."""
        return not self.music21_safe or self.elapsed > 0

    def _later_nonnull(self, j: int) -> bool:
        """Whether an interpretation line whose columns up to ``j`` are all ``*`` can still get
        a non-null token in a later column (else column ``j`` must not be ``*``)."""
        n = self.n
        if j >= n - 1:
            return False
        g = self.g
        if g.others:
            return True
        if "*^" in g.manips and n < self.max_spines and self._split_time_ok():
            if self.max_voices is None or any(self.staff.count(s) < self.max_voices for s in set(self.staff[j + 1:])):
                return True
        v, x = "*v" in g.manips and self._merge_time_ok(), "*x" in g.manips and self._merge_time_ok()
        staff, rem = self.staff, self.rem
        for k in range(j + 1, n - 1):
            if staff[k] == staff[k + 1] and (x or v and rem[k] == rem[k + 1]):
                return True
        return False

    def _col_ctx(self, j: int) -> tuple:
        is_last = j == self.n - 1
        if self.rem[j] != 0:
            return (True, False, False, -1, is_last)
        avail = self.barlen - self.elapsed
        nok = not self._committed and avail > 0
        gok = not self._has_normal and self.g.has_q
        null = gok and (self._has_grace or self._zafter[j])
        return (null, nok, gok, avail if nok else -1, is_last)

    def _interp_ctx(self) -> tuple:
        j = self._col
        n = self.n
        is_last = j == n - 1
        if self._iforced is not None:
            return (self._iforced, is_last)
        if self._xpend:
            return ("*x", is_last)
        if self._vrun == 1:
            return ("*v", is_last)
        staff, rem = self.staff, self.rem
        null_ok = not self._iall_null or self._later_nonnull(j)
        other_ok = not self._ihas_manip
        manip_ok = not self._ihas_other
        split_ok = (manip_ok and self._split_time_ok() and self._icount + 2 + (n - j - 1) <= self.max_spines
                    and (self.max_voices is None
                         or staff.count(staff[j]) + self._isplits.count(staff[j]) < self.max_voices))
        if self._vrun >= 2:  # music21 misreads merges of more than two columns
            v_ok = not self.music21_safe and staff[j - 1] == staff[j] and rem[j - 1] == rem[j]
        else:
            v_ok = (manip_ok and self._merge_time_ok() and j + 1 < n and staff[j] == staff[j + 1]
                    and rem[j] == rem[j + 1])
        x_ok = manip_ok and self._merge_time_ok() and j + 1 < n and staff[j] == staff[j + 1]
        glob = None
        if j == 0 and self.elapsed == 0:
            glob = self.meter_str or ""  # metres allowed; *met only if it agrees with this
        return (None, null_ok, other_ok, split_ok, v_ok, x_ok, glob, is_last)

    def _interp_options(self, ctx: tuple) -> frozenset[str]:
        g = self.g
        got = g._interp_opts.get(ctx)
        if got is not None:
            return got
        if ctx[0] is not None:
            opts = {ctx[0]}
        else:
            _, null_ok, other_ok, split_ok, v_ok, x_ok, glob, _ = ctx
            opts = set()
            if null_ok:
                opts.add("*")
            if split_ok and "*^" in g.manips:
                opts.add("*^")
            if v_ok and "*v" in g.manips:
                opts.add("*v")
            if x_ok and "*x" in g.manips:
                opts.add("*x")
            if other_ok:
                opts |= g.others
                if glob is not None:
                    opts |= set(g.meters)
                    opts |= {t for t, m in g.met.items() if m == glob}
        got = g._interp_opts[ctx] = frozenset(opts)
        return got

    # ---------------------------------------------------------------- keys and allowed sets
    def _cur_key(self) -> tuple:
        ph = self._phase
        if ph == _POST:
            return (
                "P", self._rl, self._rc, self._rest, self._acc, self._sk, self._nok, self._gok,
                self._bend, self._topen, self._bd > 0, self._bd < MAX_BEAM, self._hasbr,
                self._chord_ok, self._last,
            )
        if ph == _DUR:
            return ("D", self._p, self._nok, self._gok, self._avk, self._forced, self._rest_ok)
        if ph == _PRE:
            return ("R", self._pre, self._nok, self._gok, self._avk, self._forced)
        if ph == _TSTART:
            return ("T",) + self._ctx
        if ph == _NULLTOK:
            return ("N", self._last)
        if ph == _MID:
            return ("M", self._suf, self._gok)
        if ph == _INTERP:
            return ("I", self._ictx, self._ip)
        if ph == _LS:
            return ("L", self._bar_ok, self._star_ok) + self._ctx0
        return ("B",)

    def _dur_set(self, nok: bool, gok: bool, avail: int, forced: str | None) -> frozenset[str]:
        if forced is not None:
            return frozenset((forced,))
        s: frozenset[str] = frozenset()
        if nok:
            s = self.g.fits(avail)
        if gok:
            s = s | self.g.all_durs
        return s

    def _chars_for(self, key: tuple) -> frozenset[str]:
        g = self.g
        kind = key[0]
        out: set[str] = set()
        if kind == "L":
            _, bar_ok, star_ok, *ctx = key
            if bar_ok:
                out.add("@")
            if star_ok:
                out.add("*")
            out |= self._chars_for(("T", *ctx))
        elif kind == "B":
            out.add("\n")
        elif kind == "N":
            out.add("\n" if key[1] else "\t")
        elif kind == "T":
            _, null, nok, gok, avail, is_last = key
            if null:
                out.add(".")
            if nok or gok:
                out |= self._chars_for(("R", "", nok, gok, avail, None))
        elif kind == "R":
            _, pre, nok, gok, avail, forced = key
            out |= _prefix_next(pre, nok)
            if not pre.endswith("&"):
                for s in self._dur_set(nok, gok, avail, forced):
                    if s:
                        out.add(s[0])
                if forced is not None or gok and "[" not in pre:
                    # chord notes may leave out the duration; grace notes may have none
                    out |= g.letters
        elif kind == "D":
            _, p, nok, gok, avail, forced, rest_ok = key
            S = self._dur_set(nok, gok, avail, forced)
            lp = len(p)
            for s in S:
                if len(s) > lp and s.startswith(p):
                    out.add(s[lp])
            if p in S:
                out |= g.letters
                if rest_ok and g.has_rest and nok and forced is None and p in g.fits(avail):
                    out.add("r")
                out.add("P")
                if gok and p in g.all_durs:
                    out.add("q")
        elif kind == "M":  # grace marks written before the pitch: 16qa, 32Pqqbb
            _, suf, gok = key
            out |= g.letters
            if gok and suf.count("q") < 2:
                out.add("q")
            if "P" not in suf:
                out.add("P")
        elif kind == "P":
            _, rl, rc, rest, acc, sk, nok, gok, bend, topen, bd_open, bd_room, hasbr, chord_ok, is_last = key
            if rest:
                if acc == "":
                    if rl is None:
                        out |= g.letters
                    elif rc < _RUN_CAP[rl]:
                        out.add(rl)
            else:
                if rl is not None and rc < _RUN_CAP[rl]:
                    out.add(rl)
                if acc == "":
                    out |= g.acc_chars
                elif acc in ("#", "-"):
                    out.add(acc)
            skey = (sk, rest, nok, gok, bend, topen, bd_open, bd_room, hasbr)
            sp = g.suffix_parts.get(skey)
            if sp is None:
                sp = g.suffix_parts[skey] = self._suffix_part(*skey)
            out |= sp
            q = "q" in sk
            if q or nok:
                if chord_ok:
                    out.add(" ")
                if not (not q and bend and bd_open):
                    out.add("\n" if is_last else "\t")
        elif kind == "I":
            _, ctx, p = key
            opts = self._interp_options(ctx)
            lp = len(p)
            for s in opts:
                if len(s) > lp and s.startswith(p):
                    out.add(s[lp])
            if p in opts:
                out.add("\n" if ctx[-1] else "\t")
        return frozenset(c for c in out if c in g.V)

    def _cur(self) -> list:
        e = self._entry
        if e is None:
            k = self._cur_key()
            e = self.g.cache.get(k)
            if e is None:
                e = self.g.cache[k] = [self._chars_for(k), None]
            self._entry = e
        return e

    def _suffix_part(self, sk: str, rest: bool, nok: bool, gok: bool, bend: bool, topen: bool,
                     bd_open: bool, bd_room: bool, hasbr: bool) -> frozenset[str]:
        # sk: the signifiers used up (count at cap), "|", then which of q, L, J are present
        exh, flags = sk.split("|")
        out = []
        q = "q" in flags
        tie_marks = "]" in exh or "_" in exh
        for c, cap in self.g.suffix:
            if c in exh:
                continue
            if c == "L":
                ok = bd_room and "J" not in flags and not (not q and nok and bend)
            elif c == "J":
                ok = bd_open and "L" not in flags
            elif c == "]" or c == "_":
                ok = not q and not rest and nok and topen and not hasbr and not tie_marks
            elif c == "q":
                ok = gok and not hasbr and not tie_marks and not rest
            elif c == "/":
                ok = "\\" not in exh
            elif c == "\\":
                ok = "/" not in exh
            else:
                ok = True
            if ok:
                out.append(c)
        return frozenset(out)

    def _allowed_set(self) -> frozenset[str]:
        return (self._entry or self._cur())[0]

    # ---------------------------------------------------------------- public API
    def allowed(self) -> np.ndarray:
        """Boolean mask over the vocabulary: characters that keep the text a valid prefix
        (read-only, shared between calls; copy it before changing it)."""
        e = self._entry or self._cur()
        m = e[1]
        if m is None:
            m = e[1] = self.g.mask(e[0])
        return m

    def allowed_chars(self) -> frozenset[str]:
        """The allowed characters as a set (same as :meth:`allowed`)."""
        return self._allowed_set()

    def forced_fallback(self) -> str:
        """The "cheapest" allowed character, for when the model puts all its mass on invalid
        ones: ends the line/token if possible, else a barline, a rest, a plain duration, a
        null, a beam or tie close, a plain pitch; otherwise the first allowed in vocab order."""
        s = self._allowed_set()
        for c in _FALLBACK_ORDER:
            if c in s:
                return c
        for c in self.g.vocab:
            if c in s:
                return c
        raise RuntimeError("no allowed character (checker bug)")

    def copy(self) -> "KernChecker":
        new = object.__new__(KernChecker)
        d = self.__dict__.copy()
        for name in ("_lkind", "_ldur", "_sties", "_lbeam", "_ltoks", "_zafter", "_isplits"):
            if name in d:
                d[name] = list(d[name])
        new.__dict__ = d
        return new

    __copy__ = copy

    def push_text(self, text: str) -> None:
        for ch in text:
            self.push(ch)

    def push(self, ch: str) -> None:
        """Advance by one character; ValueError (with the reason) if it is not allowed."""
        if ch not in (self._entry or self._cur())[0]:
            raise ValueError(self.explain(ch))
        self._entry = None
        self._line += ch
        ph = self._phase
        if ph == _POST:
            self._push_post(ch)
        elif ph == _DUR:
            self._push_dur(ch)
        elif ph == _PRE:
            self._push_pre(ch)
        elif ph == _MID:
            self._push_mid(ch)
        elif ph == _TSTART:
            self._push_tstart(ch)
        elif ph == _NULLTOK:
            self._end_token(ch, null=True)
        elif ph == _INTERP:
            self._push_interp(ch)
        elif ph == _LS:
            self._push_ls(ch)
        else:  # _BARNL
            self._finish_bar()

    # ---------------------------------------------------------------- transitions
    def _push_ls(self, ch: str) -> None:
        self._at_bar = False
        if ch == BAR:
            self._phase = _BARNL
        elif ch == "*":
            self._phase = _INTERP
            self._col = 0
            self._iforced = None
            self._xpend = False
            self._vrun = 0
            self._iall_null = True
            self._ihas_manip = False
            self._ihas_other = False
            self._icount = 0
            self._isplits: list[int] = []
            self._ltoks = []
            self._ictx = self._interp_ctx()
            self._ip = "*"
        else:
            self._ctx = self._ctx0
            self._push_tstart(ch)

    def _finish_bar(self) -> None:
        if self.metred and self.bars_completed > 0 and not self._debt and self.elapsed < self.barlen:
            self._debt = self.barlen - self.elapsed  # a split bar: the next bar may complete it
        else:
            self._debt = 0
        if self.elapsed > 0 or self.bar_has_data:
            self.bars_completed += 1
        self.seen_bar = True
        self.elapsed = 0
        self.bar_has_data = False
        self._merged_in_bar = False
        self._enter_line_start()
        self._at_bar = True

    def _push_tstart(self, ch: str) -> None:
        null, nok, gok, avail, is_last = self._ctx
        self._last = is_last
        if ch == ".":
            self._phase = _NULLTOK
            return
        j = self._col
        self._csize = 0
        self._cgrace = False
        self._cdur = None
        self._cbend = False
        self._bd = self.beam[j]
        self._rties = self._sties[self.staff[j]]
        self._start_sub(nok, gok, avail, None)
        self._push_pre(ch)

    def _start_sub(self, nok: bool, gok: bool, avail: int, forced: str | None) -> None:
        self._phase = _PRE
        self._pre = ""
        self._nok = nok
        self._gok = gok
        self._avk = avail if (nok and forced is None) else -1
        self._forced = forced

    def _push_pre(self, ch: str) -> None:
        if ch in _LETTERS:  # no duration: a chord note sharing the first's, or a grace note
            self._p = self._forced if self._forced is not None else ""
            self._push_dur(ch)
            return
        if ch in _DIGITS:
            self._phase = _DUR
            self._p = ch
            self._rest_ok = "[" not in self._pre and self._forced is None
            return
        self._pre += ch
        if ch == "[":
            self._gok = False

    def _push_dur(self, ch: str) -> None:
        if ch in _DIGITS or ch == ".":
            self._p += ch
            return
        g = self.g
        p = self._p
        if self._forced is None:
            nok = self._nok and p in g.fits(self._avk)
            gok = self._gok and (p == "" or p in g.all_durs)
            d = g.ticks.get(p, 0)
            self._bend = nok and d == self._avk
            self._nok = nok
            self._gok = gok
        else:
            self._bend = self._cbend and self._nok
        self._hasbr = "[" in self._pre
        self._suf = ""
        self._exh = ""
        self._sk = "|"
        if ch == "q" or ch == "P":
            self._phase = _MID
            self._push_mid(ch)
        else:
            self._start_pitch(ch)

    def _push_mid(self, ch: str) -> None:
        if ch == "q":
            self._nok = False
            self._bend = False
        if ch == "q" or ch == "P":
            self._add_suf(ch)
        else:
            self._start_pitch(ch)

    def _start_pitch(self, ch: str) -> None:
        self._phase = _POST
        self._acc = ""
        if ch == "r":
            self._rest = True
            self._gok = False
            self._rl = None
            self._rc = 0
            self._run = ""
            self._topen = False
            self._chord_ok = False
        else:
            self._rest = False
            self._rl = ch
            self._rc = 1
            self._run = ch
            self._topen = ch in self._rties
            self._chord_ok = self._csize + 1 < MAX_CHORD

    def _push_post(self, ch: str) -> None:
        if ch in _LETTERS:
            if self._rest:
                if self._rl is None:
                    self._rl = ch
                    self._rc = 1
                else:
                    self._rc += 1
            else:
                self._rc += 1
                self._run += ch
                self._topen = self._run in self._rties
            return
        if ch in "#-n" and not self._rest:
            self._acc += ch
            self._rl = None
            return
        if ch == " ":
            self._end_sub()
            self._start_sub(not self._cgrace, self._cgrace, -1, self._cdur)
            return
        if ch == "\t" or ch == "\n":
            self._end_sub()
            self._end_token(ch, null=False)
            return
        # a suffix signifier
        self._rl = None
        self._acc = None
        self._add_suf(ch)
        if ch == "L":
            self._bd += 1
        elif ch == "J":
            self._bd -= 1
        elif ch == "q":
            self._nok = False
            self._bend = False
        elif ch == "]" or ch == "_":
            self._gok = False

    def _add_suf(self, ch: str) -> None:
        suf = self._suf = self._suf + ch
        if suf.count(ch) >= SUFFIX_CAPS[ch]:
            self._exh = "".join(sorted(self._exh + ch))
        self._sk = self._exh + "|" + ("q" if "q" in suf else "") + ("L" if "L" in suf else "") + (
            "J" if "J" in suf else "")

    def _end_sub(self) -> None:
        grace = "q" in self._suf
        if self._csize == 0:
            self._cdur = self._p
            self._cgrace = grace
            self._cbend = self._bend
            self._cticks = self.g.ticks.get(self._p, 0)
        if not self._rest:
            if self._hasbr:
                self._rties = _tie_open(self._rties, self._run)
            elif "]" in self._suf:
                self._rties = _tie_close(self._rties, self._run)
        self._csize += 1

    def _end_token(self, ch: str, null: bool) -> None:
        j = self._col
        if null:
            self._lkind.append(_NULL)
            self._ldur.append(0)
            self._lbeam.append(self.beam[j])
            if self.rem[j] == 0:
                self._committed = True
        else:
            grace = self._cgrace
            self._lkind.append(_GRACE if grace else _NORMAL)
            self._ldur.append(0 if grace else self._cticks)
            self._sties[self.staff[j]] = self._rties
            self._lbeam.append(self._bd)
            if grace:
                self._has_grace = True
                self._committed = True
            else:
                self._has_normal = True
        if ch == "\t":
            self._col = j + 1
            self._ctx = self._col_ctx(j + 1)
            self._phase = _TSTART
        else:
            self._finish_data_line()

    def _finish_data_line(self) -> None:
        if self._has_normal:
            new = [d if k == _NORMAL else r for k, d, r in zip(self._lkind, self._ldur, self.rem)]
            adv = min(new)
            self.elapsed += adv
            self.rem = tuple(r - adv for r in new)
        self.ties = tuple(self._sties)
        self.beam = tuple(self._lbeam)
        self.bar_has_data = True
        self._enter_line_start()

    def _push_interp(self, ch: str) -> None:
        if ch != "\t" and ch != "\n":
            self._ip += ch
            return
        tok = self._ip
        self._ltoks.append(tok)
        j = self._col
        if tok == "*v":
            if self._vrun == 0:
                self._icount += 1
            self._vrun += 1
        else:
            self._vrun = 0
            self._icount += 2 if tok == "*^" else 1
            if tok == "*^":
                self._isplits.append(self.staff[j])
        if tok == "*x":
            self._xpend = not self._xpend
        if tok != "*":
            self._iall_null = False
            if tok in self.g.manips:
                self._ihas_manip = True
            else:
                self._ihas_other = True
        if j == 0 and (tok in self.g.meters or tok in self.g.met):
            self._iforced = tok
        if ch == "\t":
            self._col = j + 1
            self._ictx = self._interp_ctx()
            self._ip = ""
            return
        self._apply_interp(self._ltoks)
        self._enter_line_start()

    def _apply_interp(self, toks: list[str]) -> None:
        staff, rem, beam = [], [], []
        n = self.n
        j = 0
        while j < n:
            t = toks[j]
            if t == "*^":
                staff += [self.staff[j]] * 2
                rem += [self.rem[j]] * 2
                beam += [self.beam[j], 0]
                j += 1
            elif t == "*v":
                k = j
                while k < n and toks[k] == "*v":
                    k += 1
                self._merged_in_bar = True
                staff.append(self.staff[j])
                rem.append(self.rem[j])
                beam.append(max(self.beam[j:k]))
                j = k
            elif t == "*x":
                for i in (j + 1, j):
                    staff.append(self.staff[i])
                    rem.append(self.rem[i])
                    beam.append(self.beam[i])
                j += 2
            else:
                staff.append(self.staff[j])
                rem.append(self.rem[j])
                beam.append(self.beam[j])
                j += 1
        if toks[0] in self.g.meters:
            num, den = toks[0][2:].split("/")
            self._set_meter((int(num), int(den)))
        self.n = len(staff)
        self.staff = tuple(staff)
        self.rem = tuple(rem)
        self.beam = tuple(beam)

    # ---------------------------------------------------------------- diagnostics
    def explain(self, ch: str) -> str:
        """Why ``ch`` is not allowed here (a readable sentence); '' if it is allowed."""
        if ch in self._allowed_set():
            return ""
        ph = self._phase
        j = getattr(self, "_col", 0)
        n = self.n
        if ph == _BARNL:
            return f"a barline line must be exactly {BAR!r}, got {ch!r} after it"
        if ph == _LS:
            if ch == BAR:
                return self._explain_barline()
            if ch == "*":
                return "interpretation lines cannot be written with this vocabulary"
            if ch == "\n":
                return "empty line"
            return self._explain_token(ch, line_start=True)
        if ph == _INTERP:
            tok = self._ip
            if ch in "\t\n":
                if ch == "\n" and j < n - 1:
                    return f"interpretation line has {j + 1} tokens but {n} spines are active"
                if ch == "\t" and j == n - 1:
                    return f"interpretation line has more than {n} tokens ({n} spines are active)"
                return f"invalid interpretation {tok!r} in column {j + 1} here ({self._interp_hint(tok)})"
            return f"invalid interpretation {tok + ch!r}... in column {j + 1} ({self._interp_hint(tok + ch)})"
        return self._explain_token(ch, line_start=False)

    def _interp_hint(self, tok: str) -> str:
        ctx = self._ictx
        if ctx[0] is not None:
            return f"{ctx[0]} is required here"
        _, null_ok, other_ok, split_ok, v_ok, x_ok, glob, _ = ctx
        if tok == "*" and not null_ok:
            return "an interpretation line cannot be all '*'"
        if tok in ("*v", "*x", "*^") and self._ihas_other or tok not in ("*", "*v", "*x", "*^") and not other_ok:
            return "manipulators and other interpretations cannot share a line"
        j = self._col
        if tok == "*v":
            if not self._merge_time_ok():
                return "no merge before the bar's first note (music21_safe)"
            if self._vrun >= 2:
                return "*v merges exactly two columns (music21_safe)"
            return "*v must join two adjacent columns of one staff whose notes end together"
        if tok == "*x":
            return "*x exchanges are not supported"
        if tok == "*^":
            if not self._split_time_ok():
                return "no split in a full bar or after a merge in the same bar (music21_safe)"
            st = self.staff[j]
            if self.max_voices is not None and self.staff.count(st) + self._isplits.count(st) >= self.max_voices:
                return f"at most {self.max_voices} columns per staff (music21_safe)"
            return f"at most {self.max_spines} columns"
        if tok.startswith("*M") and tok[2:3].isdigit() or tok.startswith("*met"):
            if glob is None:
                return "a metre or *met goes in column 1 at the start of a bar"
            return "unsupported metre, or *met that does not match the metre"
        return "not a supported interpretation here"

    def _explain_barline(self) -> str:
        if self.elapsed == 0:
            return "empty bar (barline right after a barline or before any note)"
        for k in range(self.n):
            if self.rem[k]:
                return (f"barline while column {k + 1}'s note still sounds "
                        f"({_fmt_ticks(self.rem[k])} left): bar overfull or misaligned")
        for k in range(self.n):
            if self.beam[k]:
                return f"barline with a beam still open in column {k + 1}"
        return (f"underfull bar before a barline: {_fmt_ticks(self.elapsed)} of "
                f"{_fmt_ticks(self.barlen)} ({self.meter_str})")

    def _explain_token(self, ch: str, line_start: bool) -> str:
        ph = self._phase
        n = self.n
        j = 0 if line_start else self._col
        tok = "" if (line_start or ph == _TSTART) else self._line.split("\t")[-1]
        col = f"column {j + 1}"
        if ch in "\t\n" and (line_start or ph == _TSTART):
            return f"empty token in {col}"
        if ch == "\n" and j < n - 1 and ph in (_NULLTOK, _POST) and (self._nok or "q" in self._suf or ph == _NULLTOK):
            return f"data line has {j + 1} tokens but {n} spines are active"
        if ch == "\t" and j == n - 1 and ph in (_NULLTOK, _POST):
            return f"data line has more than {n} tokens ({n} spines are active)"
        rem = self.rem[j]
        if ph in (_TSTART, _LS):
            if ch == ".":
                return f"null token in {col}, whose previous event has ended (needs a note or rest)"
            if ch in _DIGITS or ch in "([&":
                if rem:
                    return (f"new note in {col} while its previous note still sounds "
                            f"({_fmt_ticks(rem)} left; needs '.')")
                if self.avail <= 0:
                    return f"note in {col} after the bar is already full ({self.meter_str})"
                if self._committed:
                    return "timed note in a grace-note line"
                return f"duration starting {ch!r} does not fit the {_fmt_ticks(self.avail)} left in the bar"
            return f"bad token start {ch!r} in {col}"
        if ph == _PRE:
            if ch in _DIGITS and self._forced is not None:
                return f"chord notes must repeat the first note's duration {self._forced!r} ({col})"
            if ch in _DIGITS:
                return f"no duration starting {ch!r} fits in {col} ({_fmt_ticks(self.avail)} left in the bar)"
            return f"bad token {tok + ch!r} in {col}"
        if ph == _DUR:
            p = self._p + ch
            if ch in _DIGITS or ch == ".":
                if self._forced is not None:
                    return f"chord notes must repeat the first note's duration {self._forced!r} ({col})"
                if any(s.startswith(p) for s in self.g.all_durs):
                    return (f"duration {p!r} in {col} does not fit the {_fmt_ticks(self.avail)} left "
                            f"in the bar (or leaves a remainder no duration can fill)")
                return f"unsupported duration {p!r} in {col}"
            if self._p not in self.g.all_durs:
                return f"unsupported duration {self._p!r} in {col}"
            if ch == "r":
                if self._forced is not None:
                    return f"rests cannot be part of a chord ({col})"
                if "[" in self._pre:
                    return f"rests cannot be tied ({tok + ch!r}, {col})"
                if not self._nok or self._p not in self.g.fits(self._avk):
                    if self._committed or self.avail <= 0:
                        return f"rest {tok + ch!r} in a grace-note line or a full bar ({col})"
                    return (f"duration {self._p!r} in {col} overflows the bar "
                            f"({_fmt_ticks(self.avail)} left in {self.meter_str})")
                return f"rest not allowed here: {tok + ch!r} ({col})"
            if ch in _LETTERS:
                return (f"duration {self._p!r} in {col} overflows the bar "
                        f"({_fmt_ticks(self.avail)} left in {self.meter_str})")
            return f"bad token {tok + ch!r} in {col}"
        if ph == _POST:
            if ch == "]" or ch == "_":
                return f"tie {ch!r} on {self._run or 'a rest'} in {col} without an open tie '['"
            if ch == "[":
                return f"tie start '[' must come before the duration ({tok + ch!r}, {col})"
            if ch == "J":
                return f"beam end 'J' in {col} without an open beam"
            if ch in "\t\n " and "q" not in self._suf and not self._nok:
                if self._committed:
                    why = "a grace-note line"
                elif self.avail <= 0:
                    why = f"the bar is already full ({self.meter_str})"
                else:
                    why = f"its duration overflows the bar ({_fmt_ticks(self.avail)} left in {self.meter_str})"
                return f"{tok!r} in {col} must be a grace note (q) here: {why}"
            if ch in "\t\n" and self._bend and self._bd:
                return f"beam still open in {col} at the end of the bar"
            if ch == " " and self._rest:
                return "rests cannot be part of a chord"
        if ph == _NULLTOK:
            return f"bad token {tok + ch!r} in {col} ('.' must stand alone)"
        return f"bad token {tok + ch!r} in {col}"

    # ---------------------------------------------------------------- resynchronisation
    def _resync(self, n: int, staff: tuple[int, ...], ties: tuple[tuple[str, ...], ...],
                meter_str: str | None, bars_completed: int) -> None:
        """Put the checker at a bar boundary with the given columns (used by :func:`check_text`
        to go on after a rejected bar)."""
        self.n = n
        self.staff = staff
        self.rem = (0,) * n
        self.ties = ties
        self.beam = (0,) * n
        self.elapsed = 0
        if meter_str is not None:
            num, den = meter_str[2:].split("/")
            self._set_meter((int(num), int(den)))
        self._debt = 0
        self.seen_bar = True
        self.bar_has_data = False
        self._merged_in_bar = False
        self.bars_completed = bars_completed
        self._enter_line_start()
        self._at_bar = True


# -------------------------------------------------------------------------------------------
# Whole texts

_GRAMMAR_CHARS = (
    "\n\t @.*" + _DIGITS + _LETTERS + "r#-n" + "([&<>" + "".join(SUFFIX_CAPS)
    + "".join(sorted(set("".join(CLEFS + KEYSIGS + KEYS + TEMPI + tuple(MET)) + "Mv^x/")))
)
DEFAULT_VOCAB: tuple[str, ...] = tuple(sorted(set(_GRAMMAR_CHARS)))


def _lenient_manip(toks: list[str], staff: tuple[int, ...]) -> tuple[int, ...]:
    """Column staffs after a skipped interpretation line (no validity checks)."""
    n = len(staff)
    new_s: list[int] = []
    j = 0
    while j < n:
        t = toks[j]
        if t == "*^":
            new_s += [staff[j]] * 2
            j += 1
        elif t == "*v":
            k = j
            while k < n and toks[k] == "*v":
                k += 1
            new_s.append(staff[j])
            j = k
        elif t == "*x" and j + 1 < n:
            new_s += [staff[j + 1], staff[j]]
            j += 2
        else:
            new_s.append(staff[j])
            j += 1
    return tuple(new_s)


def _lenient_ties(fields: list[str], staff: tuple[int, ...],
                  ties: tuple[tuple[str, ...], ...]) -> tuple[tuple[str, ...], ...]:
    """Per-staff open ties after a skipped data line."""
    out = list(ties)
    for j, f in enumerate(fields):
        if f == ".":
            continue
        for sub in f.split(" "):
            run = ""
            for c in sub:
                if c in _LETTERS and (not run or c == run[-1]):
                    run += c
                elif run:
                    break
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
