"""Clara's chordwise encoding (Christine Payne, 2018): one word per time step, a chord at a time.

Each step of the grid is, for every instrument of the piece (in score order, so violin before
piano), its prefix and one digit per key of the note range::

    v00000000000000000000001000...  p00010000200000100...

Durations, as in Clara's own scripts: ``1`` the key is struck at this step, ``2`` it is still
held from an earlier strike, ``0`` it is silent. So a note lasts from its ``1`` through the
``2`` s after it, a repeated note is ``1`` again, and decoding gives back exactly the notes on the
grid. (A bare 0/1 grid would either merge repeated notes or lose how long each one sounds.)

A step where nothing changes, where no key is struck or released by any instrument, is written
as a single letter instead: ``a`` plus the number of keys struck in the previous ``lookback``
steps (capped at ``z``). Sustained chords and rests then read as a varied texture of letters
rather than one word repeated thousands of times, which a model would learn to repeat forever.
The letter's count is a hint for the model; decoding only reads "one step, nothing changes".

Keys, note ranges, folding, the grid and the instrument prefixes are those of the notewise
codec (:mod:`.grid`, :mod:`cadenza.music.instruments`); what both share is :mod:`.midi`. With
``options.chords`` each bar opens with its chord's word (:mod:`.bar_chords`), and with
``--chords`` the sampler writes them (:mod:`.chord_constraint`, on this codec's steps).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, ClassVar

from cadenza import CadenzaError
from cadenza.codecs import register
from cadenza.codecs.grid import Grid, GridNote, check_grid
from cadenza.music.instruments import RANK
from cadenza.codecs.midi import MidiCodec

_STEP = re.compile(r"([a-z]+)([012]+)")
_LETTER = re.compile(r"[a-z]")
_SOUNDING = re.compile(r"[12]")
BLOCK_STEPS = 4096  # grid steps turned into words at a time


@lru_cache(maxsize=1 << 16)
def read_step(word: str, note_range: int) -> tuple[str, str] | None:
    """(prefix, digits) of an instrument's word for one step, or None if it is not one."""
    m = _STEP.fullmatch(word)
    if not m or m.group(1) not in RANK or len(m.group(2)) != note_range:
        return None
    return m.group(1), m.group(2)


@dataclass(frozen=True)
class ChordwiseOptions:
    """``steps_per_quarter``: grid resolution (Clara: 4 or 12). ``note_range``: keys encoded,
    38, 62 or 88 (see :data:`cadenza.codecs.notewise.LOWEST`). ``lookback``: steps counted for
    the letter that stands for an unchanged step."""

    steps_per_quarter: int = 12
    note_range: int = 62
    lookback: int = 10
    chords: bool = False  # each bar opens with its chord's word (prepare --condition chords)

    def __post_init__(self) -> None:
        check_grid(self.steps_per_quarter, self.note_range)
        if not isinstance(self.lookback, int) or self.lookback < 1:
            raise CadenzaError(f"chordwise lookback must be a positive whole number of steps, not {self.lookback!r}")


