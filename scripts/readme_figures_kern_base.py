"""The kern-base section's figures (issue #20), registered in scripts/readme_figure_list.py: where
the base model of every score stands on the bundled kern models' own held-out test pieces
(benchmarks/results/kern_base_progress.json, written by benchmarks/kern_base_progress.py)."""

from __future__ import annotations

from readme_figures import Figures, Sources, num


def kern_base(src: Sources) -> dict[str, str]:
    p = src("kern_base_progress")
    rows = {r["dataset"]: r for r in p["rows"]}
    m, b = rows["mozart-all"], rows["beethoven-all"]
    return {"m": num(m["kern_base_bits"], 3), "b": num(b["kern_base_bits"], 3), "mb": num(m["bundled_bits"], 3), "bb": num(b["bundled_bits"], 3),
            "steps": num(p["steps"], 0), "max": num(p["max_steps"], 0)}


KERN_BASE = Figures(kern_base, (
    "the Mozart test pieces read at {m} bits/char",
    "and Beethoven's at {b}, against the bundled models' {mb} and {bb}, after {steps} of the {max}",
))
