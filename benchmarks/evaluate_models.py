"""The README's Evaluate, Infill and Conditioning figures: ``cadenza evaluate`` on each bundled
model (and on the models they replaced, as committed then), each report cut down to a small
summary in benchmarks/results/evaluate_<case>.json (reports/ itself is not committed).

Each case runs the exact command it records, from ``--workdir`` (default: the repository root),
where ``evaluate`` finds a bundled model's dataset as ``data/<name>``; ``--prepare`` first
prepares a missing dataset with its command from ``scripts/make_models.sh``. A replaced model's
weights come from git (``git show COMMIT:src/cadenza/pretrained/NAME/...`` into ``runs/``); the
first Mozart model's report was committed before reports left the repository and is summarised
from git as it stands, not re-run. One thread; about a minute a case on 2 busy cores.

    python benchmarks/evaluate_models.py [CASE ...] [--prepare] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
SHARED = Path(os.environ.get("SHARED") or ROOT.parent / "shared").resolve()  # the corpora, wherever --workdir is


@dataclass(frozen=True)
class Case:
    """One evaluation: ``model`` (a bundled name) with ``args``; ``commit``: the weights as
    committed then (a model since replaced); ``report_commit``: summarise the report committed
    then instead of running anything."""

    model: str
    args: tuple[str, ...] = ()
    commit: str | None = None
    report_commit: str | None = None
    what: str = ""


CASES = {
    "mozart-kern": Case("mozart-kern", what="the bundled mozart-kern"),
    "mozart-kern-seed100": Case("mozart-kern", ("--seed", "100"), what="the bundled mozart-kern, another 20 samples"),
    "beethoven-kern": Case("beethoven-kern", what="the bundled beethoven-kern"),
    "bach-notewise": Case("bach-notewise", what="the bundled bach-notewise"),
    "piano-notewise": Case("piano-notewise", ("-n", "26", "--length", "1200"), what="the bundled piano-notewise: 2 samples asked for each composer, 26 unconditioned"),
    "mozart-kern-replaced": Case("mozart-kern", commit="31a8865cc1d9fd5a3f9e167ae4191a95250258b8",
                                 what="the mozart-kern that the fine-tune of kern-base replaced (3x128, fine-tuned from beethoven-kern's first stage)"),
    "beethoven-kern-replaced": Case("beethoven-kern", commit="31a8865cc1d9fd5a3f9e167ae4191a95250258b8",
                                    what="the beethoven-kern that the fine-tune of kern-base replaced (3x128, 35 + 40 CPU minutes)"),
    "mozart-kern-psm": Case("mozart-kern", commit="cf2e593346845587fa8d0ef07391e5fde1dff808",
                            what="the mozart-kern that 02fd20b replaced (from scratch, 2.5 GPU minutes, PSM infill)"),
    "beethoven-kern-psm": Case("beethoven-kern", commit="b4b5919b5c37831235a4dc7c2495885089f9e3e5",
                               what="the beethoven-kern that 02597e8 replaced (35 CPU minutes, PSM infill)"),
    "kern-base": Case("kern-base", ("-n", "34", "--max-test-pieces", "200"),
                      what="the bundled kern-base: 10 samples asked for each composer the judge knows, 34 unconditioned; 200 test pieces read"),
    "bach-notewise-replaced": Case("bach-notewise", commit="b4b5919b5c37831235a4dc7c2495885089f9e3e5",
                                   what="the bach-notewise that 02597e8 replaced (6 GPU minutes, PSM infill)"),
    "piano-notewise-replaced": Case("piano-notewise", commit="ccf3923888b13d1e93642bc1f25b8d7dbfd1739a",
                                    what="the piano-notewise that f5c9955 replaced (88 keys, 40 CPU minutes, no labels, no infill)"),
    "mozart-kern-2015": Case("mozart-kern", report_commit="2dcb33f8c5b182be26867e5b5c6d8babfc666de9",
                             what="the first Mozart model (runs/mozart-lstm: char-rnn's recipe on the 2015 header-less text); its report as committed in 2dcb33f, not re-run"),
}

# the datasets bundled models were trained on, prepared as scripts/make_models.sh prepares them ("{shared}": ../shared)
DATASETS = {
    "mozart-all": ["{shared}/corpora/mozart-piano-sonatas", "--transpose", "all", "--seed", "0"],
    "beethoven-all": ["{shared}/corpora/beethoven-piano-sonatas", "--transpose", "all", "--seed", "0"],
    "bach-nw": ["music21:bach", "--codec", "notewise", "--steps-per-quarter", "4", "--transpose", "all", "--seed", "0"],
    "piano-nw88": ["{shared}/midi/piano-midi", "--codec", "notewise", "--note-range", "88", "--transpose", "all", "--seed", "0"],
    "piano-cond": ["{shared}/midi/piano-midi", "--codec", "notewise", "--note-range", "88", "--transpose", "all",
                   "--condition", "composer", "--label-min-pieces", "10", "--seed", "0"],
}
FILES = ("MODEL.json", "config.json", "best.safetensors")


def _git(*args: str) -> bytes:
    return subprocess.run(["git", *args], cwd=ROOT, check=True, capture_output=True).stdout


def _mean_sd(stats: dict[str, Any] | None) -> list[float] | None:
    return None if not stats else [round(stats["mean"], 4), round(stats.get("sd", 0.0), 4)]


def summarise(report: dict[str, Any]) -> dict[str, Any]:
    """The figures of a report.json that the README quotes (and little else)."""
    lk, va, st, mem = report.get("likelihood") or {}, report.get("validity") or {}, report.get("statistics") or {}, report.get("memorisation")
    out: dict[str, Any] = {
        "settings": {k: report.get("settings", {}).get(k) for k in ("n_samples", "bars", "length", "seed", "metre", "key", "composer")},
        "likelihood": {k: lk.get(k) for k in ("pieces", "tokens", "bits_per_token", "bits_per_note")} if lk else None,
        "validity": {k: va.get(k) for k in ("samples", "parsed_share", "bar_share")},
        "mean_overlap_area": st.get("mean_overlap_area"),
        "features": {name: {"samples": _mean_sd(f.get("samples")), "reference": _mean_sd(f.get("reference")), "overlap_area": round(f["oa"], 4)}
                     for name, f in (st.get("features") or {}).items() if f.get("kind") == "scalar"},
    }
    if "interval_classes" in st:
        ic = st["interval_classes"]
        out["interval_classes"] = {"names": ic["names"], "samples": [round(x, 4) for x in ic["samples"]], "reference": [round(x, 4) for x in ic["reference"]]}
    if mem:
        out["memorisation"] = {k: mem.get(k) for k in ("samples_max_longest_notes", "baseline_limit_longest_notes", "baseline_whole_limit_longest_notes", "baseline_percentile")}
        out["memorisation"]["flagged_samples"] = len(mem.get("flagged_samples") or [])
    if (inf := report.get("infilling")) and inf.get("middles"):
        out["infilling"] = {k: inf[k] for k in ("middles", "pieces", "tokens", "before", "after")} | {
            k: round(inf[k], 4) for k in ("fim_bits_per_token", "left_bits_per_token", "fim_over_left")}
    if (comp := report.get("composer")) and "per_composer" in comp:  # all but the classifier's confusion table
        out["composer"] = comp | {"classifier": {k: v for k, v in comp["classifier"].items() if k != "confusion"}}
    return out


def _machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}, Python {platform.python_version()}"


def run_case(name: str, case: Case, workdir: Path, prepare: bool) -> dict[str, Any]:
    """Evaluate one case (or read its committed report) and return its summary."""
    if case.report_commit:
        path = f"reports/{case.model}/report.json"
        report = json.loads(_git("show", f"{case.report_commit}:{path}"))
        return {"case": name, "what": case.what, "source": f"git show {case.report_commit}:{path}", "run": report.get("run"),
                "dataset": report.get("dataset"), "re_measured": False} | summarise(report)
    config = json.loads((ROOT / "src/cadenza/pretrained" / case.model / "config.json").read_text() if not case.commit
                        else _git("show", f"{case.commit}:src/cadenza/pretrained/{case.model}/config.json"))
    dataset = config["dataset"]
    if not (workdir / "data" / dataset / "manifest.json").exists():
        if not prepare or dataset not in DATASETS:
            raise SystemExit(f"{workdir / 'data' / dataset} is missing: run with --prepare (or `make models`)")
        args = [a.format(shared=SHARED) for a in DATASETS[dataset]]
        subprocess.run([sys.executable, "-m", "cadenza", "prepare", *args, "-o", f"data/{dataset}"], cwd=workdir, check=True)
    target = case.model
    if case.commit:  # the weights as committed then, as a run folder
        folder = workdir / "runs" / f"{case.model}-{case.commit[:7]}"
        folder.mkdir(parents=True, exist_ok=True)
        for f in FILES:
            (folder / f).write_bytes(_git("show", f"{case.commit}:src/cadenza/pretrained/{case.model}/{f}"))
        target = f"runs/{folder.name}"
    command = ["cadenza", "evaluate", target, "-o", f"reports/{name}", *case.args]
    began = time.time()
    subprocess.run([sys.executable, "-m", *command], cwd=workdir, check=True, env=os.environ | {"OMP_NUM_THREADS": "1"})
    report = json.loads((workdir / "reports" / name / "report.json").read_text(encoding="utf-8"))
    return {"case": name, "what": case.what, "command": shlex.join(command), "weights": f"git show {case.commit}:src/cadenza/pretrained/{case.model}/"
            if case.commit else f"src/cadenza/pretrained/{case.model}/ (bundled)", "dataset": {"name": dataset, "prepare": shlex.join(
                ["cadenza", "prepare", *(a.format(shared="../shared") for a in DATASETS.get(dataset, ["?"])), "-o", f"data/{dataset}"])}, "re_measured": True,
            "date": time.strftime("%Y-%m-%d"), "seconds": round(time.time() - began, 1), "machine": _machine(),
            "load_average": [round(x, 2) for x in os.getloadavg()]} | summarise(report)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("cases", nargs="*", help=f"some of: {', '.join(CASES)} (default: all)")
    ap.add_argument("--workdir", type=Path, default=ROOT, help="where data/ is (and runs/, reports/ go)")
    ap.add_argument("--prepare", action="store_true", help="prepare a missing dataset first")
    args = ap.parse_args()
    unknown = [c for c in args.cases if c not in CASES]
    if unknown:
        raise SystemExit(f"unknown case(s) {', '.join(unknown)}; known: {', '.join(CASES)}")
    for name in args.cases or list(CASES):
        summary = run_case(name, CASES[name], args.workdir.resolve(), args.prepare)
        out = RESULTS / f"evaluate_{name}.json"
        out.write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
