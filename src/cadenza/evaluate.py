"""Evaluation of a trained run: likelihood, validity, musical statistics, memorisation.

``evaluate(run, out)`` writes ``report.json``, ``report.md`` and ``report.html`` (figures embedded
as base64 PNGs, and written beside as files) into ``out``, plus the samples it judged in
``out/samples``. Every figure in the report is defined here, so the report and this docstring
say the same thing.

Likelihood (held-out **test** split of the run's dataset)
    Each test piece is scored from the model's empty state. Character codecs (kern) condition
    its first token on the separator ``"\\n"`` that precedes every piece in the training stream,
    so every token of the piece is scored; word codecs have no separator, so the first token of
    each piece is not scored. ``nats/token = total nats / tokens scored``;
    ``nats/note = total nats over the test split / number of notes in it`` (notes of the decoded
    pieces: tied notes count once, chord members each); ``nats/second = total nats / seconds of
    music``, a piece lasting ``sum over tempo segments of quarters x 60 / qpm`` up to the end of
    its last note (120 qpm where the piece sets no tempo). Bits = nats / ln 2.

Validity (``n_samples`` samples drawn with fixed seeds)
    *parsed*: kern samples that music21 parses; word codecs decode any text, so a sample
    counts as parsed when it decodes to at least one note. *bars* (kern): every bar position
    of the score; a bar matches when, in every part and every voice of the part, the music fills
    exactly the bar length of the metre (``highestTime == barDuration``). The first bar (pickup)
    and the last (its complement, or a cut-off ending) may be shorter, but must not be longer.
    *repaired/dropped*: the decoder's own counts (kern: lines repaired or dropped by
    :func:`cadenza.codecs.kern.restore`; notewise/chordwise: words dropped, notes repaired or
    left sounding).

Musical statistics (per piece; samples vs held-out excerpts of the same length)
    * pitch-class histogram (note counts, normalised) and its entropy in bits;
    * pitch range (highest - lowest MIDI pitch);
    * polyphony: mean number of notes sounding (start <= t < end) at each distinct onset t;
    * note-length and inter-onset-interval (IOI, between successive distinct onsets of all
      parts) histograms over the classes of :data:`LENGTH_CLASSES` (nearest on a log scale);
    * scale consistency: share of notes whose pitch class lies in the best-fitting of the 24
      major and natural-minor scales (as MusPy; a natural minor scale has its relative major's
      notes, so the share equals that major's; the report names the best major scale);
    * groove consistency (Wu & Yang 2020): ``1 - mean Hamming distance`` between the onset
      patterns of consecutive bars on a grid of 12 steps per quarter, normalised by the
      number of grid steps in a bar (bars from the time signatures);
    * empty-beat rate: share of beats (the time signature's denominator) in which no note sounds;
    * consonance: of the pairs of notes sounding together at each onset (at least one of the
      two starting there), the share whose interval mod 12 is a unison/octave (0), third (3, 4),
      fifth (7) or sixth (8, 9); the perfect fourth (5) counts as consonant only between two
      upper voices (neither note the lowest sounding), as in common-practice counterpoint;
    * notes per bar.

    The held-out pieces are cut into consecutive excerpts as long (in quarters) as the median
    sample, so length-dependent features (range, entropy) compare like with like.

    Headline similarity (Yang & Lerch 2018, "On the evaluation of generative models in music",
    Neural Comput. & Applic. 32): per feature, the *intra-set* distances (all pairs of held-out
    excerpts) and the *inter-set* distances (every sample against every excerpt); distance is
    Euclidean (absolute difference for scalars). Both distance sets are smoothed with a Gaussian
    KDE (``scipy.stats.gaussian_kde``, Scott's bandwidth; a set of one distance, or of equal
    distances, becomes a Gaussian of 10% of the pooled spread). *OA* = the overlapping area
    ``integral of min(p_intra, p_inter)`` (1 = samples as far from the held-out music as it is
    from itself) and *KL* = ``KL(p_intra || p_inter)``, both integrated on one grid spanning the
    two sets plus five bandwidths (mgeval integrates over the data range only). The headline
    is the mean OA over features.

Memorisation (transposition invariant, all parts)
    A piece becomes the sequence of its distinct onsets; each step from onset i-1 to onset i is
    one token: ``(IOI in 1/48 quarters, the pitches starting at onset i minus the highest pitch
    starting at onset i-1)``. Transposing a piece changes no token; chords and every voice are
    in it, so a match is a verbatim copy of the texture, not just of a tune. The training pieces
    (untransposed; their transposed copies give the same tokens) are indexed once: every
    position's next 8 tokens, sorted (a truncated suffix array), so the longest match starting at
    each sample position is found by binary search, and extended past 8 tokens by comparing the
    candidate occurrences. Reported per piece: the longest stretch found in training, in onsets,
    notes (all notes starting at those onsets) and bars (time from its first to its last onset /
    bar length), and the share of 4-bar windows (starting at every barline, at least two onsets)
    whose whole token sequence occurs in a training piece. The same for the held-out test pieces
    is the human baseline; a sample copying more than 9 in 10 test pieces do (a longer stretch in
    notes, or a larger window share, than their 90th percentile) is flagged, and a test piece
    sharing half its windows with training is reported as a likely duplicate across the split.

For kern the memorisation tokens come from :func:`kern_to_piece`, a fast reader of kern text
(a few ms a piece: the training set is too big for music21), applied alike to training, test and
sample texts; statistics and note counts use music21 (:func:`cadenza.scores.score_to_piece`).
"""

from __future__ import annotations

import base64
import html
import json
import math
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from cadenza import CadenzaError
from cadenza.music import Note, Piece
from cadenza.codecs.kern.piece import _kern_subtoken, kern_to_piece  # noqa: F401

if TYPE_CHECKING:
    from cadenza.sample import SamplingOptions

LN2 = math.log(2)
Progress = Callable[[str, int, int], None]

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
IOI_STEPS = 48  # memorisation tokens quantise IOIs to 1/48 quarter
NGRAM = 8  # memorisation index key length (tokens)
SMALL_MODEL = 2_000_000  # parameters; on a CPU such a model samples fastest on one thread
BASELINE_PERCENTILE = 90  # samples copying more than this percentile of held-out pieces are flagged


# --------------------------------------------------------------------------------------------
# Piece helpers


def _notes(piece: Piece) -> list[Note]:
    return sorted(n for t in piece.tracks if not t.is_drum for n in t.notes)


def bar_bounds(piece: Piece, end: float | None = None) -> list[float]:
    """Bar starts from the time signatures, from 0 up to and including the first at or after
    ``end`` (default: the piece's end), so consecutive pairs are the bars covering the piece."""
    end = piece.end if end is None else end
    sigs = sorted(piece.time_signatures) or [(0.0, 4, 4)]
    if sigs[0][0] > 0:
        sigs = [(0.0, 4, 4)] + sigs
    out: list[float] = []
    t = 0.0
    for i, (q, num, den) in enumerate(sigs):
        nxt = sigs[i + 1][0] if i + 1 < len(sigs) else math.inf
        bar = max(num * 4.0 / den, 1e-6)
        t = max(t, q)
        while t < nxt - 1e-9:
            out.append(t)
            if t >= end - 1e-9:
                return out
            t += bar
    return out


def bar_length(piece: Piece, at: float = 0.0) -> float:
    sig = (0.0, 4, 4)
    for s in sorted(piece.time_signatures):
        if s[0] <= at + 1e-9:
            sig = s
    return sig[1] * 4.0 / sig[2]


def seconds(piece: Piece) -> float:
    """Length in seconds up to the end of the last note, at the piece's tempo map."""
    end = piece.end
    tempos = sorted(piece.tempos) or [(0.0, 120.0)]
    if tempos[0][0] > 0:
        tempos = [(0.0, 120.0)] + tempos
    total = 0.0
    for i, (q, qpm) in enumerate(tempos):
        nxt = tempos[i + 1][0] if i + 1 < len(tempos) else math.inf
        if q >= end:
            break
        total += (min(nxt, end) - q) * 60.0 / max(qpm, 1e-6)
    return total


def _onsets(notes: list[Note]) -> tuple[np.ndarray, list[list[Note]]]:
    """Distinct onset times and the notes starting at each."""
    times: list[float] = []
    groups: list[list[Note]] = []
    for n in notes:
        if times and abs(n.start - times[-1]) < 1e-9:
            groups[-1].append(n)
        else:
            times.append(n.start)
            groups.append([n])
    return np.array(times, dtype=float), groups


