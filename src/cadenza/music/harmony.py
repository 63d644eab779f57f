"""Which chord sounds in a span of a :class:`~cadenza.music.piece.Piece`: a deterministic
template reader, fast enough for every bar of a corpus.

Each pitch class is weighted by how long it sounds in the span, more where its note begins on
the span's start or on a beat, less where it is held over from before (a suspension); every root x quality of :data:`~cadenza.music.chord_names.QUALITIES`
is scored by the weight its chord tones hold, less the weight outside them and a penalty per
missing chord tone, with a bonus where the bass is the root. That is Pardo & Birmingham's
template matching ("Algorithms for chordal analysis", Computer Music Journal 26(2), 2002), with
Temperley's metrical and bass preferences (The Cognition of Basic Musical Structures, 2001,
ch. 6) as weights rather than rules. The weights were set against the RomanText analyses in
music21's corpus (``benchmarks/chord_reader.py``: about 95% of the roots of the Bach chorale
analyses). All 132 templates are one matrix and all the spans of a piece are read together, so
a corpus is read at tens of thousands of bars a second.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

from cadenza import CadenzaError
from cadenza.music.chord_names import NO_CHORD, QUALITIES, Chord, Key, parse_chord, parse_key, parse_progression, parse_roman, roman
from cadenza.music.piece import Note, Piece

__all__ = ["Bar", "Chord", "bar_grid", "Key", "NO_CHORD", "QUALITIES", "ReaderOptions", "bar_chords", "bars", "parse_chord",
           "parse_key", "parse_progression", "parse_roman", "piece_key", "read_chord", "read_chords", "roman"]

EPS = 1e-6


@dataclass(frozen=True)
class ReaderOptions:
    """The reader's weights, in shares of the span's total weight (which sums to 1)."""

    onset_bonus: float = 2.0  # extra weight (x duration) for a note that begins on the span's start
    beat_bonus: float = 1.0  # ... that begins on another beat
    held: float = 0.7  # weight of a note held over from before the span (often a suspension)
    outside: float = 0.8  # penalty per unit of weight on pitch classes outside the chord
    missing: float = 0.3  # penalty per missing chord tone (x its importance: fifths count half)
    present: float = 0.08  # a chord tone with less weight than this counts as partly missing
    bass_root: float = 0.12  # bonus where the bass is the chord's root
    bass_outside: float = 0.1  # penalty where the bass is not a chord tone at all
    threshold: float = 0.2  # no template scoring this much: N


READER = ReaderOptions()
# simpler chords first: a seventh, a sus or an augmented triad must earn its place (a passing
# note makes a triad look like a seventh chord, a suspension like a sus chord)
_PRIOR = {"major": 0.0, "minor": -0.03, "diminished": -0.03, "augmented": -0.2, "dominant7": -0.06, "minor7": -0.12,
          "major7": -0.25, "half-diminished7": -0.08, "diminished7": -0.06, "sus4": -0.15, "sus2": -0.18}


def _templates() -> tuple[np.ndarray, ...]:
    """(mask, importance, prior, root, quality index) for every quality x root, qualities in
    :data:`QUALITIES` order, so ``argmax`` breaks ties toward the simpler chord and lower root."""
    names = list(QUALITIES)
    mask = np.zeros((len(names) * 12, 12))
    importance = np.zeros_like(mask)
    for q, name in enumerate(names):
        for root in range(12):
            for i in QUALITIES[name][1]:
                mask[q * 12 + root, (root + i) % 12] = 1.0
                importance[q * 12 + root, (root + i) % 12] = 0.5 if i == 7 else 1.0
    prior = np.repeat([_PRIOR[n] for n in names], 12)
    return mask, importance, prior, np.tile(np.arange(12), len(names)), np.repeat(np.arange(len(names)), 12)


_MASK, _IMPORTANCE, _PRIOR_V, _ROOTS, _QUALITY = _templates()
_NAMES = list(QUALITIES)


@dataclass(frozen=True)
class Bar:
    """One bar: start and length in quarters, and its time signature."""

    start: float
    length: float
    numerator: int
    denominator: int

    @property
    def beat(self) -> float:
        """The beat in quarters: a dotted one in compound metres (6/8, 9/8, 12/8), else 4/den."""
        unit = 4.0 / self.denominator
        return 3 * unit if self.numerator % 3 == 0 and self.numerator > 3 and self.denominator >= 8 else unit


def bars(piece: Piece) -> list[Bar]:
    """The bars of ``piece`` up to its last note, from its time signatures. A signature that
    falls inside a bar ends that bar early (a short bar), as a pickup does."""
    return bar_grid(piece.time_signatures, piece.end)


def bar_grid(time_signatures: Iterable[Sequence[float]], end: float) -> list[Bar]:
    """The bars up to ``end`` quarters from ``(quarter, numerator, denominator)`` signatures
    (as :func:`bars` reads a Piece's), for codecs that keep the signatures apart from the notes."""
    sigs = sorted({float(q): (int(n), int(d)) for q, n, d in time_signatures if n > 0 and d > 0}.items())
    if not sigs or sigs[0][0] > 0:
        sigs.insert(0, (0.0, (4, 4)))
    starts = [q for q, _ in sigs]
    out: list[Bar] = []
    pos = 0.0
    while pos < end - EPS:
        i = bisect_right(starts, pos + EPS) - 1
        num, den = sigs[i][1]
        length = num * 4.0 / den
        if i + 1 < len(sigs) and starts[i + 1] < pos + length - EPS:
            length = starts[i + 1] - pos
        out.append(Bar(pos, length, num, den))
        pos += length
    return out


class _Notes:
    """Notes as numpy arrays sorted by onset, read for many spans at once: each span's notes are
    found by binary search, and every (span, note) pair is one element of flat arrays."""

    def __init__(self, notes: Iterable[Note]):
        kept = sorted((n.start, n.start + n.duration, n.pitch) for n in notes if n.duration > 0)
        arr = np.array(kept, dtype=float).reshape(-1, 3)
        self.starts, self.ends, self.pitches = arr[:, 0], arr[:, 1], arr[:, 2].astype(int)
        self.longest = float((self.ends - self.starts).max()) if len(kept) else 0.0

    def weights(self, spans: np.ndarray, o: ReaderOptions) -> tuple[np.ndarray, np.ndarray]:
        """For spans (rows of start, end, bar start, beat): the weight of each pitch class (rows
        summing to 1, or to 0 where nothing sounds) and the bass pitch class (-1: none)."""
        start, end, bar_start, beat = spans.T
        lo = np.searchsorted(self.starts, start - self.longest - EPS)
        counts = np.maximum(np.searchsorted(self.starts, end - EPS) - lo, 0)
        span = np.repeat(np.arange(len(spans)), counts)
        note = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts - lo, counts)
        s, e, p, a = self.starts[note], self.ends[note], self.pitches[note], start[span]
        overlap = np.minimum(e, end[span]) - np.maximum(s, a)
        keep = overlap > EPS
        span, s, e, p, a, overlap = span[keep], s[keep], e[keep], p[keep], a[keep], overlap[keep]
        phase = (s - bar_start[span]) / beat[span]
        on_beat = np.abs(phase - np.round(phase)) < EPS
        factor = np.where(s < a - EPS, o.held, 1.0 + np.where(np.abs(s - a) <= EPS, o.onset_bonus, on_beat * o.beat_bonus))
        v = np.bincount(span * 12 + p % 12, weights=overlap * factor, minlength=12 * len(spans)).reshape(-1, 12)
        total = v.sum(axis=1, keepdims=True)
        v = np.divide(v, total, out=np.zeros(v.shape), where=total > 0)
        first = np.full(len(spans), np.inf)  # the bass: the lowest note sounding at the first onset
        np.minimum.at(first, span, np.maximum(s, a))
        at_first = (s <= first[span] + EPS) & (e > first[span] + EPS)
        low = np.full(len(spans), 1 << 20)
        np.minimum.at(low, span[at_first], p[at_first])
        return v, np.where(low < 1 << 20, low % 12, -1)


