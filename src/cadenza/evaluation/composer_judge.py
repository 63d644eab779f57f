"""Does ``--composer Chopin`` write like Chopin? A fair composer judge says how often.

The judge is a multinomial logistic regression (no scikit-learn: a few lines of numpy) on what
survives transposition, since the models learn in all 12 keys: pitch classes *relative to the
key* (the tonic found by Krumhansl-Kessler profiles, and the mode), melodic intervals of the top
line, vertical intervals between notes struck together, note lengths, onset positions within the
beat and inter-onset intervals, plus register spread, chord size and density. Classes are
balanced (each composer weighs the same in the loss, whatever its number of excerpts), and its
accuracy on real music is measured by cross-validation grouped by piece (no piece's excerpts on
both sides), with a confusion table, before it judges a sample. It is trained on real music
only: the dataset's held-out pieces (validation and test; the language model never trained on
them) cut into :data:`SEGMENT`-quarter excerpts. Then :data:`MIN_SAMPLES` or more samples asked
for each composer, and unconditioned samples (each given a composer in turn, as the conditioned
ones were), are classified: a conditioned model should be recognised well above the
unconditioned share and chance (one over the number of composers).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from cadenza.evaluation.features import LENGTH_CLASSES
from cadenza.evaluation.pieces import onset_groups, piece_notes
from cadenza.music import Piece

SEGMENT = 32.0  # quarters per training excerpt: about the length of a judged sample
MIN_SAMPLES = 10  # samples asked for each composer: with 2, a recognition rate moves in steps of 50%
# Krumhansl-Kessler key profiles (major, minor), from the tonic up
_MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
_MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])
_LOG_LENGTHS = np.log2([v for _, v in LENGTH_CLASSES])
MIN_NOTES = 8  # an excerpt with fewer notes says nothing about its composer


def key_of(pcs: np.ndarray) -> tuple[int, int]:
    """(tonic pitch class, 1 for minor) of a duration- or count-weighted pitch-class histogram:
    the Krumhansl-Kessler profile it correlates with best."""
    if not pcs.sum():
        return 0, 0
    best, key = -2.0, (0, 0)
    for mode, profile in ((0, _MAJOR), (1, _MINOR)):
        for tonic in range(12):
            r = np.corrcoef(np.roll(profile, tonic), pcs)[0, 1]
            if r > best:
                best, key = r, (tonic, mode)
    return key


def features(piece: Piece) -> np.ndarray:
    """The judge's view of a piece, the same in every key: 12 pitch classes counted from the
    tonic and the mode (2), 25 top-line intervals (-12..12 semitones, wider ones clipped), 12
    vertical interval classes between notes struck together, 16 note lengths, 12 onset positions
    within the beat (twelfths of a quarter), 16 inter-onset intervals (each histogram sums to 1),
    and pitch spread, notes per onset, onsets per quarter (scaled to about 1)."""
    notes = piece_notes(piece)
    out = np.zeros(12 + 2 + 25 + 12 + 16 + 12 + 16 + 3)
    if not notes:
        return out
    pitch = np.array([n.pitch for n in notes], dtype=float)
    weight = np.array([n.duration for n in notes], dtype=float)
    pcs = np.bincount(pitch.astype(int) % 12, weights=weight, minlength=12)
    tonic, minor = key_of(pcs)
    times, groups = onset_groups(notes)
    top = np.array([max(x.pitch for x in g) for g in groups], dtype=float)
    steps = np.clip(np.diff(top), -12, 12).astype(int) + 12 if len(top) > 1 else np.zeros(0, dtype=int)
    vertical = np.bincount([(b.pitch - a.pitch) % 12 for g in groups for i, a in enumerate(g) for b in g[i + 1:]], minlength=12)
    durs = np.log2(np.maximum([n.duration for n in notes], 1e-3))
    lengths = np.bincount(np.abs(durs[:, None] - _LOG_LENGTHS[None]).argmin(1), minlength=16)
    where = np.bincount(np.round((times % 1.0) * 12).astype(int) % 12, minlength=12)
    iois = np.diff(times)
    iois = iois[iois > 1e-6]
    ioi = np.bincount(np.abs(np.log2(iois)[:, None] - _LOG_LENGTHS[None]).argmin(1), minlength=16) if len(iois) else np.zeros(16)

    def share(h: np.ndarray) -> np.ndarray:
        return h / h.sum() if h.sum() else h * 0.0

    span = max(float(times[-1] - times[0]), 1.0)
    scalars = [pitch.std() / 12.0, len(notes) / len(groups) / 4.0, len(groups) / span / 4.0]
    return np.concatenate([share(np.roll(pcs, -tonic)), np.eye(2)[minor], share(np.bincount(steps, minlength=25)), share(vertical), share(lengths),
                           share(where), share(ioi), scalars])


def excerpts(piece: Piece, quarters: float = SEGMENT) -> list[Piece]:
    """``piece`` cut into back-to-back excerpts of ``quarters`` (those with too few notes left out)."""
    end = piece.end
    cuts = [piece.slice(a, a + quarters) for a in np.arange(0.0, max(end, quarters), quarters)]
    return [c for c in cuts if len(piece_notes(c)) >= MIN_NOTES]


@dataclass
class ComposerClassifier:
    """Multinomial logistic regression on standardised :func:`features`, L2-regularised."""

    classes: list[str]
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray  # (features + 1, classes), the last row the bias

    @classmethod
    def fit(cls, pieces: list[Piece], labels: list[str], l2: float = 1e-2, steps: int = 500, rate: float = 0.5) -> "ComposerClassifier":
        """Full-batch gradient descent on the mean cross-entropy (the problem is convex and small:
        hundreds of excerpts, about 85 features)."""
        classes = sorted(set(labels))
        X = np.stack([features(p) for p in pieces])
        mean, scale = X.mean(0), X.std(0) + 1e-6
        Xb = np.hstack([(X - mean) / scale, np.ones((len(X), 1))])
        Y = np.eye(len(classes))[[classes.index(y) for y in labels]]
        # balanced: every composer weighs the same in the loss, however many excerpts it has
        w = (1.0 / Y.sum(0))[Y.argmax(1)]
        w = w / w.sum()
        W = np.zeros((Xb.shape[1], len(classes)))
        for _ in range(steps):
            P = _softmax(Xb @ W)
            grad = Xb.T @ ((P - Y) * w[:, None]) + l2 * np.vstack([W[:-1], np.zeros((1, len(classes)))])
            W -= rate * grad
        return cls(classes, mean, scale, W)

    def probabilities(self, pieces: list[Piece]) -> np.ndarray:
        X = np.stack([features(p) for p in pieces]) if pieces else np.zeros((0, len(self.mean)))
        return _softmax(np.hstack([(X - self.mean) / self.scale, np.ones((len(X), 1))]) @ self.weights)

    def predict(self, pieces: list[Piece]) -> list[str]:
        return [self.classes[i] for i in self.probabilities(pieces).argmax(1)] if pieces else []


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(1, keepdims=True)


def labelled_pieces(dataset: Path, codec: Any, split: str) -> list[tuple[str, Piece]]:
    """(composer, piece) of every untransposed piece of ``split`` that has a composer label."""
    from cadenza.evaluation.heldout import fast_piece, split_pieces

    out = []
    for text, row in split_pieces(dataset, split, codec.unit):
        composer = (row.get("labels") or {}).get("composer")
        if composer and not row.get("transpose"):
            try:
                out.append((composer, fast_piece(codec, text, row.get("info") or {}, row["name"])))
            except Exception:  # a piece the decoder cannot read is no evidence either way
                continue
    return out


def train_classifier(dataset: Path, codec: Any, folds: int = 5) -> tuple[ComposerClassifier | None, dict[str, Any]]:
    """The classifier fit on the excerpts of every held-out piece (validation and test: the
    language model trained on neither), and its accuracy on real music by ``folds``-fold
    cross-validation grouped by piece (no piece's excerpts on both sides): per excerpt and, by
    majority vote, per piece. None when fewer than two composers have held-out pieces."""
    pieces = labelled_pieces(dataset, codec, "val") + labelled_pieces(dataset, codec, "test")
    cut = [(c, excerpts(p) or [p]) for c, p in pieces]
    known = sorted({c for c, _ in cut})
    info: dict[str, Any] = {"composers": known, "pieces": len(cut), "excerpts": sum(len(x) for _, x in cut), "pieces_by_composer": dict(sorted(Counter(c for c, _ in cut).items()))}
    if len(known) < 2:
        return None, dict(info, problem="fewer than two composers among the held-out pieces")
    right = votes = n_ex = 0
    confusion: dict[str, Counter] = {c: Counter() for c in known}  # per true composer, the pieces' votes
    fold_of = _folds([c for c, _ in cut], folds)
    for k in range(folds):
        fit = [(c, x) for i, (c, xs) in enumerate(cut) if fold_of[i] != k for x in xs]
        if len({c for c, _ in fit}) < 2:
            continue
        clf = ComposerClassifier.fit([x for _, x in fit], [c for c, _ in fit])
        for c, xs in (cx for i, cx in enumerate(cut) if fold_of[i] == k):
            guess = clf.predict(xs)
            right += sum(g == c for g in guess)
            n_ex += len(guess)
            vote = Counter(guess).most_common(1)[0][0]
            votes += vote == c
            confusion[c][vote] += 1
    clf = ComposerClassifier.fit([x for _, xs in cut for x in xs], [c for c, xs in cut for _ in xs])
    per_class = [confusion[c][c] / sum(confusion[c].values()) for c in known if sum(confusion[c].values())]
    info.update(excerpt_accuracy=right / n_ex if n_ex else None, piece_accuracy=votes / len(cut), balanced_piece_accuracy=float(np.mean(per_class)) if per_class else None,
                chance=1.0 / len(known), folds=folds, confusion={c: dict(confusion[c]) for c in known})
    return clf, info


def _folds(labels: list[str], folds: int) -> list[int]:
    """A fold per piece, dealt round-robin within each composer, so every fold holds every
    composer in proportion (grouped by piece: a piece's excerpts share its fold)."""
    seen: Counter = Counter()
    out = []
    for c in labels:
        out.append(seen[c] % folds)
        seen[c] += 1
    return out


def composer_section(run: Any, out: Path, codec: Any, config: dict[str, Any], dataset: Path | None, opts: Any, unconditioned: list[Piece | None],
                     say: Callable[[str, int, int], None]) -> dict[str, Any] | None:
    """How often samples asked for a composer are recognised as that composer, against the
    unconditioned samples of the same evaluation and chance (None: the model has no composer
    labels, or there is no dataset to train the classifier on)."""
    from cadenza.codecs.labels import known_labels

    asked_for = known_labels(config.get("context")).get("composer")
    if not asked_for or dataset is None:
        return None
    say("composer classifier", 0, 1)
    clf, info = train_classifier(dataset, codec)
    if clf is None:
        return {"classifier": info}
    composers = [c for c in clf.classes if c in asked_for]
    per = max(MIN_SAMPLES, opts.n_samples // max(len(composers), 1))
    rows: dict[str, dict[str, Any]] = {}
    hits = total = 0
    for i, c in enumerate(composers):
        say("composer samples", i, len(composers))
        pieces = _conditioned_samples(run, out / "composer-samples" / c, codec, config, opts, c, per)
        guess = clf.predict([p for p in pieces if p is not None and piece_notes(p)])
        rows[c] = {"samples": len(guess), "recognised": sum(g == c for g in guess), "guessed": dict(Counter(guess))}  # a row of the samples' confusion table
        hits += rows[c]["recognised"]
        total += len(guess)
    plain = [p for p in unconditioned if p is not None and piece_notes(p)]
    guess = clf.predict(plain)
    # each unconditioned sample is "asked for" a composer in turn, as the conditioned ones were
    plain_hits = sum(g == composers[i % len(composers)] for i, g in enumerate(guess)) if composers else 0
    say("composer samples", len(composers), len(composers))
    return {"classifier": info, "per_composer": rows, "conditioned_recognised": hits / total if total else None, "conditioned_samples": total,
            "unconditioned_recognised": plain_hits / len(guess) if guess else None, "unconditioned_samples": len(guess),
            "unconditioned_guessed": dict(Counter(guess)), "chance": 1.0 / len(composers) if composers else None}


def _conditioned_samples(run: Any, out: Path, codec: Any, config: dict[str, Any], opts: Any, composer: str, n: int) -> list[Piece | None]:
    """``n`` samples asked for ``composer`` (the label opens the prime), decoded."""
    from cadenza.evaluation.heldout import decode_piece
    from cadenza.generation import Request, generate

    ask = Request(n=n, length=opts.length, seed=opts.seed, options=opts.sampling, bars=opts.bars if codec.bar_token else 0, labels={"composer": composer})
    samples = generate(run, out, ask, formats=tuple(f for f in codec.sample_formats if f != "musicxml"))
    got = []
    for s in samples:
        try:
            written = s.files.get("krn")
            kern = written.read_text(encoding="utf-8") if written is not None and written.exists() else None
            got.append(decode_piece(codec, s.text, config.get("context", {}), f"{composer}-{s.index}", kern)[1])
        except Exception:  # an unreadable sample is simply not recognised
            got.append(None)
    return got