# --------------------------------------------------------------------------------------------
# Musical features (one piece)


def pitch_class_histogram(piece: Piece) -> np.ndarray:
    """Share of notes per pitch class C..B (zeros for an empty piece)."""
    h = np.zeros(12)
    for n in _notes(piece):
        h[n.pitch % 12] += 1
    return h / h.sum() if h.sum() else h


def entropy_bits(hist: np.ndarray) -> float:
    p = np.asarray(hist, dtype=float)
    p = p[p > 0]
    return float(-(p * np.log2(p)).sum()) if p.size else 0.0


def pitch_class_entropy(piece: Piece) -> float:
    return entropy_bits(pitch_class_histogram(piece))


def pitch_range(piece: Piece) -> float:
    ps = [n.pitch for n in _notes(piece)]
    return float(max(ps) - min(ps)) if ps else 0.0


def polyphony(piece: Piece) -> float:
    """Mean number of notes sounding (start <= t < end) at each distinct note onset t."""
    notes = _notes(piece)
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
    return _length_hist([n.duration for n in _notes(piece)])


def ioi_histogram(piece: Piece) -> np.ndarray:
    times, _ = _onsets(_notes(piece))
    return _length_hist(np.diff(times).tolist())


def best_scale(piece: Piece) -> tuple[str, float]:
    """The major / natural-minor scale holding the most notes, and the share it holds (1.0 for
    a piece entirely in one scale). Ties prefer major and the lower tonic."""
    counts = np.zeros(12)
    for n in _notes(piece):
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
    notes = _notes(piece)
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
    notes = _notes(piece)
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
    notes = _notes(piece)
    out: list[tuple[int, bool]] = []
    active: list[Note] = []
    times, groups = _onsets(notes)
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


def notes_per_bar(piece: Piece) -> float:
    notes = _notes(piece)
    bars = max(1, len(bar_bounds(piece)) - 1)
    return len(notes) / bars


@dataclass(frozen=True)
class Feature:
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


# --------------------------------------------------------------------------------------------
# Yang & Lerch 2018: intra-set vs inter-set distance distributions


def _dist(a: Any, b: Any) -> float:
    return float(np.linalg.norm(np.asarray(a, dtype=float) - np.asarray(b, dtype=float)))


def _valid(v: Any) -> bool:
    return bool(np.all(np.isfinite(np.asarray(v, dtype=float))))


