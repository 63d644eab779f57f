"""Does a sample copy its training set? Each piece's longest stretch found verbatim in a training
piece and its share of bar windows found there (:func:`memorisation`), for the samples and, as
the human baseline, for the held-out test pieces. :func:`memorisation_section` is the report's
"Memorisation" section: a sample copying more than 9 in 10 held-out pieces do is flagged."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np

from cadenza.evaluation.heldout import HeldOut, fast_piece, split_pieces
from cadenza.evaluation.pieces import bar_bounds, bar_length
from cadenza.evaluation.training_index import TrainingIndex, onset_tokens
from cadenza.music import Piece

BASELINE_PERCENTILE = 90  # samples copying more than this percentile of held-out pieces are flagged
REPRESENTATION = "per onset: (IOI in 1/48 quarter, pitches starting there minus the previous onset's highest pitch)"


def memorisation(piece: Piece, index: TrainingIndex, window_bars: int = 4) -> dict[str, Any]:
    """Longest stretch of ``piece`` found in the training set and the share of its
    ``window_bars``-bar windows found verbatim (see :mod:`cadenza.evaluation.method`)."""
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


def index_training_pieces(dataset: Path, codec, say: Callable[[str, int, int], None]) -> TrainingIndex:
    """The index of the training split's untransposed pieces (their transposed copies give the
    same tokens); a piece the decoder cannot read is left out."""
    train_rows = split_pieces(dataset, "train", codec.unit)
    originals = [(t, r) for t, r in train_rows if not r.get("transpose")]
    train_pieces = []
    for i, (text, row) in enumerate(originals):
        if i % 50 == 0:
            say("indexing training pieces", i, len(originals))
        try:
            train_pieces.append(fast_piece(codec, text, row.get("info") or {}, row["name"]))
        except Exception:
            continue
    say("indexing training pieces", len(originals), len(originals))
    return TrainingIndex(train_pieces)


def _mean(values: list[Any]) -> float | None:
    v = [x for x in values if x is not None]
    return float(np.mean(v)) if v else None


def memorisation_section(index: TrainingIndex, test: list[HeldOut], samples: list[tuple[int, Piece | None]], window_bars: int, warnings: list[str]) -> dict[str, Any]:
    """Memorisation of each sample ``(index, memorisation piece)`` and held-out piece; the limit
    for flagging a sample is what 9 in 10 held-out pieces stay within (the max is one outlier
    away). A held-out piece sharing half its windows with training is a likely duplicate."""
    base = [dict(name=h.name, **memorisation(h.fast, index, window_bars)) for h in test if h.fast is not None]
    samp = [dict(sample=i, **memorisation(fast, index, window_bars)) for i, fast in samples if fast is not None]
    b_notes = [b["longest_notes"] for b in base]
    b_shares = [b["window_share"] for b in base if b["window_share"] is not None]
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
    return {
        "representation": REPRESENTATION,
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
