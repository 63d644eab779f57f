"""The incremental checker's interpretation lines: which tokens each column may take (spine
splits and merges, clefs, keys, metres at a bar's start), and the columns after the line, moved
by the :mod:`~cadenza.music.humdrum.spines`'s :func:`~cadenza.music.humdrum.spines.spine_moves`. A
mixin of :class:`~cadenza.codecs.kern.checker.KernChecker`: the state lives in the checker."""

from __future__ import annotations

from cadenza.music.humdrum.spines import spine_moves


class InterpretationLines:
    """Interpretation-line rules and transitions (``music21_safe`` limits included)."""

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
        moves = spine_moves(toks)
        if "*v" in toks:
            self._merged_in_bar = True
        staff, rem, beam = self.staff, self.rem, self.beam
        if toks[0] in self.g.meters:
            num, den = toks[0][2:].split("/")
            self._set_meter((int(num), int(den)))
        clef = tuple(t if t.startswith("*clef") else c for t, c in zip(toks, self.clef))
        self.clef = tuple(clef[m[0]] for m in moves)
        self.n = len(moves)
        self.staff = tuple(staff[m[0]] for m in moves)
        self.rem = tuple(rem[m[0]] for m in moves)  # merged columns end together
        # a split's new voice (the second of two columns from one) starts with no beam open
        self.beam = tuple(0 if k and m == moves[k - 1] else max(beam[i] for i in m) for k, m in enumerate(moves))