def _best(v: np.ndarray, bass: np.ndarray, o: ReaderOptions) -> list[Chord]:
    """The best-scoring template for each row of weights ``v`` (spans x 12) and bass pitch class
    (-1: nothing sounds), or N (see :func:`read_chord`)."""
    missing = np.clip(1.0 - v / o.present, 0.0, 1.0)
    score = (1.0 + o.outside) * (v @ _MASK.T) - o.outside - o.missing * (missing @ _IMPORTANCE.T) + _PRIOR_V
    b = np.maximum(bass, 0)
    score += o.bass_root * (_ROOTS[None, :] == b[:, None]) - o.bass_outside * (_MASK[:, b].T == 0)
    best = np.argmax(score, axis=1)
    top = score[np.arange(len(best)), best]
    chord = (bass >= 0) & (np.count_nonzero(v >= o.present, axis=1) >= 2) & (top >= o.threshold)
    out = []
    for k, bs, ok in zip(best.tolist(), bass.tolist(), chord.tolist()):
        out.append(Chord(int(_ROOTS[k]), _NAMES[_QUALITY[k]], bs if _MASK[k, bs] else None) if ok else NO_CHORD)
    return out


def read_chords(source: Piece | Iterable[Note], spans: Sequence[tuple], options: ReaderOptions = READER) -> list[Chord]:
    """The chord of each span: ``(start, end)`` in quarters, or ``(start, end, bar_start, beat)``.
    Without the bar, a Piece's own bars give it (notes alone: the span's start, quarter beats).
    A Piece gives the notes of its non-drum tracks."""
    piece = source if isinstance(source, Piece) else None
    grid = bars(piece) if piece is not None else []
    starts = [b.start for b in grid]
    rows = []
    for span in spans:
        start, end = float(span[0]), float(span[1])
        if end <= start:
            raise CadenzaError(f"chord span [{start}, {end}): ends before it starts")
        bar_start, beat = (span[2] if len(span) > 2 else None), (span[3] if len(span) > 3 else None)
        if bar_start is None or not beat:
            bar = grid[max(bisect_right(starts, start + EPS) - 1, 0)] if grid else Bar(start, end - start, 4, 4)
            bar_start, beat = bar.start if bar_start is None else bar_start, beat or bar.beat
        rows.append((start, end, float(bar_start), float(beat)))
    return _read(_notes_of(source), np.array(rows, dtype=float).reshape(-1, 4), options)


