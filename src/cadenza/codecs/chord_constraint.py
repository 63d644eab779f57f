"""The sampler writes each bar's chord (``--chords``) for a word model prepared with chords
(:mod:`.bar_chords`): where a bar begins on the grid, the chord asked for that bar is offered
(the progression repeats when the piece is longer) and nothing that would begin the bar without
it; elsewhere chord words are not offered, nor a word that would step over a bar line, so every
bar line is reached and written. Bars are the context's metre from the prime's first step, and
chord ``k`` of the progression goes on bar ``k`` of the text: the prime's own chord words (a
form's earlier phrases, a continued file's bars read by the chord reader) are bars already told,
so the sampler writes from the first bar after them (a continuation's progression is turned to
start there, :func:`cadenza.generation.chords.with_progression`). The same protocol as
:class:`~cadenza.codecs.kern.constraint.KernConstraint` (``apply``/``observe``/``push``,
``pick``, ``select``, ``forced``), so every decoding loop takes it.

How a word moves time is the codec's: a :class:`WaitClock` (notewise: a ``wait`` moves time on)
or a :class:`StepClock` (chordwise: a letter, or a run of instrument words in score order, is
one step).

Chord guidance (``context["chord_strength"]``, :mod:`.chord_tones`): among the note-on words
(``p<k>``), those whose pitch class is a tone of the bar's chord are favoured, once more a tone
not yet heard in the bar; the release (``endp<k>``) of a note still sounding that is not one is
favoured, and while a note that is no tone of the next bar's chord sounds, the waits that would carry it
over the bar line are disfavoured against those that stop at it. A note held over the bar line
would otherwise sound the last bar's chord into the next one, where the chord reader hears it
first and takes the bass from it (the bundled piano model, primed with one step of silence,
often strikes a step off the beat and holds its notes across the bar line). A model without
chord words (every bundled one) is guided only: nothing is masked or written, and bar ``k`` is
the ``k``-th bar of the metre from the prime's first step.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from cadenza import CadenzaError
from cadenza.codecs.bar_chords import chord_tokens, is_chord_word
from cadenza.codecs.chord_tones import favour
from cadenza.codecs.grid import LOWEST
from cadenza.music.harmony import parse_chord

if TYPE_CHECKING:  # the torch loop and beams hand tensors; the numpy loop uses pick()
    import torch

FORCE_BELOW = 0.01
_KEY0 = LOWEST[88] % 12  # every note range of the grid starts on an A (tests/test_chord_guidance.py): key k is pitch class (9 + k) % 12
_NOTE_ON = re.compile(r"(?!end|wait)[a-z]+(\d+)")


def bar_steps_of(context: dict[str, Any], steps_per_quarter: int) -> int:
    """Grid steps a bar of the context's metre lasts (4/4 where it names none)."""
    num, den = (context.get("time_signature") or [4, 4])[:2]
    return max(1, round(steps_per_quarter * 4 * int(num) / int(den)))


def asked_chords(context: dict[str, Any], steps_per_quarter: int, end: float) -> list[tuple[float, str]]:
    """(quarter, chord name) at each bar start before ``end`` of a text sampled under
    ``context["chords"]``: bar ``k`` of the metre from the text's first step takes chord ``k``, as
    :class:`WordChords` counted them, so a decoded sample shows the chords it was asked for."""
    names = list(context.get("chords") or [])
    if not names:
        return []
    bar = bar_steps_of(context, steps_per_quarter)
    count = int(np.ceil(end * steps_per_quarter / bar - 1e-9))
    return [(k * bar / steps_per_quarter, names[k % len(names)]) for k in range(count)]


def note_on_classes(vocab: list[str]) -> np.ndarray:
    """Per notewise word, the pitch class a note-on (``p20``, ``v3``) strikes; -1 for others."""
    return np.array([(_KEY0 + int(m.group(1))) % 12 if (m := _NOTE_ON.fullmatch(t)) else -1 for t in vocab])


class WaitClock:
    """Notewise time: the state is the grid step reached; a ``wait<n>`` moves it ``n`` on, every
    other word takes no time, so a note word at the bar line belongs to the new bar."""

    def __init__(self, vocab: list[str], wait_steps: Callable[[str], int | None]):
        self.waits = np.array([wait_steps(t) or 0 for t in vocab])
        self.chord = np.array([is_chord_word(t) for t in vocab])
        self.pitch_class = note_on_classes(vocab)  # what guidance favours

    def start(self) -> Any:
        return 0

    def now(self, state: Any) -> int:
        return state

    def advance(self, state: Any, i: int) -> Any:
        return state + int(self.waits[i])

    def allowed(self, state: Any, room: int) -> np.ndarray:
        """Words that may come ``room`` steps before the next bar line (0: at it, none)."""
        if room <= 0:
            return np.zeros(len(self.waits), dtype=bool)
        row = ~self.chord & (self.waits <= room)
        if not (row & (self.waits > 0)).any():  # no wait short enough: any wait, the chord comes late
            row = ~self.chord
        return row


_INSTRUMENT = re.compile(r"([a-z]+)[012]+")


