"""Clara's notewise encoding (Christine Payne, 2018): MIDI as words, one word per event.

``p20 p32 wait3 endp20 p25 endp32 wait12`` reads: piano strikes keys 20 and 32, three steps
pass, key 20 is released and key 25 struck, key 32 released, twelve steps pass.

* ``<prefix><i>`` strikes key ``i``, ``end<prefix><i>`` releases it, ``wait<n>`` moves time on
  ``n`` steps of the grid (``steps_per_quarter``: 4 = sixteenths, 12 = sixteenths and
  triplets). A release is written at the step the note stops sounding, so a note lasting one
  step is ``p20 wait1 endp20`` (Clara wrote the release in the note's last step instead; the
  decoder reads her ``p20 endp20`` as one step too).
* ``i`` counts keys up from the bottom of the note range (see :data:`LOWEST`): Clara's 38 keys
  from A2 (MIDI 45) and 62 keys from A1 (MIDI 33), and the full 88-key piano from A0 (MIDI 21).
  Notes outside the range move by octaves into it; ``Encoded.info["folded"]`` counts them.
* Waits longer than ``max_wait`` (default one 4/4 bar, 4 x ``steps_per_quarter``) repeat
  (``wait48 wait48 wait6``), so the vocabulary stays small.
* Within a step: releases before strikes (so a repeated note reads ``endp20 p20``), each in
  score order of the instruments (:data:`INSTRUMENTS`), then from low to high.
* Loudness is not encoded (nor was it in Clara): decoded notes play at velocity 80. Tempo,
  metre, key and instrument names travel in ``Encoded.info`` and come back on decoding.

Instrument prefixes are those of :data:`INSTRUMENTS`: Clara's ``p`` (piano) and ``v`` (violin),
and the usual score abbreviations for the rest of General MIDI (``va`` viola, ``vc`` cello,
``fl`` flute, ``cl`` clarinet ...). Every GM program has one; instruments sharing a prefix (two
violins, a pianist's two hands) share the words. The chordwise codec uses the same table.

The table lives in :mod:`cadenza.music.instruments`, the grid in :mod:`.grid`, what both MIDI codecs share in
:mod:`.midi`; this module is the words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, ClassVar

from cadenza import CadenzaError
from cadenza.codecs import Encoded, register
from cadenza.codecs.grid import LOWEST, Grid, GridNote, check_grid, fold_keys, from_grid, normalize, piece_info, to_grid, transposed
from cadenza.music.instruments import DEFAULT_PROGRAM, INSTRUMENT_NAME, INSTRUMENTS, PREFIX_OF_PROGRAM, RANK, prefix_for
from cadenza.music import Note, Piece, Track
from cadenza.codecs.midi import MAX_QUARTERS, SUFFIXES, MidiCodec, dominant_meter, export_midi, midi_generation_context, quiet_prime, read_piece

__all__ = [  # also re-exported from their new homes for old imports: grid, instruments, midi
    "DEFAULT_PROGRAM", "INSTRUMENT_NAME", "INSTRUMENTS", "LOWEST", "MAX_QUARTERS", "PREFIX_OF_PROGRAM", "RANK", "SUFFIXES", "Encoded", "Grid", "GridNote",
    "NoteStream", "NotewiseCodec", "NotewiseOptions", "check_grid", "dominant_meter", "export_midi", "fold_keys", "from_grid", "midi_generation_context", "normalize",
    "piece_info", "prefix_for", "quiet_prime", "read_piece", "read_word", "to_grid", "transposed",
]


@dataclass(frozen=True)
class NotewiseOptions:
    """``steps_per_quarter``: grid resolution (Clara: 4 or 12). ``note_range``: keys encoded,
    38, 62 or 88 (see :data:`LOWEST`). ``max_wait``: longest single ``wait`` word (None: one
    4/4 bar). ``chords``: a chord word at each bar line (:mod:`.bar_chords`)."""

    steps_per_quarter: int = 12
    note_range: int = 62
    max_wait: int | None = None
    chords: bool = False  # each bar opens with its chord's word (prepare --condition chords)

    def __post_init__(self) -> None:
        check_grid(self.steps_per_quarter, self.note_range)
        if self.max_wait is not None and (not isinstance(self.max_wait, int) or self.max_wait < 1):
            raise CadenzaError(f"notewise max_wait must be a positive whole number of steps, not {self.max_wait!r}")

    @property
    def wait_cap(self) -> int:
        return self.max_wait or 4 * self.steps_per_quarter


_WAIT = re.compile(r"wait(\d{1,5})")
_NOTE = re.compile(r"(end)?([a-z]+)(\d{1,3})")


@lru_cache(maxsize=1 << 16)
def read_word(word: str, note_range: int) -> tuple[str, Any, int] | None:
    """``("wait", None, n)``, ``("strike" | "release", prefix, key)``, or None for a word that is
    not notewise. Cached: a corpus repeats a few hundred words millions of times."""
    m = _WAIT.fullmatch(word)
    if m:
        return ("wait", None, int(m.group(1))) if int(m.group(1)) > 0 else None
    m = _NOTE.fullmatch(word)
    if not m or m.group(2) not in RANK or int(m.group(3)) >= note_range:
        return None
    return ("release" if m.group(1) else "strike", m.group(2), int(m.group(3)))


@dataclass
class NoteStream:
    """Which notes start or stop with each word, and when (seconds from the first note, at
    ``seconds_per_step``); silence before the first note is dropped, and time stops
    ``limit_steps`` steps after it (``finished``)."""

    lowest: int
    note_range: int
    seconds_per_step: float
    limit_steps: int
    now: int = 0
    origin: int | None = None  # the step of the first note
    sounding: dict[int, int] = field(default_factory=dict)  # pitch -> step struck

    def time(self, step: int) -> float:
        return round((step - (self.origin or 0)) * self.seconds_per_step, 4)

    @property
    def finished(self) -> bool:
        return self.origin is not None and self.now - self.origin >= self.limit_steps

    def read(self, word: str) -> list[dict[str, Any]]:
        got = read_word(word, self.note_range)
        if got is None:
            return []
        what, _, n = got
        if what == "wait":
            if self.origin is not None:
                self.now = min(self.now + n, self.origin + self.limit_steps)
            return []
        pitch = self.lowest + n
        out = []
        if pitch in self.sounding and (what == "release" or self.sounding[pitch] < self.now):
            del self.sounding[pitch]
            out.append({"type": "off", "pitch": pitch, "time": self.time(self.now)})
        if what == "strike" and pitch not in self.sounding:
            if self.origin is None:
                self.origin = self.now
            self.sounding[pitch] = self.now
            out.append({"type": "on", "pitch": pitch, "time": self.time(self.now), "velocity": 80})
        return out

    def close(self) -> list[dict[str, Any]]:
        """The notes still sounding, released a step after the last (or where time stopped)."""
        end = max(self.now, max(self.sounding.values(), default=self.now) + 1)
        out = [{"type": "off", "pitch": p, "time": self.time(end)} for p in self.sounding]
        self.sounding.clear()
        return out


@register
class NotewiseCodec(MidiCodec):
    """Clara's notewise words (see the module docstring)."""

    name: ClassVar[str] = "notewise"
    capabilities: ClassVar[frozenset[str]] = MidiCodec.capabilities | {"stream"}
    Options = NotewiseOptions
    quiet: ClassVar[str] = "wait1"

    def note_stream(self, context: dict[str, Any], bars: float) -> NoteStream:
        """A reader for a reply of ``bars`` bars of the context's metre, at its tempo (``stream``)."""
        qpm = float(context.get("tempo") or 120.0)
        num, den = (context.get("time_signature") or [4, 4])[:2]
        spq = self.options.steps_per_quarter
        return NoteStream(LOWEST[self.options.note_range], self.options.note_range, 60.0 / qpm / spq, max(1, round(bars * num * 4 / den * spq)))

    def played(self, notes: list[tuple[float, int, float, int]], context: dict[str, Any]) -> Piece:
        """Notes played live, (start, pitch, duration) in seconds and velocity, as a piece at the
        context's tempo and metre, each moved by octaves into the model's keys (``stream``)."""
        qpm = float(context.get("tempo") or 120.0)
        num, den = (context.get("time_signature") or [4, 4])[:2]
        low, size = LOWEST[self.options.note_range], self.options.note_range
        t0 = min(start for start, _, _, _ in notes)
        q = qpm / 60.0
        out = []
        for start, pitch, duration, velocity in notes:
            while pitch < low:
                pitch += 12
            while pitch >= low + size:
                pitch -= 12
            out.append(Note((start - t0) * q, pitch, max(duration * q, 1.0 / self.options.steps_per_quarter), velocity))
        return Piece([Track("piano", 0, sorted(out))], [(0.0, qpm)], [(0.0, int(num), int(den))], name="jam")

    def words(self, grid: Grid) -> list[str]:
        # (step, release 0 / strike 1, instrument rank, key): one sort gives the reading order
        events = []
        for pre, notes in grid.notes.items():
            r = RANK[pre]
            events += [(on, 1, r, i) for on, _, i in notes]
            events += [(off, 0, r, i) for _, off, i in notes]
        events.sort()
        names = [pre for pre, *_ in INSTRUMENTS]
        out: list[str] = []
        cap = self.options.wait_cap
        now = 0
        for step, strike, r, i in events:
            if step != now:
                gap = step - now
                while gap > 0:
                    out.append(f"wait{min(gap, cap)}")
                    gap -= cap
                now = step
            out.append(f"{names[r]}{i}" if strike else f"end{names[r]}{i}")
        return out

    def parse(self, text: str) -> tuple[dict[str, list[GridNote]], dict[str, Any]]:
        """Words -> grid notes and counts. Unknown words, keys outside the range, releases of
        keys not sounding and a key struck twice in one step are skipped and counted
        (``dropped``); a key struck again while sounding is released first; notes never released
        end with the text, but hold at most one 4/4 bar (``unclosed``)."""
        o = self.options
        size = o.note_range
        now = 0
        dropped = 0
        sounding: dict[tuple[str, int], int] = {}
        notes: dict[str, list[GridNote]] = {}

        def close(key: tuple[str, int], at: int) -> None:
            on = sounding.pop(key)
            notes.setdefault(key[0], []).append((on, max(at, on + 1), key[1]))

        for word in str(text).split():
            got = read_word(word, size)
            if got is None:
                dropped += 1
                continue
            what, pre, n = got
            if what == "wait":
                now += n
                continue
            key = (pre, n)
            if what == "release":
                if key in sounding:
                    close(key, now)
                else:
                    dropped += 1
            else:
                if key in sounding:
                    if sounding[key] == now:
                        dropped += 1  # struck twice at once
                        continue
                    close(key, now)
                sounding[key] = now
        unclosed = len(sounding)
        longest = 4 * o.steps_per_quarter
        for key in list(sounding):
            close(key, min(now, sounding[key] + longest))
        stats = {"dropped": dropped, "unclosed": unclosed, "notes": sum(len(v) for v in notes.values()), "quarters": now / o.steps_per_quarter}
        return notes, stats

    # Time, for generation: waits move the grid on

    @staticmethod
    def wait_word(steps: int) -> str:
        return f"wait{steps}"

    @staticmethod
    def wait_steps(word: str) -> int | None:
        m = _WAIT.fullmatch(word)
        return int(m.group(1)) if m else None

    def steps(self, words: list[str]) -> list[int]:
        """The grid step each word ends at: the waits so far."""
        out, now = [], 0
        for w in words:
            m = re.fullmatch(r"wait(\d+)", w)
            if m:
                now += int(m.group(1))
            out.append(now)
        return out

    def reached(self, tokens: list[str], units: int) -> bool:
        return self.reach(tokens) >= units

    def cut(self, tokens: list[str], units: int, vocab: list[str]) -> list[str]:
        """At step ``units`` (a wait across it is shortened), then the notes still sounding are
        released, so the phrase can be repeated exactly."""
        return self._release(self._cut(tokens, units, vocab), vocab)

    def _cut(self, words: list[str], limit: int, vocab: list[str]) -> list[str]:
        for k, v in enumerate(self.steps(words)):
            if v >= limit:
                if v > limit and words[k].startswith("wait"):
                    keep = int(words[k][4:]) - (v - limit)
                    w = f"wait{keep}"
                    return words[:k] + ([w] if keep > 0 and w in vocab else [])
                return words[: k + 1]
        return words

    @staticmethod
    def _release(words: list[str], vocab: list[str]) -> list[str]:
        on: dict[str, None] = {}
        for w in words:
            if re.fullmatch(r"end[a-z]+\d+", w):
                on.pop(w[3:], None)
            elif re.fullmatch(r"[a-z]+\d+", w) and not w.startswith("wait"):
                on[w] = None
        return words + ["end" + w for w in on if "end" + w in vocab]
