"""How alike two sets of pieces are, feature by feature (Yang & Lerch 2018, "On the evaluation of
generative models in music", Neural Comput. & Applic. 32): the intra-set distances of the
held-out excerpts against the inter-set distances of samples to them, smoothed by a KDE and
compared by their overlapping area (OA) and KL divergence. :func:`statistics_section` is the
report's "Musical statistics" section."""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from cadenza.evaluation.features import FEATURES, INTERVAL_NAMES, LENGTH_CLASSES, PITCH_NAMES, best_scale, interval_class_counts, piece_features
from cadenza.evaluation.pieces import bar_length, excerpts, piece_notes
from cadenza.music import Piece


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
    """Overlapping area and KL(intra || inter) of the KDEs of two distance sets (see
    :mod:`cadenza.evaluation.method`); ``(None, None, {})`` when either set is empty."""
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


def _pooled(pieces: list[Piece]) -> list[float] | None:
    counts = sum((interval_class_counts(p) for p in pieces), np.zeros(12))
    return (counts / counts.sum()).tolist() if counts.sum() else None


def statistics_section(samples: list[Piece | None], held_out: list[Piece | None], warnings: list[str], say: Callable[[str, int, int], None]) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """Samples (those with notes) against the held-out pieces cut into excerpts as long as the
    median sample (rounded to whole bars), so length-dependent features compare like with like.
    Returns the section and the rows of :func:`compare_sets` (with the KDE curves to draw)."""
    gen_pieces = [p for p in samples if p is not None and piece_notes(p)]
    excerpt = float(np.median([p.end for p in gen_pieces])) if gen_pieces else 0.0
    if gen_pieces:
        bl = bar_length(gen_pieces[0])
        excerpt = max(bl, round(excerpt / bl) * bl)
    ref_pieces: list[Piece] = []
    for p in held_out:
        if p is None or not piece_notes(p):
            continue
        ref_pieces += excerpts(p, excerpt) if excerpt else [p]
    say("statistics", 0, 1)
    gen_feats = [piece_features(p) for p in gen_pieces]
    ref_feats = [piece_features(p) for p in ref_pieces]
    cmp = compare_sets(ref_feats, gen_feats) if gen_feats else {}
    oas = [r["oa"] for r in cmp.values() if r["oa"] is not None]
    section = {
        "n_samples": len(gen_feats),
        "n_reference_excerpts": len(ref_feats),
        "excerpt_quarters": excerpt,
        "features": {k: {kk: vv for kk, vv in v.items() if not kk.startswith("_")} for k, v in cmp.items()},
        "mean_overlap_area": float(np.mean(oas)) if oas else None,
        "length_classes": [n for n, _ in LENGTH_CLASSES],
        "pitch_classes": list(PITCH_NAMES),
        "sample_best_scales": [best_scale(p)[0] for p in gen_pieces],
        # the vertical intervals of all samples / all excerpts pooled, as shares per class: a
        # diagnosis of the consonance figure (not a feature: the headline mean is unchanged)
        "interval_classes": {"names": list(INTERVAL_NAMES), "samples": _pooled(gen_pieces), "reference": _pooled(ref_pieces)},
    }
    if gen_feats and len(ref_feats) < 5:
        warnings.append(f"only {len(ref_feats)} held-out excerpt(s) to compare with: overlap areas and KL divergences are unreliable")
    say("statistics", 1, 1)
    return section, cmp
