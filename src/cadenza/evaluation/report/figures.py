"""The report's figures as PNG files in the report folder: the run's loss curve, the mean
histograms of samples and held-out excerpts, the intra/inter distance densities per feature, and
memorisation per sample against the held-out limit."""

from __future__ import annotations

import math
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from cadenza.evaluation.features import LENGTH_CLASSES, PITCH_NAMES


def draw_figures(out: Path, run: Path, report: dict[str, Any], cmp: dict[str, dict[str, Any]]) -> dict[str, Path]:
    """Draw what the report has data for; returns figure key -> PNG path. ``cmp``: the rows of
    :func:`cadenza.evaluation.similarity.compare_sets`, with their KDE curves."""
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
        intervals = (report.get("statistics") or {}).get("interval_classes") or {}
        panels = [(cmp[k]["reference"]["mean"], cmp[k]["samples"]["mean"], labels, title) for k, labels, title in (
            ("pitch_class_histogram", PITCH_NAMES, "Pitch classes"), ("note_length_histogram", [n for n, _ in LENGTH_CLASSES], "Note lengths"),
            ("ioi_histogram", [n for n, _ in LENGTH_CLASSES], "Inter-onset intervals"))]
        if intervals.get("samples") is not None:
            panels.append((intervals.get("reference"), intervals["samples"], intervals["names"], "Vertical intervals (mod 12)"))
        fig, axes = plt.subplots(1, len(panels), figsize=(4.4 * len(panels), 3.4))
        for ax, (ref, gen, labels, title) in zip(axes, panels):
            x = np.arange(len(labels))
            for off, m, who, color in ((-0.2, ref, "reference", "tab:blue"), (0.2, gen, "samples", "tab:orange")):
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
