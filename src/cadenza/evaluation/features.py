"""The musical statistics of one piece, each a number or a histogram that two sets of pieces can
be compared by (:mod:`cadenza.evaluation.similarity`). :data:`FEATURES` is the table the report
walks; the method text of the report (:mod:`cadenza.evaluation.method`) defines each one."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from cadenza.evaluation.pieces import bar_bounds, onset_groups, piece_notes
from cadenza.music import Note, Piece

# Note-length / IOI classes in quarters (name, value): 32nd to breve, dotted and triplet values.
LENGTH_CLASSES: tuple[tuple[str, float], ...] = (
    ("1/32", 0.125), ("1/16t", 1 / 6), ("1/16", 0.25), ("1/8t", 1 / 3), ("1/16.", 0.375), ("1/8", 0.5),
    ("1/4t", 2 / 3), ("1/8.", 0.75), ("1/4", 1.0), ("1/2t", 4 / 3), ("1/4.", 1.5), ("1/2", 2.0),
    ("1/2.", 3.0), ("1", 4.0), ("1.", 6.0), ("breve", 8.0),
)
_LOG_CLASSES = np.log2([v for _, v in LENGTH_CLASSES])
PITCH_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
MAJOR = (0, 2, 4, 5, 7, 9, 11)
NATURAL_MINOR = (0, 2, 3, 5, 7, 8, 10)
CONSONANT = frozenset({0, 3, 4, 7, 8, 9})
GROOVE_STEPS = 12  # grid steps per quarter for groove consistency


def pitch_class_histogram(piece: Piece) -> np.ndarray:
    """Share of notes per pitch class C..B (zeros for an empty piece)."""
    h = np.zeros(12)
    for n in piece_notes(piece):
        h[n.pitch % 12] += 1
    return h / h.sum() if h.sum() else h


def entropy_bits(hist: np.ndarray) -> float:
    p = np.asarray(hist, dtype=float)
    p = p[p > 0]
    return float(-(p * np.log2(p)).sum()) if p.size else 0.0


def pitch_class_entropy(piece: Piece) -> float:
    return entropy_bits(pitch_class_histogram(piece))


def pitch_range(piece: Piece) -> float:
    ps = [n.pitch for n in piece_notes(piece)]
    return float(max(ps) - min(ps)) if ps else 0.0


def polyphony(piece: Piece) -> float:
    """Mean number of notes sounding (start <= t < end) at each distinct note onset t."""
    notes = piece_notes(piece)
    if not notes:
        return 0.0
    starts = np.sort([n.start for n in notes])
    ends = np.sort([n.start + n.duration for n in notes])
    t = np.unique(starts)
    sounding = np.searchsorted(starts, t + 1e-9, "right") - np.searchsorted(ends, t + 1e-9, "right")
    return float(sounding.mean())


def _length_hist(values: list[float]) -> np.ndarray:
    h = np.zeros(len(LENGTH_CLASSES))
    v = np.asarray([x for x in values if x > 1e-9], dtype=float)
    if v.size:
        idx = np.abs(np.log2(v)[:, None] - _LOG_CLASSES[None, :]).argmin(1)
        np.add.at(h, idx, 1)
        h /= h.sum()
    return h


def note_length_histogram(piece: Piece) -> np.ndarray:
    return _length_hist([n.duration for n in piece_notes(piece)])


def ioi_histogram(piece: Piece) -> np.ndarray:
    times, _ = onset_groups(piece_notes(piece))
    return _length_hist(np.diff(times).tolist())


def best_scale(piece: Piece) -> tuple[str, float]:
    """The major / natural-minor scale holding the most notes, and the share it holds (1.0 for
    a piece entirely in one scale). Ties prefer major and the lower tonic."""
    counts = np.zeros(12)
    for n in piece_notes(piece):
        counts[n.pitch % 12] += 1
    total = counts.sum()
    if not total:
        return "", 0.0
    best = ("", -1.0)
    for mode, steps in (("major", MAJOR), ("minor", NATURAL_MINOR)):
        for root in range(12):
            share = sum(counts[(root + s) % 12] for s in steps) / total
            if share > best[1] + 1e-12:
                best = (f"{PITCH_NAMES[root]} {mode}", float(share))
    return best


def scale_consistency(piece: Piece) -> float:
    return best_scale(piece)[1]


def groove_consistency(piece: Piece, steps_per_quarter: int = GROOVE_STEPS) -> float:
    """1 - mean Hamming distance between consecutive bars' onset patterns (Wu & Yang 2020), each
    distance divided by the bar's number of grid steps. NaN for a piece of fewer than two bars."""
    notes = piece_notes(piece)
    if not notes:
        return float("nan")
    bounds = bar_bounds(piece, max(piece.end, notes[-1].start + 1e-6))
    if len(bounds) < 3:
        return float("nan")
    patterns = []
    starts = np.array([n.start for n in notes])
    for a, b in zip(bounds[:-1], bounds[1:]):
        size = max(1, int(round((b - a) * steps_per_quarter)))
        pat = np.zeros(size, dtype=bool)
        sel = starts[(starts >= a - 1e-9) & (starts < b - 1e-9)]
        pos = np.clip(np.round((sel - a) * steps_per_quarter).astype(int), 0, size - 1)
        pat[pos] = True
        patterns.append(pat)
    dists = []
    for p, q in zip(patterns[:-1], patterns[1:]):
        size = max(p.size, q.size)
        pp, qq = np.zeros(size, bool), np.zeros(size, bool)
        pp[: p.size], qq[: q.size] = p, q
        dists.append(np.count_nonzero(pp != qq) / size)
    return float(1.0 - np.mean(dists))


