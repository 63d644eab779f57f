"""The kern grammar the checker enforces: a table of recips, clefs, metres, key signatures and
suffix caps, and :class:`_Grammar`, what a vocabulary can spell of it (see
:mod:`cadenza.codecs.kern.checker` for what "valid" means; durations come from the
:mod:`~cadenza.music.humdrum.spines`).

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
             sharps or flats in standard order), keys ``*C:`` ... ``*a-:`` and modal ones (``*G:dor``), metres (:data:`METERS`,
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
from typing import Any, Iterable

import numpy as np

from cadenza.music.humdrum.interpretations import MODES
from cadenza.music.humdrum.spines import BAR, DIGITS, PITCH_LETTERS, duration  # noqa: F401 (BAR: re-exported)

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
        for dots in range(MAX_DOTS + 1):
            t = lcm(t, duration(r + "." * dots).denominator)
    return t


TPQ = _lcm_ticks()  # ticks per quarter note: every allowed duration is a whole number of ticks
MAX_CHORD = 6
MAX_BEAM = 6
RUN_CAP = {**{c: 4 for c in "abcdefg"}, **{c: 3 for c in "ABCDEFG"}}
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
) + tuple(f"*{k}:{mode}" for k in "C D E F G A B B- E- F# C# c d e f g a b b- e- f# c#".split() for mode in MODES)  # church modes (Palestrina *G:dor, Bach *a:dor)
MET = {"*met(c)": (4, 4), "*met(c|)": (2, 2)}
TEMPI = tuple(f"*MM{v}" for v in range(20, 321))
UNMETRED_CAP = 16 * TPQ  # bar length cap when no metre is enforced (4 whole notes)

# where in a line the incremental checker is (its phases), and the kinds of data token
_NULL, _NORMAL, _GRACE = 0, 1, 2
# phases
_LS, _BARNL, _INTERP, _TSTART, _NULLTOK, _PRE, _DUR, _POST, _MID = range(9)

MANIPS = ("*^", "*v")  # no *x: no corpus uses it and music21 misreads it


def dur_ticks(s: str) -> int:
    """Ticks of a kern duration string (``"8."``, ``"0"`` = breve), read by the reader. Exact."""
    q = duration(s) * TPQ
    if q.denominator != 1:
        raise ValueError(f"duration {s!r} is not a whole number of ticks")
    return int(q)


def meter_ticks(num: int, den: int) -> int:
    q = Fraction(4 * num, den) * TPQ
    if q.denominator != 1:
        raise ValueError(f"metre {num}/{den} is not a whole number of ticks")
    return int(q)


def fmt_ticks(t: int) -> str:
    q = Fraction(t, TPQ)
    return f"{q} quarter" + ("" if q == 1 else "s")


class _Grammar:
    """Tables that depend only on the vocabulary, shared by all checkers (and their caches)."""

    def __init__(self, vocab: tuple[str, ...], header_fixed: bool = False, shapes: Any = None):
        self.vocab = vocab
        self.header_fixed = header_fixed
        self.shapes = shapes  # a TokenShapes (the generation grammar) or None (lenient: real files)
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
        self.letters = frozenset(c for c in PITCH_LETTERS if c in V)
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
        if header_fixed:  # the musician chose metre and key: the sample may change clefs only
            self.meters, self.met = {}, {}
            self.others = frozenset(t for t in CLEFS if ok(t))
        self.manips = frozenset(t for t in MANIPS if ok(t))
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


_GRAMMARS: dict[tuple[tuple[str, ...], bool, Any], _Grammar] = {}


def _grammar(vocab: tuple[str, ...], header_fixed: bool = False, shapes: Any = None) -> _Grammar:
    """The shared grammar of a vocabulary; ``shapes`` (a
    :class:`~cadenza.codecs.kern.shapes.TokenShapes`) narrows data tokens to the corpus's shapes."""
    key = (vocab, header_fixed, shapes)
    g = _GRAMMARS.get(key)
    if g is None:
        g = _GRAMMARS[key] = _Grammar(vocab, header_fixed, shapes)
    return g


_GRAMMAR_CHARS = (
    "\n\t @.*" + DIGITS + PITCH_LETTERS + "r#-n" + "([&<>" + "".join(SUFFIX_CAPS)
    + "".join(sorted(set("".join(CLEFS + KEYSIGS + KEYS + TEMPI + tuple(MET)) + "Mv^x/")))
)
DEFAULT_VOCAB: tuple[str, ...] = tuple(sorted(set(_GRAMMAR_CHARS)))