def intra_inter(ref: list[Any], gen: list[Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Intra-set distances of ``ref`` (all pairs), of ``gen``, and inter-set (gen x ref)."""
    ref = [r for r in ref if _valid(r)]
    gen = [g for g in gen if _valid(g)]
    intra_r = [_dist(ref[i], ref[j]) for i in range(len(ref)) for j in range(i + 1, len(ref))]
    intra_g = [_dist(gen[i], gen[j]) for i in range(len(gen)) for j in range(i + 1, len(gen))]
    inter = [_dist(g, r) for g in gen for r in ref]
    return np.array(intra_r), np.array(intra_g), np.array(inter)


class _Density:
    """A Gaussian KDE, or for fewer than two distinct points a Gaussian of width ``fallback``."""

    def __init__(self, x: np.ndarray, fallback: float):
        from scipy.stats import gaussian_kde

        self.x = np.asarray(x, dtype=float)
        self.kde = None
        if self.x.size >= 2 and np.ptp(self.x) > 0:
            try:
                self.kde = gaussian_kde(self.x)
            except Exception:  # singular data
                self.kde = None
        if self.kde is not None:
            self.bw = float(np.sqrt(self.kde.covariance[0, 0]))
        else:
            self.bw = fallback

    def __call__(self, grid: np.ndarray) -> np.ndarray:
        if self.kde is not None:
            return self.kde(grid)
        z = (grid[:, None] - self.x[None, :]) / self.bw
        return np.exp(-0.5 * z * z).sum(1) / (self.x.size * self.bw * math.sqrt(2 * math.pi))


def overlap_kl(intra: np.ndarray, inter: np.ndarray, points: int = 1000) -> tuple[float | None, float | None, dict[str, Any]]:
    """Overlapping area and KL(intra || inter) of the KDEs of two distance sets (see the module
    docstring); ``(None, None, {})`` when either set is empty."""
    intra, inter = np.asarray(intra, float), np.asarray(inter, float)
    if intra.size == 0 or inter.size == 0:
        return None, None, {}
    pooled = np.concatenate([intra, inter])
    spread = float(np.std(pooled))
    fallback = 0.1 * spread if spread > 0 else max(1e-3, 1e-3 * float(np.abs(pooled).max()))
    p, q = _Density(intra, fallback), _Density(inter, fallback)
    margin = 5 * max(p.bw, q.bw)
    grid = np.linspace(pooled.min() - margin, pooled.max() + margin, points)
    pp, qq = p(grid), q(grid)
    oa = float(np.trapezoid(np.minimum(pp, qq), grid)) if hasattr(np, "trapezoid") else float(np.trapz(np.minimum(pp, qq), grid))
    eps = 1e-12
    integrand = pp * (np.log(pp + eps) - np.log(qq + eps))
    kl = float(np.trapezoid(integrand, grid)) if hasattr(np, "trapezoid") else float(np.trapz(integrand, grid))
    return min(oa, 1.0), max(kl, 0.0), {"grid": grid, "intra": pp, "inter": qq}


def compare_sets(ref: list[dict[str, Any]], gen: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per feature: each set's mean (and sd for scalars), the distance between the sets (|mean
    difference| for scalars, half the L1 distance of the mean histograms), the mean intra/inter
    distances, OA and KL."""
    out: dict[str, dict[str, Any]] = {}
    for f in FEATURES:
        rv = [r[f.name] for r in ref if _valid(r[f.name])]
        gv = [g[f.name] for g in gen if _valid(g[f.name])]
        row: dict[str, Any] = {"label": f.label, "kind": f.kind, "unit": f.unit, "n_reference": len(rv), "n_samples": len(gv)}
        if f.kind == "scalar":
            for key, vals in (("reference", rv), ("samples", gv)):
                row[key] = {"mean": float(np.mean(vals)) if vals else None, "sd": float(np.std(vals)) if vals else None}
            row["distance"] = abs(row["reference"]["mean"] - row["samples"]["mean"]) if rv and gv else None
        else:
            mr = np.mean(rv, axis=0) if rv else None
            mg = np.mean(gv, axis=0) if gv else None
            row["reference"] = {"mean": mr.tolist() if mr is not None else None}
            row["samples"] = {"mean": mg.tolist() if mg is not None else None}
            row["distance"] = float(0.5 * np.abs(mr - mg).sum()) if mr is not None and mg is not None else None
        intra_r, intra_g, inter = intra_inter(rv, gv)
        oa, kl, curves = overlap_kl(intra_r, inter)
        row.update(
            intra_reference=float(intra_r.mean()) if intra_r.size else None,
            intra_samples=float(intra_g.mean()) if intra_g.size else None,
            inter=float(inter.mean()) if inter.size else None,
            oa=oa,
            kl=kl,
        )
        row["_curves"] = curves
        row["_intra_samples"] = intra_g
        out[f.name] = row
    return out


# --------------------------------------------------------------------------------------------
# Memorisation


def onset_tokens(piece: Piece) -> tuple[list[tuple], np.ndarray, np.ndarray]:
    """The piece as transposition-invariant tokens (see the module docstring), with the onset
    times and the number of notes starting at each onset. ``len(tokens) == len(times) - 1``."""
    times, groups = _onsets(_notes(piece))
    tokens = []
    for i in range(1, len(groups)):
        ref = max(n.pitch for n in groups[i - 1])
        ioi = int(round((times[i] - times[i - 1]) * IOI_STEPS))
        tokens.append((ioi, tuple(sorted({n.pitch - ref for n in groups[i]}))))
    return tokens, times, np.array([len(g) for g in groups], dtype=int)


def _encode_rows(rows: np.ndarray) -> np.ndarray:
    """int rows (values >= -3) -> fixed-width byte strings that sort like the rows."""
    x = (2 * (rows.astype(np.int64) + 3) + 1).astype(">u4")
    return np.ascontiguousarray(x).view(f"S{4 * rows.shape[1]}").ravel()


class TrainingIndex:
    """Every position of the training token sequences, sorted by its next ``k`` tokens: the
    longest match of any query position is found by binary search (exact up to ``k`` tokens from
    the sorted neighbours) and extended past ``k`` on the candidate occurrences."""

    def __init__(self, pieces: list[Piece], k: int = NGRAM):
        self.k = k
        self.vocab: dict[tuple, int] = {}
        seqs = []
        for p in pieces:
            toks, _, _ = onset_tokens(p)
            seqs.append(np.array([self.vocab.setdefault(t, len(self.vocab)) for t in toks], dtype=np.int64))
        parts = []
        for s in seqs:
            parts += [s, np.array([-1], dtype=np.int64)]  # -1: piece boundary, never matched
        parts.append(np.full(k, -1, dtype=np.int64))
        self.tokens = np.concatenate(parts) if parts else np.full(k, -1, dtype=np.int64)
        self.starts = np.cumsum([0] + [len(s) + 1 for s in seqs])[:-1]  # each piece's first position
        self.names = [p.name for p in pieces]
        self.times = [onset_tokens(p)[1] for p in pieces] if pieces else []
        self.n_pieces = len(pieces)
        self.n_tokens = int(sum(len(s) for s in seqs))
        pos = np.flatnonzero(self.tokens >= 0)
        rows = np.stack([self.tokens[pos + j] for j in range(k)], axis=1) if pos.size else np.zeros((0, k), np.int64)
        keys = _encode_rows(rows) if pos.size else np.array([], dtype=f"S{4 * k}")
        order = np.argsort(keys, kind="stable")
        self.keys, self.pos, self.rows = keys[order], pos[order], rows[order]

    def locate(self, tokens: list[tuple]) -> tuple[str, float] | None:
        """(training piece name, quarter where it starts) of one occurrence of ``tokens``, or None."""
        s = self.ids(tokens)
        if not len(s) or self.keys.size == 0:
            return None
        head = s[: self.k]
        lo_row = np.concatenate([head, np.full(self.k - len(head), -3)])[None]
        hi_row = np.concatenate([head, np.full(self.k - len(head), 2**30)])[None]
        lo = int(np.searchsorted(self.keys, _encode_rows(lo_row), "left")[0])
        hi = int(np.searchsorted(self.keys, _encode_rows(hi_row), "right")[0])
        cand = self.pos[lo:hi]
        last = len(self.tokens) - 1
        if len(s) > self.k and cand.size:
            block = self.tokens[np.minimum(cand[:, None] + np.arange(len(s)), last)]
            cand = cand[(block == s).all(1)]
        if not cand.size:
            return None
        p = int(cand.min())
        i = int(np.searchsorted(self.starts, p, "right") - 1)
        return self.names[i], float(self.times[i][p - self.starts[i]])

    def ids(self, tokens: list[tuple]) -> np.ndarray:
        return np.array([self.vocab.get(t, -2) for t in tokens], dtype=np.int64)  # -2: unseen

    def match_lengths(self, tokens: list[tuple]) -> np.ndarray:
        """For each position i, the most tokens from i on that occur consecutively in one
        training piece."""
        s = self.ids(tokens)
        m, k = len(s), self.k
        if m == 0 or self.keys.size == 0:
            return np.zeros(m, dtype=int)
        padded = np.concatenate([s, np.full(k, -3, dtype=np.int64)])
        q = np.stack([padded[j : j + m] for j in range(k)], axis=1)
        idx = np.searchsorted(self.keys, _encode_rows(q), "left")
        lcp = np.zeros(m, dtype=int)
        for nb in (np.clip(idx - 1, 0, None), np.clip(idx, None, len(self.keys) - 1)):
            lcp = np.maximum(lcp, np.cumprod(q == self.rows[nb], axis=1).sum(1))
        full = np.flatnonzero(lcp == k)
        if full.size:
            qkeys = _encode_rows(q[full])
            lo = np.searchsorted(self.keys, qkeys, "left")
            hi = np.searchsorted(self.keys, qkeys, "right")
            last = len(self.tokens) - 1  # a boundary (-1): never matches
            for i, a, b in zip(full.tolist(), lo.tolist(), hi.tolist()):
                cand = self.pos[a:b]
                length = k
                while i + length < m and cand.size:  # compare 64 tokens at a time
                    span = min(64, m - i - length)
                    block = self.tokens[np.minimum(cand[:, None] + length + np.arange(span), last)]
                    eq = block == s[i + length : i + length + span]
                    run = np.where(eq.all(1), span, eq.argmin(1))
                    if run.max() < span:
                        length += int(run.max())
                        break
                    cand = cand[run == span]
                    length += span
                lcp[i] = length
        return lcp


def memorisation(piece: Piece, index: TrainingIndex, window_bars: int = 4) -> dict[str, Any]:
    """Longest stretch of ``piece`` found in the training set and the share of its
    ``window_bars``-bar windows found verbatim (see the module docstring)."""
    tokens, times, counts = onset_tokens(piece)
    ms = index.match_lengths(tokens)
    out: dict[str, Any] = {"onsets": int(len(times)), "notes": int(counts.sum())}
    if ms.size and ms.max() > 0:
        i = int(ms.argmax())
        length = int(ms[i])
        src = index.locate(tokens[i : i + length])
        out.update(
            longest_onsets=length + 1,
            longest_notes=int(counts[i : i + length + 1].sum()),
            longest_bars=round(float((times[i + length] - times[i]) / bar_length(piece, times[i])), 2),
            longest_at=round(float(times[i]), 3),
            source=src[0] if src else None,
            source_at=round(src[1], 3) if src else None,
        )
    else:
        out.update(longest_onsets=0, longest_notes=0, longest_bars=0.0, longest_at=None, source=None, source_at=None)
    bounds = bar_bounds(piece)
    windows = found = 0
    for j in range(len(bounds) - window_bars):
        a, b = bounds[j], bounds[j + window_bars]
        lo = int(np.searchsorted(times, a - 1e-9, "left"))
        hi = int(np.searchsorted(times, b - 1e-9, "left"))
        if hi - lo < 2:
            continue
        windows += 1
        found += int(ms[lo] >= hi - 1 - lo)
    out.update(windows=windows, windows_found=found, window_share=(found / windows) if windows else None)
    return out


# --------------------------------------------------------------------------------------------
# Kern: a fast reader for memorisation, and bar validity through music21

def bar_check(score) -> dict[str, Any]:
    """Bars of a music21 score whose parts and voices fill exactly the metre's bar length (the
    first and last may be shorter). Returns counts and the numbers of the bars that do not."""
    from music21 import stream

    parts = list(score.parts) if len(score.parts) else [score]
    per_part = [list(p.getElementsByClass(stream.Measure)) for p in parts]
    n = max((len(m) for m in per_part), default=0)
    ok = 0
    bad: list[str] = []
    for j in range(n):
        good = True
        label = None
        lengths = []
        for measures in per_part:
            if j >= len(measures):
                good = False
                continue
            m = measures[j]
            label = label or str(m.number)
            try:
                want = float(m.barDuration.quarterLength)
            except Exception:
                good = False
                continue
            voices = list(m.voices)
            have = [float(v.highestTime) for v in voices] if voices else [float(m.highestTime)]
            lengths += have
            for h in have:
                if h > want + 1e-6:
                    good = False
                elif h < want - 1e-6 and 0 < j < n - 1:
                    good = False
        if good and lengths and max(lengths) - min(lengths) > 1e-6:
            good = False  # parts and voices of a short first or last bar must still end together
        ok += good
        if not good:
            bad.append(label or str(j + 1))
    return {"bars": n, "bars_ok": ok, "bad_bars": bad}


def kern_validity(kern: str) -> dict[str, Any]:
    """Whether music21 parses ``kern`` and how many of its bars fill the metre; ``score`` is
    the parsed music21 Score (None if parsing failed)."""
    from cadenza.scores import parse_kern

    try:
        score = parse_kern(kern)
    except Exception as exc:  # music21 raises many types
        return {"parsed": False, "error": f"{type(exc).__name__}: {exc}"[:200], "bars": 0, "bars_ok": 0, "bad_bars": [], "score": None}
    try:
        check = bar_check(score)
    except Exception as exc:
        check = {"bars": 0, "bars_ok": 0, "bad_bars": [], "error": f"bar check failed: {exc}"[:200]}
    return {"parsed": True, **check, "score": score}


# --------------------------------------------------------------------------------------------
# Likelihood


def _device():
    import torch

    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def token_nats(model, seqs: list[list[int]], batch_size: int = 16, chunk: int = 512, progress: Callable[[int, int], None] | None = None) -> list[np.ndarray]:
    """Per-token negative log-likelihood (nats) of ``seq[1:]`` given the tokens before, for each
    sequence, from the model's empty state. Recurrent models read whole sequences (state carried
    over chunks); models with a ``block_size`` slide a window of that size by half its length, so
    every token but the first ``block_size`` sees at least half a window of context."""
    import torch
    from torch.nn import functional as F

    dev = _device()
    model = model.to(dev).eval()
    out: list[np.ndarray] = [np.zeros(0)] * len(seqs)
    block = getattr(getattr(model, "cfg", None), "block_size", None) if getattr(getattr(model, "cfg", None), "arch", "lstm") != "lstm" else None
    order = sorted(range(len(seqs)), key=lambda i: len(seqs[i]))
    done = 0
    with torch.no_grad():
        if block is None:
            for b in range(0, len(order), batch_size):
                idx = [i for i in order[b : b + batch_size] if len(seqs[i]) > 1]
                for i in order[b : b + batch_size]:
                    if len(seqs[i]) <= 1:
                        out[i] = np.zeros(0)
                if not idx:
                    continue
                longest = max(len(seqs[i]) for i in idx)
                x = torch.zeros(len(idx), longest, dtype=torch.long)
                for r, i in enumerate(idx):
                    x[r, : len(seqs[i])] = torch.tensor(seqs[i])
                x = x.to(dev)
                nll = torch.zeros(len(idx), longest - 1, device=dev)
                state = None
                for c in range(0, longest - 1, chunk):
                    inp = x[:, c : min(c + chunk, longest - 1)]
                    tgt = x[:, c + 1 : c + 1 + inp.shape[1]]
                    logits, state = model(inp, state)
                    nll[:, c : c + inp.shape[1]] = F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), tgt.reshape(-1), reduction="none").view(tgt.shape)
                nll = nll.cpu().numpy()
                for r, i in enumerate(idx):
                    out[i] = nll[r, : len(seqs[i]) - 1].astype(float)
                done += len(order[b : b + batch_size])
                if progress:
                    progress(done, len(seqs))
        else:
            stride = max(1, block // 2)
            for i in order:
                seq = seqs[i]
                n = len(seq)
                res = np.zeros(max(0, n - 1))
                covered = 0  # targets 1..covered scored
                a = 0
                while covered < n - 1:
                    inp = torch.tensor(seq[a : min(a + block, n - 1)], dtype=torch.long, device=dev)[None]
                    tgt = torch.tensor(seq[a + 1 : a + 1 + inp.shape[1]], dtype=torch.long, device=dev)
                    logits, _ = model(inp)
                    nll = F.cross_entropy(logits[0].float(), tgt, reduction="none").cpu().numpy()
                    first = covered + 1 - (a + 1)  # index in this window of the first new target
                    res[covered : a + inp.shape[1]] = nll[first:]
                    covered = a + inp.shape[1]
                    a += stride
                out[i] = res
                done += 1
                if progress:
                    progress(done, len(seqs))
    return out


# --------------------------------------------------------------------------------------------
# Data


@dataclass
class HeldOut:
    """One piece of the dataset: its codec text, record, and decoded forms."""

    name: str
    text: str
    row: dict[str, Any]
    piece: Piece | None = None  # for statistics and note counts (music21 for kern)
    fast: Piece | None = None  # for memorisation (kern_to_piece for kern)
    validity: dict[str, Any] = field(default_factory=dict)


def split_pieces(dataset: Path, split: str, unit: str) -> list[tuple[str, dict[str, Any]]]:
    """(codec text, pieces.jsonl record) of each piece of ``split``, in file order. Pieces are cut
    by their recorded token counts (a char codec's pieces are separated by one "\\n", a word
    codec's by a line break, which splitting on whitespace drops)."""
    from cadenza.corpus import load_pieces, load_split

    text = load_split(dataset, split)
    rows = load_pieces(dataset, split)
    out = []
    if unit == "char":
        pos = 0
        for r in rows:
            out.append((text[pos : pos + r["tokens"]], r))
            pos += r["tokens"] + 1
        if "\n".join(t for t, _ in out) != text:
            chunks = [c + "\n" for c in text.rstrip("\n").split("\n\n")] if text.strip() else []
            if len(chunks) != len(rows):
                raise CadenzaError(f"{dataset}: {split}.txt does not match pieces.jsonl ({len(chunks)} pieces, {len(rows)} records)")
            out = list(zip(chunks, rows))
    else:
        lines = [l for l in text.split("\n") if l.strip()]
        if len(lines) == len(rows):
            out = list(zip(lines, rows))
        else:
            toks = text.split()
            pos = 0
            for r in rows:
                out.append((" ".join(toks[pos : pos + r["tokens"]]), r))
                pos += r["tokens"]
    return out


def _find_dataset(config: dict[str, Any], run: Path) -> Path | None:
    ds = config.get("dataset")
    if not ds:
        return None
    # bundled models record only the dataset's folder name: `make models` writes it to data/
    for cand in (Path(ds), run / ds, run.parent / ds, Path("data") / Path(ds).name):
        if (cand / "manifest.json").exists():
            return cand
    return None


def _decode_piece(codec, text: str, context: dict[str, Any], name: str, kern: str | None = None) -> tuple[Piece | None, Piece | None, dict[str, Any], str | None]:
    """(statistics piece, memorisation piece, validity, kern text) of one codec text. ``kern``:
    the file the sampler wrote (it may declare the metre the sampler adopted), used as is."""
    payload = kern if kern is not None else codec.decode(text, context).payload
    if isinstance(payload, Piece):
        payload.name = payload.name or name
        ok = any(t.notes for t in payload.tracks)
        return payload, payload, {"parsed": ok, **({} if ok else {"error": "no notes"})}, None
    if isinstance(payload, str):
        from cadenza.scores import score_to_piece

        v = kern_validity(payload)
        score = v.pop("score")
        piece = None
        if score is not None:
            try:
                piece = score_to_piece(score, name)
            except Exception as exc:  # a score music21 reads but we cannot walk: no statistics
                v["error"] = f"notes unreadable: {type(exc).__name__}: {exc}"[:200]
        return piece, kern_to_piece(payload, name), v, payload
    raise CadenzaError(f"codec {codec.name}: decode() gave a {type(payload).__name__}; evaluate needs a Piece or kern text")


# --------------------------------------------------------------------------------------------
# The command


def evaluate(
    run: Path | str,
    out: Path | str,
    n_samples: int = 20,
    bars: int = 16,
    length: int = 1000,
    seed: int = 0,
    options: "SamplingOptions | None" = None,
    prime: str | None = None,
    window_bars: int = 4,
    max_test_pieces: int = 0,
    progress: Progress | None = None,
    beam: int = 0,
) -> dict[str, Any]:
    """Evaluate the run folder (or bundled model name) ``run``; write the report into ``out``.

    ``n_samples`` samples are drawn with ``seed`` (kern: ``bars`` bars each; other codecs:
    ``length`` tokens) and ``options`` (:class:`cadenza.sample.SamplingOptions`, default plain
    sampling at temperature 1). ``window_bars`` sets the memorisation window; ``max_test_pieces``
    (0: all) caps the held-out pieces read. ``progress(stage, done, total)`` is called as work
    proceeds, ``stage`` one of "reading test pieces", "likelihood", "sampling", "checking
    samples", "statistics", "indexing training pieces", "report". Returns the report as a dict
    (what ``report.json`` holds): ``headline`` has the key figures, ``warnings`` lists what the
    reader must not miss (samples copying from the training set, too few held-out pieces, no
    dataset). A run whose dataset folder is gone still gets validity and sample statistics.
    On a CPU, a model under 2M parameters runs on one thread (its steps are too short to split:
    on a busy machine that is several times faster); torch's setting is restored afterwards.
    """
    import torch

    from cadenza.pretrained import resolve
    from cadenza.sample import SamplingOptions
    from cadenza.train import load_run

    t_start = time.time()
    run = resolve(run)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    options = options or SamplingOptions()
    say = progress or (lambda stage, done, total: None)
    model, config = load_run(run)
    threads = torch.get_num_threads()
    if not torch.cuda.is_available() and sum(p.numel() for p in model.parameters()) < SMALL_MODEL:
        torch.set_num_threads(1)  # a small model's steps are too short to share: threads only wait
    try:
        return _evaluate(run, out, model, config, n_samples, bars, length, seed, options, prime, window_bars, max_test_pieces, say, t_start, beam)
    finally:
        torch.set_num_threads(threads)


def _evaluate(run, out, model, config, n_samples, bars, length, seed, options, prime, window_bars, max_test_pieces, say, t_start, beam=0) -> dict[str, Any]:
    from cadenza.codecs import get_codec, split_tokens
    from cadenza.sample import generate

    timings: dict[str, float] = {}
    codec = get_codec(config["codec"], config.get("codec_options") or {})
    vocab = config["vocab"]
    stoi = {t: i for i, t in enumerate(vocab)}
    warnings: list[str] = []
    dataset = _find_dataset(config, run)
    if dataset is None:
        warnings.append(f"dataset {config.get('dataset')!r} not found: no likelihood, reference statistics or memorisation")

    report: dict[str, Any] = {
        "format": "cadenza-evaluation/1",
        "run": str(run),
        "dataset": str(dataset) if dataset else config.get("dataset"),
        "codec": codec.name,
        "config": {k: v for k, v in config.items() if k != "vocab"},
        "vocab_size": len(vocab),
        "settings": {"n_samples": n_samples, "bars": bars, "length": length, "seed": seed, "options": dict(options.__dict__), "prime": prime, "window_bars": window_bars, "beam": beam},
    }

    # ---- held-out pieces
    t0 = time.time()
    test: list[HeldOut] = []
    if dataset is not None:
        pieces = split_pieces(dataset, "test", codec.unit)
        if max_test_pieces:
            pieces = pieces[:max_test_pieces]
        for i, (text, row) in enumerate(pieces):
            say("reading test pieces", i, len(pieces))
            h = HeldOut(row["name"], text, row)
            try:
                h.piece, h.fast, h.validity, _ = _decode_piece(codec, text, row.get("info") or {}, row["name"])
            except CadenzaError:
                raise
            except Exception as exc:  # a held-out piece the decoder cannot read is reported, not fatal
                h.validity = {"parsed": False, "error": f"{type(exc).__name__}: {exc}"[:200]}
            test.append(h)
        say("reading test pieces", len(pieces), len(pieces))
        if not test:
            warnings.append("the dataset has no test pieces: no likelihood, reference statistics or memorisation baseline")
    timings["test_pieces"] = time.time() - t0

    # ---- likelihood
    t0 = time.time()
    if test:
        prefix = [stoi["\n"]] if codec.unit == "char" and "\n" in stoi else []
        seqs, unknown = [], 0
        for h in test:
            toks = split_tokens(h.text, codec.unit)
            ids = [stoi[t] for t in toks if t in stoi]
            unknown += len(toks) - len(ids)
            seqs.append(prefix + ids)
        nats = token_nats(model, seqs, progress=lambda d, n: say("likelihood", d, n))
        per_piece = []
        tot_nats = float(sum(x.sum() for x in nats))
        tot_tokens = int(sum(x.size for x in nats))
        notes = secs = read_nats = 0.0
        no_tempo = unread = 0
        for h, x in zip(test, nats):
            if h.piece is None:
                unread += 1
            else:
                read_nats += float(x.sum())  # per-note/second figures use the pieces with notes
            n_notes = len(_notes(h.piece)) if h.piece is not None else 0
            s = seconds(h.piece) if h.piece is not None else 0.0
            info = h.row.get("info") or {}
            has_tempo = codec.piece_tempo(info) is not None
            no_tempo += h.piece is not None and not has_tempo
            notes += n_notes
            secs += s
            per_piece.append({"name": h.name, "tokens": int(x.size), "nats": float(x.sum()), "bits_per_token": float(x.mean() / LN2) if x.size else None, "notes": n_notes, "seconds": round(s, 2)})
        lk = {
            "pieces": len(test),
            "tokens": tot_tokens,
            "unknown_tokens_skipped": unknown,
            "nats": tot_nats,
            "nats_per_token": tot_nats / tot_tokens if tot_tokens else None,
            "bits_per_token": tot_nats / tot_tokens / LN2 if tot_tokens else None,
            "notes": int(notes),
            "nats_per_note": read_nats / notes if notes else None,
            "bits_per_note": read_nats / notes / LN2 if notes else None,
            "seconds": round(secs, 2),
            "nats_per_second": read_nats / secs if secs else None,
            "bits_per_second": read_nats / secs / LN2 if secs else None,
            "pieces_unreadable": unread,
            "pieces_without_tempo": no_tempo,
            "formula": (
                "nats/token = total nats / tokens scored; nats/note = total nats over the test split / notes in it; "
                "nats/second = total nats / seconds of music (quarters x 60 / qpm, 120 qpm where a piece sets no tempo); bits = nats / ln 2"
            ),
            "per_piece": per_piece,
        }
        log = run / "log.jsonl"
        if log.exists():
            hist = [json.loads(l) for l in log.read_text().splitlines() if l.strip()]
            vals = [h["val_loss"] for h in hist if h.get("val_loss") is not None]
            if vals:
                lk["best_val_bits_per_token"] = min(vals) / LN2
        report["likelihood"] = lk
    else:
        report["likelihood"] = None
    timings["likelihood"] = time.time() - t0

    # ---- samples
    t0 = time.time()
    sample_dir = out / "samples"
    formats = tuple(f for f in codec.sample_formats if f != "musicxml")
    kw: dict[str, Any] = dict(n=n_samples, length=length, seed=seed, prime=prime, options=options, formats=formats, progress=lambda d, n: say("sampling", d, n))
    if codec.bar_token and bars:
        kw["bars"] = bars
    if beam > 1:
        kw["beam"] = beam  # beam search: expect conservative, repetitive output in the numbers below
    samples = generate(run, sample_dir, **kw) if n_samples > 0 else []
    timings["sampling"] = time.time() - t0
    t0 = time.time()
    context = config.get("context", {}) or {}
    gen: list[dict[str, Any]] = []
    for i, s in enumerate(samples):
        say("checking samples", i, len(samples))
        try:
            written = s.files.get("krn")
            kern = written.read_text(encoding="utf-8") if written is not None and written.exists() else None
            piece, fast, validity, _ = _decode_piece(codec, s.text, context, f"sample-{s.index:02d}", kern)
        except CadenzaError:
            raise
        except Exception as exc:
            piece, fast, validity = None, None, {"parsed": False, "error": f"{type(exc).__name__}: {exc}"[:200]}
        repaired = {k: v for k, v in s.stats.items() if k in ("lines_repaired", "lines_dropped", "dropped", "repaired", "unclosed") and isinstance(v, (int, float))}
        gen.append({"index": s.index, "piece": piece, "fast": fast, "validity": validity, "repaired": repaired, "files": {k: _relative(v, out) for k, v in s.files.items()}, "tokens": len(split_tokens(s.text, codec.unit))})
    say("checking samples", len(samples), len(samples))
    timings["checking"] = time.time() - t0
    report["validity"] = _validity_section(gen, test, codec.bar_token is not None)

    # ---- statistics
    t0 = time.time()
    gen_pieces = [g["piece"] for g in gen if g["piece"] is not None and _notes(g["piece"])]
    excerpt = float(np.median([p.end for p in gen_pieces])) if gen_pieces else 0.0
    if gen_pieces:
        bl = bar_length(gen_pieces[0])
        excerpt = max(bl, round(excerpt / bl) * bl)
    ref_pieces: list[Piece] = []
    for h in test:
        if h.piece is None or not _notes(h.piece):
            continue
        ref_pieces += excerpts(h.piece, excerpt) if excerpt else [h.piece]
    say("statistics", 0, 1)
    gen_feats = [piece_features(p) for p in gen_pieces]
    ref_feats = [piece_features(p) for p in ref_pieces]
    cmp = compare_sets(ref_feats, gen_feats) if gen_feats else {}
    oas = [r["oa"] for r in cmp.values() if r["oa"] is not None]
    scales_g = [best_scale(p)[0] for p in gen_pieces]
    report["statistics"] = {
        "n_samples": len(gen_feats),
        "n_reference_excerpts": len(ref_feats),
        "excerpt_quarters": excerpt,
        "features": {k: {kk: vv for kk, vv in v.items() if not kk.startswith("_")} for k, v in cmp.items()},
        "mean_overlap_area": float(np.mean(oas)) if oas else None,
        "length_classes": [n for n, _ in LENGTH_CLASSES],
        "pitch_classes": list(PITCH_NAMES),
        "sample_best_scales": scales_g,
    }
    if gen_feats and len(ref_feats) < 5:
        warnings.append(f"only {len(ref_feats)} held-out excerpt(s) to compare with: overlap areas and KL divergences are unreliable")
    say("statistics", 1, 1)
    timings["statistics"] = time.time() - t0

    # ---- memorisation
    t0 = time.time()
    mem: dict[str, Any] | None = None
    if dataset is not None:
        train_rows = split_pieces(dataset, "train", codec.unit)
        originals = [(t, r) for t, r in train_rows if not r.get("transpose")]
        train_pieces = []
        for i, (text, row) in enumerate(originals):
            if i % 50 == 0:
                say("indexing training pieces", i, len(originals))
            try:
                train_pieces.append(_fast_piece(codec, text, row.get("info") or {}, row["name"]))
            except Exception:
                continue
        say("indexing training pieces", len(originals), len(originals))
        index = TrainingIndex(train_pieces)
        timings["index"] = time.time() - t0
        base = [dict(name=h.name, **memorisation(h.fast, index, window_bars)) for h in test if h.fast is not None]
        samp = [dict(sample=g["index"], **memorisation(g["fast"], index, window_bars)) for g in gen if g["fast"] is not None]
        b_notes = [b["longest_notes"] for b in base]
        b_shares = [b["window_share"] for b in base if b["window_share"] is not None]
        # the limit: what 9 in 10 held-out pieces stay within (the max is one outlier away)
        lim_notes = float(np.percentile(b_notes, BASELINE_PERCENTILE)) if b_notes else None
        lim_share = float(np.percentile(b_shares, BASELINE_PERCENTILE)) if b_shares else None
        flagged = []
        for s_ in samp:
            why = []
            if lim_notes is not None and s_["longest_notes"] > lim_notes:
                why.append(f"copies {s_['longest_notes']} notes ({s_['longest_bars']} bars) in a row from training; 9 in 10 held-out pieces at most {lim_notes:g}")
            if lim_share is not None and s_["window_share"] is not None and s_["window_share"] > lim_share:
                why.append(f"{s_['window_share']:.0%} of its {window_bars}-bar windows occur in training; 9 in 10 held-out pieces at most {lim_share:.0%}")
            s_["copies_more_than_baseline"] = bool(why)
            if why:
                flagged.append(s_["sample"])
                warnings.append(f"MEMORISATION: sample {s_['sample']:02d} " + "; ".join(why))
        for b in base:
            if b["window_share"] is not None and b["window_share"] >= 0.5:
                warnings.append(
                    f"held-out piece {b['name']} shares {b['window_share']:.0%} of its {window_bars}-bar windows with the training set "
                    "(a duplicate, transposed or re-harmonised, on both sides of the split?): test likelihood may be optimistic"
                )
        if samp and not base:
            warnings.append("no held-out piece to compare with: whether samples copy more than human music does cannot be judged")
        mem = {
            "representation": "per onset: (IOI in 1/48 quarter, pitches starting there minus the previous onset's highest pitch)",
            "training_pieces": index.n_pieces,
            "training_tokens": index.n_tokens,
            "window_bars": window_bars,
            "samples": samp,
            "baseline": base,
            "baseline_max_longest_notes": max(b_notes, default=None),
            "baseline_max_window_share": max(b_shares, default=None),
            "baseline_percentile": BASELINE_PERCENTILE,
            "baseline_limit_longest_notes": lim_notes,
            "baseline_limit_window_share": lim_share,
            "samples_max_longest_notes": max((s_["longest_notes"] for s_ in samp), default=None),
            "samples_mean_window_share": _mean([s_["window_share"] for s_ in samp]),
            "baseline_mean_window_share": _mean([b["window_share"] for b in base]),
            "flagged_samples": flagged,
        }
    report["memorisation"] = mem
    timings["memorisation"] = time.time() - t0

    # ---- headline, files
    lk = report["likelihood"] or {}
    va = report["validity"]
    report["headline"] = {
        "mean_overlap_area": report["statistics"]["mean_overlap_area"],
        "bits_per_token": lk.get("bits_per_token"),
        "bits_per_note": lk.get("bits_per_note"),
        "parsed_share": va["parsed_share"],
        "bar_share": va.get("bar_share"),
        "samples_copying_more_than_baseline": len(mem["flagged_samples"]) if mem else None,
    }
    report["warnings"] = warnings
    say("report", 0, 1)
    t0 = time.time()
    figures = _figures(out, run, report, cmp, gen_pieces, ref_pieces)
    report["figures"] = {k: str(Path(v).name) for k, v in figures.items()}
    timings["figures"] = time.time() - t0
    timings["total"] = time.time() - t_start
    report["timings"] = {k: round(v, 2) for k, v in timings.items()}
    report["files"] = {"json": "report.json", "markdown": "report.md", "html": "report.html", "samples": "samples"}
    clean = _jsonable(report)
    (out / "report.json").write_text(json.dumps(clean, indent=1, ensure_ascii=False), encoding="utf-8")
    doc = _document(clean, figures)
    (out / "report.md").write_text(_to_markdown(doc), encoding="utf-8")
    (out / "report.html").write_text(_to_html(doc, figures), encoding="utf-8")
    say("report", 1, 1)
    return clean


def excerpts(piece: Piece, quarters: float) -> list[Piece]:
    """Consecutive excerpts ``quarters`` long (the last kept if at least half that); the whole
    piece if it is shorter."""
    end = piece.end
    if quarters <= 0 or end <= quarters:
        return [piece]
    out = []
    a = 0.0
    while a < end - 1e-9:
        if end - a >= quarters / 2:
            part = piece.slice(a, a + quarters)
            if _notes(part):
                out.append(part)
        a += quarters
    return out


def _fast_piece(codec, text: str, info: dict[str, Any], name: str) -> Piece:
    """The memorisation form of one dataset piece."""
    decoded = codec.decode(text, info)
    if isinstance(decoded.payload, Piece):
        decoded.payload.name = name
        return decoded.payload
    return kern_to_piece(decoded.payload, name)


def _relative(path: Path | str, base: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(base.resolve()))
    except ValueError:
        return str(path)


def _mean(values: list[Any]) -> float | None:
    v = [x for x in values if x is not None]
    return float(np.mean(v)) if v else None


def _validity_section(gen: list[dict[str, Any]], test: list[HeldOut], has_bars: bool) -> dict[str, Any]:
    n = len(gen)
    parsed = sum(1 for g in gen if g["validity"].get("parsed"))
    bars = sum(g["validity"].get("bars", 0) for g in gen)
    ok = sum(g["validity"].get("bars_ok", 0) for g in gen)
    totals: dict[str, int] = {}
    for g in gen:
        for k, v in g["repaired"].items():
            totals[k] = totals.get(k, 0) + int(v)
    per = []
    for g in gen:
        v = g["validity"]
        per.append({"sample": g["index"], "parsed": bool(v.get("parsed")), "error": v.get("error"), "bars": v.get("bars"), "bars_ok": v.get("bars_ok"), "bad_bars": v.get("bad_bars", [])[:20], "notes": len(_notes(g["piece"])) if g["piece"] is not None else 0, "tokens": g["tokens"], **g["repaired"], "files": g["files"]})
    ref = None
    if test:
        rb = sum(h.validity.get("bars", 0) for h in test)
        rok = sum(h.validity.get("bars_ok", 0) for h in test)
        ref = {"pieces": len(test), "parsed_share": sum(1 for h in test if h.validity.get("parsed")) / len(test), "bars": rb, "bars_ok": rok, "bar_share": rok / rb if rb else None}
    return {
        "samples": n,
        "parsed": parsed,
        "parsed_share": parsed / n if n else None,
        "bars": bars if has_bars else None,
        "bars_ok": ok if has_bars else None,
        "bar_share": (ok / bars if bars else None) if has_bars else None,
        "repairs_total": totals,
        "repairs_per_sample": {k: v / n for k, v in totals.items()} if n else {},
        "per_sample": per,
        "reference": ref,
    }


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return _jsonable(x.tolist())
    if isinstance(x, (np.floating, float)):
        return None if not math.isfinite(float(x)) else float(x)
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, Path):
        return str(x)
    return x