@register
class ChordwiseCodec(MidiCodec):
    """Clara's chordwise words (see the module docstring)."""

    name: ClassVar[str] = "chordwise"
    Options = ChordwiseOptions
    quiet: ClassVar[str] = "a"

    def words(self, grid: Grid) -> list[str]:
        """The grid as words. Which steps change, and the letters' counts, come from the notes'
        start and end steps alone; the digits are built :data:`BLOCK_STEPS` steps at a time, so
        memory stays one block (a whole piece as one steps x instruments x keys array is up
        to ~0.85 GB)."""
        import numpy as np

        prefixes = grid.prefixes()
        steps = grid.end
        size = self.options.note_range
        if not prefixes or steps == 0:
            return []
        cols = [np.array(grid.notes[pre], dtype=np.int64).reshape(-1, 3) for pre in prefixes]
        on = np.concatenate([c[:, 0] for c in cols])
        off = np.concatenate([c[:, 1] for c in cols])
        inst = np.concatenate([np.full(len(c), k, dtype=np.int64) for k, c in enumerate(cols)])
        key = np.concatenate([c[:, 2] for c in cols])
        # a step is unchanged when no key is struck or released there (notes of one key never
        # overlap, so a key struck where another note of it ends counts as struck)
        struck = np.bincount(on, minlength=steps)[:steps]
        changed = struck + np.bincount(off, minlength=steps + 1)[:steps] > 0
        total = np.concatenate([[0], np.cumsum(struck)])
        idx = np.arange(steps)
        recent = total[idx] - total[np.maximum(idx - self.options.lookback, 0)]  # keys struck in the `lookback` steps before
        letters = [chr(ord("a") + min(n, 25)) for n in recent.tolist()]
        out: list[str] = []
        spans = [(pre, k * size, (k + 1) * size) for k, pre in enumerate(prefixes)]
        row = len(prefixes) * size
        for lo in range(0, steps, BLOCK_STEPS):
            hi = min(lo + BLOCK_STEPS, steps)
            block = np.zeros((hi - lo, len(prefixes), size), dtype=np.uint8)
            near = (on < hi) & (off > lo)
            for a, b, k, i in zip(on[near].tolist(), off[near].tolist(), inst[near].tolist(), key[near].tolist()):
                block[max(a + 1, lo) - lo : b - lo, k, i] = 2
                if a >= lo:
                    block[a - lo, k, i] = 1
            digits = (block + ord("0")).tobytes().decode("ascii")
            for t in range(lo, hi):
                if not changed[t]:
                    out.append(letters[t])
                else:
                    base = (t - lo) * row
                    out += [pre + digits[base + x : base + y] for pre, x, y in spans]
        return out

    def parse(self, text: str) -> tuple[dict[str, list[GridNote]], dict[str, Any]]:
        """Words -> grid notes and counts. A step is a letter, or a run of instrument words in
        score order (an instrument out of order or repeated starts the next step). Words that are
        neither, unknown prefixes and words of the wrong length are skipped and counted
        (``dropped``); a ``2`` with no note sounding strikes one (``repaired``); notes still
        sounding end with the text."""
        o = self.options
        size = o.note_range
        dropped = repaired = 0
        step = 0  # the step being written
        last_rank = -1  # rank of the last instrument word in this step; -1: none yet
        sounding: dict[str, dict[int, int]] = {}  # prefix -> key -> on step
        notes: dict[str, list[GridNote]] = {}

        for word in str(text).split():
            if _LETTER.fullmatch(word):
                if last_rank >= 0:
                    step += 1
                    last_rank = -1
                step += 1
                continue
            got = read_step(word, size)
            if got is None:
                dropped += 1
                continue
            pre, digits = got
            rank = RANK[pre]
            if last_rank >= 0 and rank <= last_rank:
                step += 1
            last_rank = rank
            held = sounding.setdefault(pre, {})
            out = notes.setdefault(pre, [])
            for i in [i for i in held if digits[i] != "2"]:  # released, or struck again
                out.append((held.pop(i), step, i))
            for k in _SOUNDING.finditer(digits):
                i = k.start()
                if digits[i] == "1" or i not in held:
                    if digits[i] == "2":
                        repaired += 1
                    held[i] = step
        if last_rank >= 0:
            step += 1
        for pre, held in sounding.items():
            for i, on in held.items():
                notes[pre].append((on, max(step, on + 1), i))
        stats = {"dropped": dropped, "repaired": repaired, "notes": sum(len(v) for v in notes.values()), "quarters": step / o.steps_per_quarter}
        return notes, stats

    # Time, for generation: a letter is a step, so is each run of instrument words in score order

    def steps(self, words: list[str]) -> list[int]:
        """The grid step (counting from 1) each word is in."""
        out, now, last_rank = [], 0, None
        for w in words:
            if w.startswith("<"):  # a label (see .labels): no time
                out.append(now)
                continue
            if re.fullmatch(r"[a-z]", w):
                now += 1
                last_rank = None
            else:
                m = re.fullmatch(r"([a-z]+)[012]+", w)
                rank = RANK.get(m.group(1), 0) if m else 0
                if last_rank is None or rank <= last_rank:
                    now += 1  # a new step starts with its first instrument
                last_rank = rank
            out.append(now)
        return out

    def begins(self, words: list[str], ends: list[int]) -> list[int]:
        """A word is in its step (counting from 1): it begins one step before."""
        return [max(e - 1, 0) for e in ends]

    def reached(self, tokens: list[str], units: int) -> bool:
        """Step ``units`` is whole once the step after it has begun."""
        return self.reach(tokens) >= units + 1

    def cut(self, tokens: list[str], units: int, vocab: list[str]) -> list[str]:
        """The first ``units`` whole steps."""
        return next((tokens[:k] for k, v in enumerate(self.steps(tokens)) if v > units), tokens)

    def chord_clock(self, vocab: list[str]) -> Any:
        """How the words move time, for the chord sampler (``--chords``): a step as :meth:`steps`
        counts it, so a bar's chord word comes before the first word of its first step, as
        :meth:`~cadenza.codecs.midi.MidiCodec.with_bar_words` writes it in training."""
        from cadenza.codecs.chord_constraint import StepClock

        return StepClock(vocab, RANK)