def _notes_of(source: Piece | Iterable[Note]) -> _Notes:
    return _Notes(n for t in source.tracks if not t.is_drum for n in t.notes) if isinstance(source, Piece) else _Notes(source)


def _read(notes: _Notes, spans: np.ndarray, options: ReaderOptions) -> list[Chord]:
    return _best(*notes.weights(spans, options), options) if len(spans) else []


def read_chord(source: Piece | Iterable[Note], start: float, end: float, bar_start: float | None = None, beat: float | None = None,
               options: ReaderOptions = READER) -> Chord:
    """The chord sounding in [start, end) quarters (see the module's docstring for how). The
    bass (lowest note at the first onset) is returned where it is another chord tone (an
    inversion); the root stays the true root. N where nothing sounds, where fewer than two pitch
    classes each hold ``options.present`` of the weight (a lone note or its octaves is no
    chord), or where no template scores ``options.threshold``."""
    return read_chords(source, [(start, end, bar_start, beat)], options)[0]


def bar_chords(piece: Piece, per_bar: int = 1, options: ReaderOptions = READER) -> list[Chord]:
    """One chord per bar of ``piece`` (``per_bar=2``: per half bar, and so on: equal parts)."""
    if per_bar < 1:
        raise CadenzaError(f"per_bar {per_bar}: give 1 (a chord a bar), 2 (half bars) or more")
    spans = [(b.start + k * b.length / per_bar, b.start + (k + 1) * b.length / per_bar, b.start, b.beat) for b in bars(piece) for k in range(per_bar)]
    return _read(_notes_of(piece), np.array(spans, dtype=float).reshape(-1, 4), options)


def piece_key(piece: Piece) -> Key | None:
    """The key of ``piece``'s first key signature (for spelling and Roman numerals), if any."""
    return Key.from_signature(*piece.key_signatures[0][1:]) if piece.key_signatures else None
