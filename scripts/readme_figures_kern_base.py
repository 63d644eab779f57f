"""The kern-base section's figures (issue #20) and the start-up row (issue #21), registered in scripts/readme_figure_list.py: where
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


def startup(src: Sources) -> dict[str, str]:
    s = src("startup")
    gen = next(r for r in s["rows"] if "--formats krn,mid" in r["figure"])
    comp = next(r for r in s["rows"] if "compose" in r["figure"])
    default = next(r for r in s["rows"] if "(krn, mid, musicxml)" in r["figure"])
    met = {True: "met", False: "missed"}
    return {"n": str(s["repeat"]), "load": num(s["machine"]["load_average_before"][0], 1), "gen": num(gen["value"], 2), "gen_met": met[gen["met"]],
            "comp": num(comp["value"], 2), "comp_met": met[comp["met"]], "naive": num(gen["anchor"], 2), "default": num(default["value"], 2)}


STARTUP = Figures(startup, (
    "Last run ({n} runs each, one core left free by a training job, load average {load}): `generate` {gen} s",
    "wall (target 2 s: {gen_met:word}), `compose` {comp} s (target 4 s: {comp_met:word}), the naive loop {naive} s; `generate`",
    "with its default formats (MusicXML through music21) {default} s.",
))