# --------------------------------------------------------------------------------------------
# Figures


def _figures(out: Path, run: Path, report: dict[str, Any], cmp: dict[str, dict[str, Any]], gen: list[Piece], ref: list[Piece]) -> dict[str, Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figs: dict[str, Path] = {}
    loss = run / "loss.png"
    if loss.exists():
        shutil.copyfile(loss, out / "loss.png")
        figs["loss"] = out / "loss.png"

    def save(fig, name: str) -> None:
        p = out / f"{name}.png"
        fig.tight_layout()
        fig.savefig(p, format="png", dpi=90)
        plt.close(fig)
        figs[name] = p

    if cmp:
        fig, axes = plt.subplots(1, 3, figsize=(13, 3.4))
        for ax, (key, labels, title) in zip(
            axes,
            (("pitch_class_histogram", PITCH_NAMES, "Pitch classes"), ("note_length_histogram", [n for n, _ in LENGTH_CLASSES], "Note lengths"), ("ioi_histogram", [n for n, _ in LENGTH_CLASSES], "Inter-onset intervals")),
        ):
            row = cmp[key]
            x = np.arange(len(labels))
            for off, (who, color) in zip((-0.2, 0.2), (("reference", "tab:blue"), ("samples", "tab:orange"))):
                m = row[who]["mean"]
                if m is not None:
                    ax.bar(x + off, m, width=0.4, color=color, label="held-out" if who == "reference" else "samples")
            ax.set_xticks(x)
            ax.set_xticklabels(labels, rotation=60 if len(labels) > 12 else 0, fontsize=7)
            ax.set_title(title)
            ax.set_ylabel("share")
            ax.legend(fontsize=7)
        save(fig, "histograms")

        names = [k for k, r in cmp.items() if r.get("_curves")]
        if names:
            cols = 4
            rows = int(math.ceil(len(names) / cols))
            fig, axes = plt.subplots(rows, cols, figsize=(13, 2.6 * rows), squeeze=False)
            for ax, k in zip(axes.ravel(), names):
                c = {key: val[::4] for key, val in cmp[k]["_curves"].items()}  # 250 points are plenty to draw
                ax.plot(c["grid"], c["intra"], label="intra held-out")
                ax.plot(c["grid"], c["inter"], label="inter (sample vs held-out)")
                ax.fill_between(c["grid"], np.minimum(c["intra"], c["inter"]), alpha=0.2, color="grey")
                ax.set_xlabel("distance", fontsize=7)
                ax.set_title(f"{cmp[k]['label']}\nOA {cmp[k]['oa']:.2f}  KL {cmp[k]['kl']:.2f}", fontsize=8)
                ax.tick_params(labelsize=7)
            for ax in axes.ravel()[len(names) :]:
                ax.axis("off")
            axes[0, 0].legend(fontsize=6)
            save(fig, "distances")

    mem = report.get("memorisation")
    if mem and (mem["samples"] or mem["baseline"]):
        fig, axes = plt.subplots(1, 2, figsize=(11, 3.4))
        xs = [s["sample"] for s in mem["samples"]]
        axes[0].bar(xs, [s["longest_notes"] for s in mem["samples"]], color=["tab:red" if s.get("copies_more_than_baseline") else "tab:orange" for s in mem["samples"]])
        if mem["baseline_limit_longest_notes"] is not None:
            axes[0].axhline(mem["baseline_limit_longest_notes"], color="tab:blue", ls="--", label="held-out 90th percentile")
            axes[0].legend(fontsize=7)
        axes[0].set_xlabel("sample")
        axes[0].set_ylabel("notes")
        axes[0].set_title("Longest stretch found in training")
        axes[1].bar(xs, [s["window_share"] or 0 for s in mem["samples"]], color="tab:orange")
        if mem["baseline_limit_window_share"] is not None:
            axes[1].axhline(mem["baseline_limit_window_share"], color="tab:blue", ls="--", label="held-out 90th percentile")
            axes[1].legend(fontsize=7)
        axes[1].set_xlabel("sample")
        axes[1].set_ylabel("share")
        axes[1].set_ylim(0, 1.05)
        axes[1].set_title(f"{mem['window_bars']}-bar windows found verbatim in training")
        save(fig, "memorisation")
    return figs


# --------------------------------------------------------------------------------------------
# Report documents: one structure, written as Markdown and as HTML

Block = tuple  # ("p", text) | ("table", headers, rows) | ("img", key, caption) | ("pre", text) | ("warn", text)


def _f(x: Any, digits: int = 3) -> str:
    if x is None:
        return "–"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, int):
        return str(x)
    if isinstance(x, float):
        if not math.isfinite(x):
            return "–"
        return f"{x:.{digits}f}"
    return str(x)