class StepClock:
    """Chordwise time: the state is (steps begun, rank of the last instrument word in the step
    being written, -1: none). A letter begins a step; an instrument word begins one unless it
    follows an instrument of lower rank in score order (then it is the same step); other words
    (labels, chord words) take no time. A step begun at a bar line belongs to the new bar, but
    the instruments of the step in progress may still be written."""

    def __init__(self, vocab: list[str], rank: dict[str, int]):
        self.chord = np.array([is_chord_word(t) for t in vocab])
        self.letter = np.array([re.fullmatch(r"[a-z]", t) is not None for t in vocab])
        ranks = []
        for t in vocab:
            m = _INSTRUMENT.fullmatch(t)
            ranks.append(rank.get(m.group(1), 0) if m else -1)
        self.rank = np.array(ranks)
        self.instrument = self.rank >= 0
        self.pitch_class = np.full(len(vocab), -1)  # a step's letters name no one pitch: nothing to guide

    def start(self) -> Any:
        return (0, -1)

    def now(self, state: Any) -> int:
        return state[0]

    def advance(self, state: Any, i: int) -> Any:
        now, last = state
        if self.letter[i]:
            return (now + 1, -1)
        r = int(self.rank[i])
        if r < 0:
            return state
        return (now + 1, r) if last < 0 or r <= last else (now, r)

    def allowed(self, state: Any, room: int) -> np.ndarray:
        if room > 0:
            return ~self.chord
        last = state[1]
        return self.instrument & (self.rank > last) if last >= 0 else np.zeros(len(self.rank), dtype=bool)