def empty_beat_rate(piece: Piece) -> float:
    """Share of beats (the opening time signature's denominator: a half note in 4/2, a quarter
    in 4/4) from the start to the end of the last note in which no note sounds."""
    notes = piece_notes(piece)
    end = piece.end
    if not notes or end <= 0:
        return float("nan")
    beat = 4.0 / (sorted(piece.time_signatures)[0][2] if piece.time_signatures else 4)
    n_beats = max(1, int(math.ceil(end / beat - 1e-9)))
    filled = np.zeros(n_beats + 1, dtype=int)
    for n in notes:
        a = int(math.floor(n.start / beat + 1e-9))
        b = max(a + 1, int(math.ceil((n.start + n.duration) / beat - 1e-9)))
        filled[min(a, n_beats)] += 1
        filled[min(b, n_beats)] -= 1
    busy = np.cumsum(filled)[:n_beats] > 0
    return float(1.0 - busy.mean())


def vertical_intervals(piece: Piece) -> list[tuple[int, bool]]:
    """(semitones between the two notes, whether the lower one is the bass) for every pair of
    notes sounding together at an onset, at least one of them starting there."""
    notes = piece_notes(piece)
    out: list[tuple[int, bool]] = []
    active: list[Note] = []
    times, groups = onset_groups(notes)
    for t, group in zip(times, groups):
        active = [n for n in active if n.start + n.duration > t + 1e-9]
        sounding = active + group
        bass = min(n.pitch for n in sounding)
        new = set(map(id, group))
        for i in range(len(sounding)):
            for j in range(i + 1, len(sounding)):
                a, b = sounding[i], sounding[j]
                if id(a) not in new and id(b) not in new:
                    continue
                lo = min(a.pitch, b.pitch)
                out.append((abs(a.pitch - b.pitch), lo == bass))
        active = sounding
    return out


def consonance(piece: Piece, fourth_upper: bool = True) -> float:
    """Share of vertical intervals (see :func:`vertical_intervals`) that are consonant: mod 12 in
    {0, 3, 4, 7, 8, 9}, and 5 (perfect fourth) when ``fourth_upper`` and the lower note is not
    the bass. NaN when no two notes ever sound together."""
    pairs = vertical_intervals(piece)
    if not pairs:
        return float("nan")
    good = sum(1 for iv, with_bass in pairs if iv % 12 in CONSONANT or (fourth_upper and iv % 12 == 5 and not with_bass))
    return good / len(pairs)


INTERVAL_NAMES = ("P1/8", "m2", "M2", "m3", "M3", "P4", "TT", "P5", "m6", "M6", "m7", "M7")


def interval_class_counts(piece: Piece) -> np.ndarray:
    """How many of the vertical intervals (see :func:`vertical_intervals`) fall in each class,
    semitones mod 12 (:data:`INTERVAL_NAMES`): which intervals make the consonance figure."""
    h = np.zeros(12)
    for iv, _ in vertical_intervals(piece):
        h[iv % 12] += 1
    return h


def notes_per_bar(piece: Piece) -> float:
    """Notes divided by the bars the time signatures lay over the piece."""
    notes = piece_notes(piece)
    bars = max(1, len(bar_bounds(piece)) - 1)
    return len(notes) / bars


@dataclass(frozen=True)
class Feature:
    """One row of the table: its key in ``report.json``, its label in the report, the function,
    and whether it gives a number (``"scalar"``) or a histogram (``"hist"``)."""

    name: str
    label: str
    fn: Callable[[Piece], Any]
    kind: str  # "scalar" | "hist"
    unit: str = ""


FEATURES: tuple[Feature, ...] = (
    Feature("pitch_class_histogram", "Pitch-class histogram", pitch_class_histogram, "hist"),
    Feature("pitch_class_entropy", "Pitch-class entropy", pitch_class_entropy, "scalar", "bits"),
    Feature("pitch_range", "Pitch range", pitch_range, "scalar", "semitones"),
    Feature("polyphony", "Polyphony (notes sounding at onsets)", polyphony, "scalar", "notes"),
    Feature("note_length_histogram", "Note-length histogram", note_length_histogram, "hist"),
    Feature("ioi_histogram", "Inter-onset-interval histogram", ioi_histogram, "hist"),
    Feature("scale_consistency", "Scale consistency", scale_consistency, "scalar", "share"),
    Feature("groove_consistency", "Groove consistency", groove_consistency, "scalar", "share"),
    Feature("empty_beat_rate", "Empty-beat rate", empty_beat_rate, "scalar", "share"),
    Feature("consonance", "Consonant vertical intervals", consonance, "scalar", "share"),
    Feature("notes_per_bar", "Notes per bar", notes_per_bar, "scalar", "notes"),
)


def piece_features(piece: Piece) -> dict[str, Any]:
    """Every feature of :data:`FEATURES` for one piece (histograms as numpy arrays)."""
    return {f.name: f.fn(piece) for f in FEATURES}