def _pct(x: Any) -> str:
    return "–" if x is None else f"{100 * x:.1f}%"


def _document(r: dict[str, Any], figures: dict[str, Path]) -> list[tuple[str, list[Block]]]:
    doc: list[tuple[str, list[Block]]] = []
    hl = r["headline"]
    blocks: list[Block] = [("p", f"Run `{r['run']}` ({r['codec']} codec), dataset `{r['dataset']}`.")]
    blocks.append(
        (
            "table",
            ["measure", "value"],
            [
                ["Mean overlapped area (Yang & Lerch; 1 = like held-out music)", _f(hl["mean_overlap_area"])],
                ["Bits per token (test)", _f(hl["bits_per_token"])],
                ["Bits per note (test)", _f(hl["bits_per_note"])],
                ["Samples that decode / parse", _pct(hl["parsed_share"])],
                ["Bars that fit the metre", _pct(hl["bar_share"])],
                ["Samples copying more than 9 in 10 held-out pieces do", _f(hl["samples_copying_more_than_baseline"])],
            ],
        )
    )
    for w in r["warnings"]:
        blocks.append(("warn", w))
    doc.append(("Summary", blocks))

    cfg = r["config"]
    blocks = []
    if "loss" in figures:
        blocks.append(("img", "loss", "Training and validation loss (bits per token)"))
    rows = [["codec", f"{cfg.get('codec')} {json.dumps(cfg.get('codec_options'))}"], ["vocabulary", str(r["vocab_size"])]]
    rows += [[f"model.{k}", json.dumps(v)] for k, v in (cfg.get("model") or {}).items()]
    rows += [[f"train.{k}", json.dumps(v)] for k, v in (cfg.get("train") or {}).items()]
    blocks.append(("table", ["setting", "value"], rows))
    blocks.append(("pre", json.dumps(r["settings"], indent=1)))
    doc.append(("Run", blocks))

    lk = r["likelihood"]
    if lk:
        blocks = [
            ("p", f"{lk['pieces']} held-out test pieces, {lk['tokens']} tokens scored, {lk['notes']} notes, {lk['seconds']} s of music."),
            (
                "table",
                ["unit", "nats", "bits"],
                [
                    ["per token", _f(lk["nats_per_token"]), _f(lk["bits_per_token"])],
                    ["per note", _f(lk["nats_per_note"]), _f(lk["bits_per_note"])],
                    ["per second", _f(lk["nats_per_second"]), _f(lk["bits_per_second"])],
                    ["total", _f(lk["nats"], 1), _f(lk["nats"] / LN2, 1)],
                ],
            ),
            ("p", "Formula: " + lk["formula"] + ". Each piece is scored from the model's empty state" + (" after the separator token" if r["codec"] == "kern" else "; its first token is not scored") + "."),
        ]
        if lk.get("pieces_unreadable"):
            blocks.append(("warn", f"{lk['pieces_unreadable']} test piece(s) could not be decoded to notes: left out of the per-note and per-second figures."))
        if lk.get("pieces_without_tempo"):
            blocks.append(("p", f"{lk['pieces_without_tempo']} of {lk['pieces']} pieces set no tempo: 120 quarter notes a minute assumed for them."))
        if lk.get("best_val_bits_per_token") is not None:
            blocks.append(("p", f"Best validation loss during training: {lk['best_val_bits_per_token']:.3f} bits per token (windows of the validation stream)."))
        blocks.append(("table", ["piece", "tokens", "bits/token", "notes", "seconds"], [[p["name"], p["tokens"], _f(p["bits_per_token"]), p["notes"], _f(p["seconds"], 1)] for p in lk["per_piece"]]))
    else:
        blocks = [("p", "Not available (no dataset or no test pieces).")]
    doc.append(("Likelihood on held-out pieces", blocks))

    va = r["validity"]
    blocks = [
        (
            "table",
            ["", "samples", "held-out pieces"],
            [
                ["decode / parse", f"{va['parsed']}/{va['samples']} ({_pct(va['parsed_share'])})", _pct(va["reference"]["parsed_share"]) if va["reference"] else "–"],
                ["bars fitting the metre", f"{_f(va['bars_ok'])}/{_f(va['bars'])} ({_pct(va['bar_share'])})", f"{va['reference']['bars_ok']}/{va['reference']['bars']} ({_pct(va['reference']['bar_share'])})" if va["reference"] and r["codec"] == "kern" else "–"],
            ]
            + [[f"{k} (total / per sample)", f"{v} / {va['repairs_per_sample'][k]:.2f}", "–"] for k, v in va["repairs_total"].items()],
        ),
        ("p", "A bar fits when every part and voice fills exactly the metre's bar length; the first (pickup) and last bar may be shorter, with all parts ending together." if r["codec"] == "kern" else "This codec has no barlines: every decoded sample is metrically well formed; decoder repairs are listed."),
    ]
    heads = ["sample", "parsed", "bars ok", "notes", "tokens", "repairs", "problem"]
    rows = []
    for s in va["per_sample"]:
        rep = ", ".join(f"{k} {s[k]}" for k in ("lines_repaired", "lines_dropped", "dropped", "repaired", "unclosed") if s.get(k))
        prob = s.get("error") or (("bad bars: " + ", ".join(s["bad_bars"])) if s.get("bad_bars") else "")
        rows.append([f"{s['sample']:02d}", _f(s["parsed"]), f"{_f(s['bars_ok'])}/{_f(s['bars'])}" if s.get("bars") is not None else "–", s["notes"], s["tokens"], rep, prob])
    blocks.append(("table", heads, rows))
    doc.append(("Validity of samples", blocks))

    st = r["statistics"]
    blocks = [("p", f"{st['n_samples']} samples vs {st['n_reference_excerpts']} excerpts of held-out pieces, {st['excerpt_quarters']:g} quarters long (the median sample). "
               "Distance: |difference of means| for numbers, half the L1 distance of the mean histograms (0 = equal, 1 = disjoint). "
               "OA: overlapped area of the intra-set (held-out vs held-out) and inter-set (sample vs held-out) distance densities; KL(intra || inter).")]
    rows = []
    for k, f in st["features"].items():
        if f["kind"] == "scalar":
            sm = f"{_f(f['samples']['mean'])} ± {_f(f['samples']['sd'])}"
            rm = f"{_f(f['reference']['mean'])} ± {_f(f['reference']['sd'])}"
        else:
            sm = f"entropy {entropy_bits(np.array(f['samples']['mean'])):.2f} bits" if f["samples"]["mean"] else "–"
            rm = f"entropy {entropy_bits(np.array(f['reference']['mean'])):.2f} bits" if f["reference"]["mean"] else "–"
        rows.append([f["label"] + (f" ({f['unit']})" if f["unit"] else ""), sm, rm, _f(f["distance"]), _f(f["oa"]), _f(f["kl"])])
    if rows:
        blocks.append(("table", ["feature", "samples", "held-out", "distance", "OA", "KL"], rows))
        blocks.append(("p", f"**Mean overlapped area: {_f(st['mean_overlap_area'])}**"))
    else:
        blocks.append(("p", "No sample decoded to notes: nothing to compare."))
    if "histograms" in figures:
        blocks.append(("img", "histograms", "Mean histograms: held-out excerpts vs samples"))
    if "distances" in figures:
        blocks.append(("img", "distances", "Distance densities per feature (Yang & Lerch 2018)"))
    doc.append(("Musical statistics", blocks))

    mem = r["memorisation"]
    if mem:
        blocks = [
            ("p", f"Representation: {mem['representation']}; transposition invariant. Training set: {mem['training_pieces']} pieces (untransposed), {mem['training_tokens']} onset tokens."),
            (
                "table",
                ["", "samples", "held-out pieces (baseline)"],
                [
                    ["longest stretch found in training (notes): max", _f(mem["samples_max_longest_notes"]), _f(mem["baseline_max_longest_notes"])],
                    ["longest stretch (notes): limit for flagging = held-out 90th percentile", "", _f(mem["baseline_limit_longest_notes"], 1)],
                    [f"{mem['window_bars']}-bar windows found verbatim: mean share", _pct(mem["samples_mean_window_share"]), _pct(mem["baseline_mean_window_share"])],
                    [f"{mem['window_bars']}-bar windows: limit for flagging = held-out 90th percentile", "", _pct(mem["baseline_limit_window_share"])],
                ],
            ),
        ]
        if mem["flagged_samples"]:
            blocks.append(("warn", f"{len(mem['flagged_samples'])} sample(s) copy more from the training set than 9 in 10 held-out pieces do: " + ", ".join(f"{i:02d}" for i in mem["flagged_samples"])))
        else:
            blocks.append(("p", "No sample copies more from the training set than 9 in 10 held-out pieces do."))
        heads = ["piece", "onsets", "notes", "longest (onsets)", "longest (notes)", "longest (bars)", "from training piece (at quarter)", "windows found", "flag"]

        def src(x: dict[str, Any]) -> str:
            return f"{x['source']} ({x['source_at']:g})" if x.get("source") else ""

        rows = [[f"sample {s['sample']:02d}", s["onsets"], s["notes"], s["longest_onsets"], s["longest_notes"], _f(s["longest_bars"], 2), src(s), f"{s['windows_found']}/{s['windows']}", "COPIES" if s.get("copies_more_than_baseline") else ""] for s in mem["samples"]]
        rows += [[f"held-out {b['name']}", b["onsets"], b["notes"], b["longest_onsets"], b["longest_notes"], _f(b["longest_bars"], 2), src(b), f"{b['windows_found']}/{b['windows']}", "baseline"] for b in mem["baseline"]]
        blocks.append(("table", heads, rows))
        if "memorisation" in figures:
            blocks.append(("img", "memorisation", "Memorisation per sample against the held-out maximum"))
    else:
        blocks = [("p", "Not available (no dataset).")]
    doc.append(("Memorisation", blocks))

    doc.append(("Method", [("pre", (__doc__ or "").strip())]))
    doc.append(("Timings (seconds)", [("table", ["stage", "seconds"], [[k, _f(v, 2)] for k, v in r["timings"].items()])]))
    return doc