class WordChords:
    """Per sample: the clock's state, the chord words written (bars told), and the steps the
    sampler forced on the model (its own chord words are not counted)."""

    def __init__(self, vocab: list[str], context: dict[str, Any], n: int, prefix: str, steps_per_quarter: int, clock: Any):
        self.bar = bar_steps_of(context, steps_per_quarter)
        self.vocab, self.clock = vocab, clock
        self.stoi = {t: i for i, t in enumerate(vocab)}
        words = chord_tokens(list(context["chords"]), "word")
        self.strength = float(context.get("chord_strength") or 0)  # checked by the request
        self.writes = bool(clock.chord.any())  # a model prepared with chords writes them; any other is only guided
        missing = [c for c in words if c not in self.stoi]
        if missing and self.writes:
            raise CadenzaError(f"--chords: this model's words lack {', '.join(missing[:5])}; prepare its dataset with --condition chords (and --transpose all for every key)")
        if not self.writes and not (self.strength and (clock.pitch_class >= 0).any()):
            raise CadenzaError("--chords: this model has no chord words (prepare its dataset with --condition chords)" + (
                               "; give --chord-strength above 0 to follow them by guidance" if (clock.pitch_class >= 0).any() else ", and its words name no pitch to guide"))
        self.asked = [self.stoi[c] for c in words] if self.writes else []
        self.progression = [parse_chord(c) for c in context["chords"]]
        self.note_on = clock.pitch_class >= 0
        self._favoured: dict[int, np.ndarray] = {}
        on = {t: i for i, t in enumerate(vocab) if self.note_on[i]}
        self.release_of = {on[t[3:]]: i for i, t in enumerate(vocab) if t.startswith("end") and t[3:] in on}  # note-on id -> its release's id
        self.releases = {i: on_id for on_id, i in self.release_of.items()}
        self.sounding: list[set[int]] = [set() for _ in range(n)]
        self.heard: list[tuple[int, set[int]]] = [(-1, set()) for _ in range(n)]  # (bar, pitch classes struck in it)
        state, told = clock.start(), 0
        for w in prefix.split():
            if is_chord_word(w):
                told += 1
            elif w in self.stoi:
                state = clock.advance(state, self.stoi[w])
        self.state, self.written = [state] * n, [told] * n
        self.forced = [0] * n
        self.meters: list[Any] = [None] * n  # bars are the context's metre: nothing to declare
        self._changed: list[bool] | None = None

    def rows(self) -> np.ndarray:
        if not self.writes:
            return np.ones((len(self.state), len(self.vocab)), dtype=bool)
        out = []
        for state, k in zip(self.state, self.written):
            room = k * self.bar - self.clock.now(state)
            row = self.clock.allowed(state, room)
            if room <= 0:
                row = row.copy()
                row[self.asked[k % len(self.asked)]] = True
            out.append(row)
        return np.stack(out) if out else np.zeros((0, len(self.vocab)), dtype=bool)

    def _forcing(self, r: int) -> bool:
        return self.writes and self.clock.now(self.state[r]) >= self.written[r] * self.bar

    def _bar(self, r: int) -> int:
        """The bar sample ``r`` is in, counted from the prime's first step (-1: before the first)."""
        return self.written[r] - 1 if self.writes else self.clock.now(self.state[r]) // self.bar

    def bar_chord(self, r: int) -> int:
        """The progression's index for the bar sample ``r`` is in (-1: before the first)."""
        k = self._bar(r)
        return k % len(self.progression) if k >= 0 else -1

    def guided(self, logits: np.ndarray) -> np.ndarray:
        """``logits`` with each row's note-ons on its bar's chord tones favoured, twice over for
        a tone not heard yet in the bar (a bar of only C and E reads as C, not Am: the chord
        reader wants every tone); the note-ons keep their share of probability. Releases of
        sounding notes that are not tones of the bar get ``strength`` more, and the waits are
        steered to the bar line (:meth:`_stop_at_bar_line`)."""
        if not self.strength:
            return logits
        out = logits
        for r in range(len(self.state)):
            k = self.bar_chord(r)
            if k < 0:
                continue
            fav = self._favoured.get(k)
            if fav is None:
                fav = self._favoured[k] = self.note_on & np.isin(self.clock.pitch_class, self.progression[k].pitch_classes)
            base = logits[r]  # a new view at each indexing: compared by identity below
            unheard = fav & ~np.isin(self.clock.pitch_class, list(self._heard(r)))
            row = favour(favour(base, self.note_on, unheard, self.strength), self.note_on, fav, self.strength)
            tones = self.progression[k].pitch_classes
            off = [self.release_of[i] for i in self.sounding[r] if self.clock.pitch_class[i] not in tones and i in self.release_of]
            if off:
                row = row.copy() if row is base else row
                row[off] += self.strength
            row = self._stop_at_bar_line(r, row)
            if row is not base:
                out = logits.copy() if out is logits else out
                out[r] = row
        return out

    def _heard(self, r: int) -> set[int]:
        """Pitch classes struck in sample ``r``'s bar so far, or sounding now."""
        bar, struck = self.heard[r]
        return (struck if bar == self._bar(r) else set()) | {int(self.clock.pitch_class[i]) for i in self.sounding[r]}

    def _stop_at_bar_line(self, r: int, row: np.ndarray) -> np.ndarray:
        """While a note sounds that is no tone of the next bar's chord, the waits that would
        carry it over the bar line are disfavoured against those that stop at it or before (the
        waits keep their share): the note ends at the bar line, where its release is favoured,
        instead of sounding the last chord into the next bar (its bass above all, which the
        chord reader takes at the bar's first onset). Only a wait moves time with notes
        sounding (a notewise clock); a chordwise sample has none sounding."""
        if not self.sounding[r]:
            return row
        nxt = self._bar(r) + 1
        tones = self.progression[nxt % len(self.progression)].pitch_classes
        if all(self.clock.pitch_class[i] in tones for i in self.sounding[r]):
            return row
        room = nxt * self.bar - self.clock.now(self.state[r])
        waits = self.clock.waits > 0
        return favour(row, waits, waits & (self.clock.waits <= room), self.strength)

    def mask(self) -> torch.Tensor:
        import torch

        return torch.from_numpy(self.rows())

    def apply(self, logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        m = self.mask()
        if self.strength:
            import torch

            logits = torch.from_numpy(self.guided(logits.detach().cpu().numpy().copy())).to(logits)
        self._mask = m
        mass = (logits.softmax(-1) * m).sum(-1)
        return logits.masked_fill(~m, float("-inf")), mass < FORCE_BELOW

    def observe(self, free: torch.Tensor) -> None:
        self._changed = (~self._mask.gather(1, free.long()[:, None])[:, 0]).tolist()

    def push(self, tokens: torch.Tensor, forced: torch.Tensor) -> torch.Tensor:
        import torch

        changed, self._changed = self._changed, None
        return torch.tensor(self._push_rows(tokens.tolist(), changed), dtype=tokens.dtype)

    def pick(self, logits: np.ndarray, draw) -> np.ndarray:
        m = self.rows()
        logits = self.guided(logits)
        free, chosen = draw(logits, m)
        changed = [not m[r][f] for r, f in enumerate(free.tolist())]
        return np.array(self._push_rows(chosen.tolist(), changed), dtype=np.int64)

    def _push_rows(self, ids: list[int], changed: list[bool] | None) -> list[int]:
        for r, i in enumerate(ids):
            if changed is not None and changed[r] and not self._forcing(r):  # the sampler's chord words are not the model's mistakes
                self.forced[r] += 1
            if self.note_on[i]:
                self.sounding[r].add(i)
                bar = self._bar(r)
                if self.heard[r][0] != bar:
                    self.heard[r] = (bar, set())
                self.heard[r][1].add(int(self.clock.pitch_class[i]))
            elif i in self.releases:
                self.sounding[r].discard(self.releases[i])
            if self.clock.chord[i]:
                self.written[r] += 1
            else:
                self.state[r] = self.clock.advance(self.state[r], i)
        return ids

    def declarations(self, r: int) -> list[tuple[int, str]]:
        return []

    def select(self, index: torch.Tensor) -> None:
        idx = index.tolist()
        self.state = [self.state[i] for i in idx]
        self.written = [self.written[i] for i in idx]
        self.forced = [self.forced[i] for i in idx]
        self.sounding = [set(self.sounding[i]) for i in idx]
        self.heard = [(self.heard[i][0], set(self.heard[i][1])) for i in idx]
        self.meters = [self.meters[i] for i in idx]
