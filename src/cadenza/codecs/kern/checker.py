"""Incremental validity checker for cleaned **kern text (see :mod:`cadenza.codecs.kern`).

A :class:`KernChecker` runs beside a character-level sampler: :meth:`KernChecker.allowed` gives
the characters that keep the text a valid *prefix* (one that can still be completed into valid
bars), :meth:`KernChecker.push` advances by one character. Every state reachable through allowed
characters has at least one allowed character, so masked sampling never gets stuck.
:func:`~cadenza.codecs.kern.report.check_text` / :func:`~cadenza.codecs.kern.report.check_report`
check whole texts bar by bar with the same machine. The token grammar and its tables are in
:mod:`~cadenza.codecs.kern.grammar`, the allowed characters per state in
:mod:`~cadenza.codecs.kern.allowed`, durations and spine moves come from the
:mod:`~cadenza.music.humdrum.spines`.

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
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cadenza.codecs.kern.allowed import chars_for
from cadenza.codecs.kern.data_tokens import DataTokens
from cadenza.codecs.kern.explain import explain
from cadenza.codecs.kern.grammar import (
    _BARNL, _DUR, _GRACE, _INTERP, _LS, _MID, _NORMAL, _NULL, _NULLTOK, _POST, _PRE, _TSTART, MAX_BEAM,
    UNMETRED_CAP, _grammar, meter_ticks,
)
from cadenza.codecs.kern.interpretation_lines import InterpretationLines
from cadenza.music.humdrum.spines import BAR

_FALLBACK_ORDER = "\n\t@r4821630.Jq]" + "cdefgabCDEFGAB"


class KernChecker(DataTokens, InterpretationLines):
    """Character-by-character validity of cleaned **kern text (module docstring: the rules).

    ``vocab``: the model's characters (index = token id); must contain ``\\n``, ``\\t``, ``@``
    and ``.``. ``spines``: the dataset layout (number of **kern columns at the start).
    ``meter``: (numerator, denominator) or None (no metre: bars of any length up to four whole
    notes end wherever all columns end together). ``strict_durations=False`` keeps the rhythm
    bookkeeping (nulls, chords, spine counts) but does not enforce bar lengths (as if unmetred).
    ``max_spines``: most columns spine splits may create (default ``spines + 4``).
    ``split_bars``: also accept short bars completed by the next bar (real files; see module).
    ``music21_safe``: restrict spine splits/merges to what music21 reads right (see module);
    turn it off to check real files. ``shapes``: a
    :class:`~cadenza.codecs.kern.shapes.TokenShapes` to allow only the token shapes a corpus
    writes (the generation grammar; :data:`~cadenza.codecs.kern.shapes.MOZART`); None (the
    default) accepts every shape of the lenient grammar, as real files need; with it, pitches
    also stay within :data:`~cadenza.music.humdrum.clefs.FAR` ledger lines of their column's staff
    (``clefs``: the opening clef per column; ``*clef`` lines change it).

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
        shapes=None,
        clefs: list[str] | None = None,
    ):
        vocab_t = tuple(vocab)
        # a one-spine corpus has no tab: its checker then never splits a spine
        missing = [c for c in ("\n@." if spines == 1 else "\n\t@.") if c not in vocab_t]
        if missing:
            raise ValueError(f"vocab lacks required characters {missing!r}")
        if spines < 1:
            raise ValueError("spines must be at least 1")
        self.g = _grammar(vocab_t, False, shapes)
        if not self.g.ticks or not self.g.letters and not self.g.has_rest:
            raise ValueError("vocab cannot write any note (needs duration digits and a pitch letter or r)")
        self.spines = spines
        self.max_spines = max(spines, max_spines if max_spines is not None else spines + 4) if "\t" in vocab_t else spines
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
        # per column, the clef in force (generation grammar: pitches stay near its staff)
        self.clef: tuple[str | None, ...] = tuple(clefs) if clefs and len(clefs) == spines else (None,) * spines
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

    def fix_header(self) -> None:
        """From here on no metre, key signature, key or tempo may be written (clefs still may):
        the metre and key the musician chose hold to the end. Called after the prime."""
        self.g = _grammar(self.g.vocab, True, self.g.shapes)
        self._entry = None
        if self._phase == _INTERP:
            self._ictx = self._interp_ctx()

    def use_shapes(self, shapes: Any) -> None:
        """Switch between the lenient grammar (``None``: real files, primes) and a corpus's token
        shapes (the generation grammar) from the next token on."""
        self.g = _grammar(self.g.vocab, self.g.header_fixed, shapes)
        self._entry = None

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

    def _col_ctx(self, j: int) -> tuple:
        is_last = j == self.n - 1
        if self.rem[j] != 0:
            return (True, False, False, -1, is_last)
        avail = self.barlen - self.elapsed
        nok = not self._committed and avail > 0
        gok = not self._has_normal and self.g.has_q
        null = gok and (self._has_grace or self._zafter[j])
        return (null, nok, gok, avail if nok else -1, is_last)

    # ---------------------------------------------------------------- keys and allowed sets
    def _cur_key(self) -> tuple:
        ph = self._phase
        if ph == _POST:
            return (
                "P", self._rl, self._rc, self._rest, self._acc, self._sk, self._nok, self._gok,
                self._bend, self._topen, self._bd > 0, self._bd < MAX_BEAM, self._hasbr,
                self._chord_ok, self._last, self._suf if self.g.shapes is not None else None, self._crange,
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

    def _cur(self) -> list:
        e = self._entry
        if e is None:
            k = self._cur_key()
            e = self.g.cache.get(k)
            if e is None:
                e = self.g.cache[k] = [chars_for(self.g, k), None]
            self._entry = e
        return e

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

    # ---------------------------------------------------------------- diagnostics
    def explain(self, ch: str) -> str:
        """Why ``ch`` is not allowed here (a readable sentence); '' if it is allowed."""
        return explain(self, ch)

    # ---------------------------------------------------------------- resynchronisation
    def _resync(self, n: int, staff: tuple[int, ...], ties: tuple[tuple[str, ...], ...],
                meter_str: str | None, bars_completed: int) -> None:
        """Put the checker at a bar boundary with the given columns (used by :func:`check_text`
        to go on after a rejected bar)."""
        self.n = n
        self.staff = staff
        self.clef = (None,) * n
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