def _md_cell(x: Any) -> str:
    return str(x).replace("|", "\\|").replace("\n", " ")


def _to_markdown(doc: list[tuple[str, list[Block]]]) -> str:
    lines = ["# Cadenza evaluation report", ""]
    for title, blocks in doc:
        lines += [f"## {title}", ""]
        for b in blocks:
            if b[0] == "p":
                lines += [b[1], ""]
            elif b[0] == "warn":
                lines += [f"> **WARNING:** {b[1]}", ""]
            elif b[0] == "pre":
                lines += ["```", b[1], "```", ""]
            elif b[0] == "img":
                lines += [f"![{b[2]}]({b[1]}.png)", ""]
            elif b[0] == "table":
                lines.append("| " + " | ".join(_md_cell(h) for h in b[1]) + " |")
                lines.append("|" + "---|" * len(b[1]))
                lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in b[2]]
                lines.append("")
    return "\n".join(lines)


_CSS = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:.6em 0}td,th{border:1px solid #ccc;padding:.25em .6em;font-size:.9em;text-align:left}
th{background:#f3f3f3}.warn{background:#fde8e8;border-left:5px solid #c00;padding:.5em 1em;font-weight:600}
img{max-width:100%}pre{background:#f7f7f7;padding:.8em;white-space:pre-wrap;font-size:.8em}"""


def _inline(text: str) -> str:
    t = html.escape(str(text))
    t = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", t)
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", t)


def _to_html(doc: list[tuple[str, list[Block]]], figures: dict[str, Path]) -> str:
    parts = ["<!doctype html><html><head><meta charset='utf-8'><title>Cadenza evaluation report</title>", f"<style>{_CSS}</style></head><body>", "<h1>Cadenza evaluation report</h1>"]
    for title, blocks in doc:
        parts.append(f"<h2>{html.escape(title)}</h2>")
        for b in blocks:
            if b[0] == "p":
                parts.append(f"<p>{_inline(b[1])}</p>")
            elif b[0] == "warn":
                parts.append(f"<p class='warn'>WARNING: {_inline(b[1])}</p>")
            elif b[0] == "pre":
                parts.append(f"<pre>{html.escape(b[1])}</pre>")
            elif b[0] == "img":
                data = base64.b64encode(Path(figures[b[1]]).read_bytes()).decode("ascii")
                parts.append(f"<figure><img alt='{html.escape(b[2])}' src='data:image/png;base64,{data}'><figcaption>{html.escape(b[2])}</figcaption></figure>")
            elif b[0] == "table":
                parts.append("<table><tr>" + "".join(f"<th>{html.escape(str(h))}</th>" for h in b[1]) + "</tr>")
                parts += ["<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in row) + "</tr>" for row in b[2]]
                parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts)
