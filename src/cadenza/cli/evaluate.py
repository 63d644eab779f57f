"""``cadenza evaluate`` (how good a model's music is) and ``cadenza benchmark poly`` (how it
compares with published numbers)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.table import Table
from rich.text import Text

from cadenza.cli import options as o
from cadenza import CadenzaError
from cadenza.cli.common import console, err, fail, progress, reporting, warn
from cadenza.cli.options import DEFAULT


def evaluate(
    run: str = typer.Argument(..., help="A run folder or bundled model name."),
    out: Path = typer.Option(..., "-o", "--out", help="Report folder: report.json, report.md, report.html and plots."),
    n: int = typer.Option(20, "-n", help="Samples to generate and judge (fixed seeds)."),
    bars: int = typer.Option(16, help="kern: bars per sample."),
    length: int = typer.Option(1000, help="notewise/chordwise: tokens per sample."),
    seed: int = typer.Option(0, help="Seed of the first sample."),
    temperature: o.Temperature = DEFAULT.options.temperature,
    beam: int = typer.Option(0, help="Judge beam-search output instead (conservative: compare the numbers)."),
    max_test_pieces: int = typer.Option(0, help="Score at most this many held-out pieces (0: all)."),
    composer: Optional[str] = typer.Option(None, "--composer", help="A model prepared with --condition composer: judge samples asked for this composer."),
    metre: Optional[str] = typer.Option(None, "--metre", help="kern: judge samples in this metre (3/4, 6/8, 4/2); default: drawn per sample from the training pieces."),
    key: Optional[str] = typer.Option(None, "--key", help="kern: judge samples in this key (F, g, G:dor); default: drawn per sample from the training pieces."),
    dataset: Optional[Path] = typer.Option(None, "--dataset", help="The dataset the model was trained on (default: the one its config names, beside the run or in ./data)."),
    chords: Optional[str] = typer.Option(None, "--chords", help="A model prepared with --condition chords: measure instead how many bars of -n samples of --bars bars carry the chord asked (\"C | Am | F | G7\", or with --key \"I | vi | IV | V7\"), against samples of the same seeds without; writes chords.json."),
    chord_strength: Optional[float] = typer.Option(None, "--chord-strength", help="With --chords: the chord guidance to judge, in logits (default: generate's; 0: the model alone)."),
) -> None:
    """Measure how good, how valid and how original a model's music is; writes a report."""
    from cadenza.evaluation.pipeline import evaluate as _evaluate

    if chords is not None:
        return _chords(run, out, chords, n, bars, seed, metre, key, chord_strength)
    if chord_strength is not None:
        fail(CadenzaError("--chord-strength judges the chords asked for: give --chords too"))

    with reporting(), err.status("evaluating") as status:
        rep = _evaluate(run, out, n_samples=n, bars=bars, length=length, seed=seed, options=o.SamplingOptions(temperature=temperature),
                        max_test_pieces=max_test_pieces, beam=beam, composer=composer, metre=metre, key=key, dataset=dataset, progress=lambda stage, d, t: status.update(Text(f"{stage} {d}/{t}")))
    t = Table(title=f"Evaluation of {run}")
    t.add_column("measure")
    t.add_column("value")
    for k, v in rep.get("headline", {}).items():
        t.add_row(k.replace("_", " "), f"{v:.4g}" if isinstance(v, float) else str(v))
    console.print(t)
    for w in rep.get("warnings", []):
        warn(w)
    console.print(f"report: {out / 'report.html'} (also report.md, report.json)")


def benchmark_poly(
    dataset: str = typer.Option("jsb", help="jsb, nottingham, musedata or pianomidi (Boulanger-Lewandowski 2012 splits)."),
    data: Path = typer.Option(Path("../shared/midi/benchmarks"), help="Folder with JSB_Chorales.mat, Nottingham.mat, ..."),
    out: Path = typer.Option(Path("runs/poly"), "-o", "--out", help="Folder for result.json and the weights."),
    arch: str = typer.Option("lstm", help="Frame model: lstm or tcn."),
    epochs: int = typer.Option(200, help="At most this many epochs (early stopping on validation)."),
    max_minutes: Optional[float] = typer.Option(None, help="Stop training after this many minutes."),
    seed: int = typer.Option(0, help="Random seed."),
) -> None:
    """Train and score a frame model on a standard polyphonic benchmark: test NLL per frame (nats)."""
    from cadenza.polybench.run import run_benchmark

    with progress(f"{dataset} {arch}") as update:

        def cb(s: dict) -> None:
            update(s.get("epoch", 0), epochs, f"valid {s.get('valid_nll', float('nan')):.3f} nats/frame")

        res = run_benchmark(dataset, data, out / dataset / arch, arch=arch, epochs=epochs, max_minutes=max_minutes, seed=seed, progress=cb)
    t = Table(title=f"{dataset}: test negative log-likelihood per frame (nats, lower is better)")
    t.add_column("model")
    t.add_column("test NLL")
    t.add_row(f"Cadenza {arch} ({res['params']:,} params)", f"{res['test_nll']:.3f}")
    for name, v in (res.get("published") or {}).items():
        t.add_row(name, f"{v}")
    console.print(t)


def _chords(run: str, out: Path, chords: str, n: int, bars: int, seed: int, metre: Optional[str], key: Optional[str], strength: Optional[float] = None) -> None:
    """``evaluate --chords``: the share of bars carrying the chord asked for (see
    :mod:`cadenza.evaluation.chords`)."""
    from cadenza.evaluation.chords import chord_adherence

    with reporting(), err.status("generating") as status:
        rep = chord_adherence(run, chords, n, bars, seed, metre, key, out, progress=lambda stage, d, t: status.update(Text(f"{stage} {d}/{t}")), strength=strength)
    t = Table(title=f"Chords of {run}: {chords} ({n} samples x {bars} bars, seeds {seed}..{seed + n - 1})")
    for c in ("samples", "bars", "chord as asked", "root as asked"):
        t.add_column(c)
    for label in ("asked", "unconditioned"):
        r = rep[label]
        t.add_row(f"with --chords (strength {r['strength']:g})" if label == "asked" else "without", str(r["bars"]), f"{r['chord_rate']:.0%}", f"{r['root_rate']:.0%}")
    console.print(t)
    console.print(f"report: {out / 'chords.json'}")
