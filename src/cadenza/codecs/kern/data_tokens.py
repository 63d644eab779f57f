"""The incremental checker's reading of one data token, character by character: prefix marks,
duration, grace marks, pitch letters, accidentals, suffix signifiers, chord notes (see
:mod:`cadenza.codecs.kern.grammar`). A mixin of :class:`~cadenza.codecs.kern.checker.KernChecker`:
the state lives in the checker."""

from __future__ import annotations

from cadenza.music.humdrum.clefs import CLEF_RANGE
from cadenza.codecs.kern.grammar import _DUR, _MID, _NULLTOK, _POST, _PRE, MAX_CHORD, SUFFIX_CAPS
from cadenza.music.humdrum.spines import DIGITS, PITCH_LETTERS


def _tie_open(ties: tuple[str, ...], pitch: str) -> tuple[str, ...]:
    if ties.count(pitch) >= 2:
        return ties
    return tuple(sorted(ties + (pitch,)))


def _tie_close(ties: tuple[str, ...], pitch: str) -> tuple[str, ...]:
    if pitch not in ties:
        return ties
    i = ties.index(pitch)
    return ties[:i] + ties[i + 1:]


class DataTokens:
    """Transitions inside a data token (the per-character hot path of constrained sampling)."""

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
        self._crange = CLEF_RANGE.get(self.clef[j]) if self.g.shapes is not None else None
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
        if ch in PITCH_LETTERS:  # no duration: a chord note sharing the first's, or a grace note
            self._p = self._forced if self._forced is not None else ""
            self._push_dur(ch)
            return
        if ch in DIGITS:
            self._phase = _DUR
            self._p = ch
            self._rest_ok = "[" not in self._pre and self._forced is None and (self._pre == "" or self.g.shapes is None)
            if self._rest_ok and self.g.shapes is not None and self._bd > 0:
                self._rest_ok = 2  # a corpus rest carries no beam: it may not end the bar inside one
            return
        self._pre += ch
        if ch == "[":
            self._gok = False

    def _push_dur(self, ch: str) -> None:
        if ch in DIGITS or ch == ".":
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
        if ch in PITCH_LETTERS:
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
