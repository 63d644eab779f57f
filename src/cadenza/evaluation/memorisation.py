"""Does a sample copy its training set? Each piece's longest stretch found verbatim in a training
piece and its share of bar windows found there (:func:`memorisation`), for the samples and, as
the human baseline, for held-out excerpts as long as the samples and for whole held-out pieces.
:func:`memorisation_section` is the report's "Memorisation" section: a sample copying more than 9
in 10 same-length held-out excerpts do is flagged."""

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
    return _measure(piece, index, window_bars, _tokens(piece, index))


def excerpt_memorisation(piece: Piece, index: TrainingIndex, onsets: int, window_bars: int = 4) -> list[dict[str, Any]]:
    """:func:`memorisation` of each non-overlapping excerpt of ``onsets`` onsets of ``piece``
    (none where it is shorter): a baseline as long as the samples, since a whole piece has more
    chances to contain a long quotation than a 16-bar sample has."""
    tok = _tokens(piece, index)
    n = len(tok[1])
    return [dict(start_onset=a, **_measure(piece, index, window_bars, tok, (a, a + onsets))) for a in range(0, n - onsets + 1, max(1, onsets))] if onsets > 1 else []


def _tokens(piece: Piece, index: TrainingIndex) -> tuple[list[tuple], np.ndarray, np.ndarray, np.ndarray]:
    tokens, times, counts = onset_tokens(piece)
    return tokens, times, counts, index.match_lengths(tokens)


def _measure(piece: Piece, index: TrainingIndex, window_bars: int, tok: tuple, span: tuple[int, int] | None = None) -> dict[str, Any]:
    """The figures of onsets ``span`` (all by default): matches are cut at the span's end."""
    tokens, times, counts, full = tok
    lo, hi = span or (0, len(times))
    ms = np.minimum(full[lo : max(lo, hi - 1)], np.arange(hi - 1 - lo, 0, -1)) if hi - lo > 1 else np.zeros(0, dtype=int)
    out: dict[str, Any] = {"onsets": int(hi - lo), "notes": int(counts[lo:hi].sum())}
    if ms.size and ms.max() > 0:
        i = int(ms.argmax())
        length = int(ms[i])
        i += lo
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
        wlo = int(np.searchsorted(times, a - 1e-9, "left"))
        whi = int(np.searchsorted(times, b - 1e-9, "left"))
        if whi - wlo < 2 or wlo < lo or whi > hi:
            continue
        windows += 1
        found += int(full[wlo] >= whi - 1 - wlo)
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


def _limit(values: list[Any]) -> float | None:
    v = [x for x in values if x is not None]
    return float(np.percentile(v, BASELINE_PERCENTILE)) if v else None


def memorisation_section(index: TrainingIndex, test: list[HeldOut], samples: list[tuple[int, Piece | None]], window_bars: int, warnings: list[str]) -> dict[str, Any]:
    """Memorisation of each sample ``(index, memorisation piece)`` and, as the human baseline,
    of held-out excerpts as long as the samples (their median onsets) and of whole held-out
    pieces. A sample is flagged when it copies more than 9 in 10 excerpts do (the max is one
    outlier away); whole pieces where no held-out piece is that long. A held-out piece sharing
    half its windows with training is a likely duplicate."""
    base = [dict(name=h.name, **memorisation(h.fast, index, window_bars)) for h in test if h.fast is not None]
    samp = [dict(sample=i, **memorisation(fast, index, window_bars)) for i, fast in samples if fast is not None]
    length = int(np.median([s_["onsets"] for s_ in samp])) if samp else 0
    excerpts = [dict(name=h.name, **e) for h in test if h.fast is not None for e in excerpt_memorisation(h.fast, index, length, window_bars)]
    ref, what = (excerpts, f"held-out excerpts of {length} onsets") if excerpts else (base, "held-out pieces")
    lim_notes, lim_share = _limit([b["longest_notes"] for b in ref]), _limit([b["window_share"] for b in ref])
    flagged = []
    for s_ in samp:
        why = []
        if lim_notes is not None and s_["longest_notes"] > lim_notes:
            why.append(f"copies {s_['longest_notes']} notes ({s_['longest_bars']} bars) in a row from training; 9 in 10 {what} at most {lim_notes:g}")
        if lim_share is not None and s_["window_share"] is not None and s_["window_share"] > lim_share:
            why.append(f"{s_['window_share']:.0%} of its {window_bars}-bar windows occur in training; 9 in 10 {what} at most {lim_share:.0%}")
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
    elif samp and not excerpts:
        warnings.append(f"no held-out piece is as long as the samples ({length} onsets): samples are judged against whole pieces, which favours them")
    b_notes = [b["longest_notes"] for b in base]
    b_shares = [b["window_share"] for b in base if b["window_share"] is not None]
    return {
        "representation": REPRESENTATION,
        "training_pieces": index.n_pieces,
        "training_tokens": index.n_tokens,
        "window_bars": window_bars,
        "samples": samp,
        "baseline": base,
        "baseline_excerpts": excerpts,
        "excerpt_onsets": length,
        "flagged_against": what,
        "baseline_max_longest_notes": max(b_notes, default=None),
        "baseline_max_window_share": max(b_shares, default=None),
        "baseline_percentile": BASELINE_PERCENTILE,
        "baseline_limit_longest_notes": lim_notes,
        "baseline_limit_window_share": lim_share,
        "baseline_whole_limit_longest_notes": _limit(b_notes),
        "baseline_whole_limit_window_share": _limit(b_shares),
        "excerpts_max_longest_notes": max((e["longest_notes"] for e in excerpts), default=None),
        "excerpts_mean_window_share": _mean([e["window_share"] for e in excerpts]),
        "samples_max_longest_notes": max((s_["longest_notes"] for s_ in samp), default=None),
        "samples_mean_window_share": _mean([s_["window_share"] for s_ in samp]),
        "baseline_mean_window_share": _mean([b["window_share"] for b in base]),
        "flagged_samples": flagged,
    }
