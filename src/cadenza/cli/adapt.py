"""``cadenza adapt``: fine-tune a bundled model on your own pieces and see what it gained."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from cadenza.cli.common import console, err, progress


def adapt(
    sources: List[str] = typer.Argument(..., help="Your music: files or folders (kern, MIDI, MusicXML, ABC: what the base model's codec reads)."),
    out: Path = typer.Option(..., "-o", "--out", help="Run folder to write: dataset/ (your pieces, prepared) and model/ (the fine-tune)."),
    base: str = typer.Option("kern-small", "--from", help="The bundled model (or a run folder) to start from: kern-small (every score, fast: the best in minutes) or kern-base (the same corpus, 4x larger) for kern, piano-notewise or bach-notewise for MIDI."),
    minutes: float = typer.Option(10.0, help="Minutes of fine-tuning (the best checkpoint by validation is kept)."),
    threads: int = typer.Option(0, help="CPU threads for training (0: one for small models, which is fastest on a busy machine)."),
    transpose: Optional[str] = typer.Option("all", help="Your training pieces in more keys: 'all' (12), shifts like '-2,2', or 'none'."),
    learning_rate: float = typer.Option(0.0, help="Peak learning rate of the fine-tune (0: three times the base model's own for an LSTM, at most 1e-2; a transformer's own)."),
    seed: int = typer.Option(0, help="Seed of the split and of training."),
    samples: int = typer.Option(8, help="Samples each model writes, set against your held-out pieces (0: skip)."),
) -> None:
    """Fine-tune a base model on your own pieces: prepare, train for a few minutes, measure the gain on pieces held out."""
    from cadenza.adapt import AdaptOptions, adapt as _adapt
    from cadenza.evaluation.features import FEATURES as FEATURE_NAMES

    options = AdaptOptions(minutes=minutes, threads=threads, learning_rate=learning_rate, seed=seed, transpose=None if transpose in (None, "none", "") else transpose,
                           samples=samples)
    with progress("fine-tuning") as update:
        def cb(s: dict) -> None:
            v = s["val_loss"]
            update(s["step"], None, f"step {s['step']}  validation {'-' if v is None else f'{v / 0.6931471805599453:.3f} bits/token'}")

        rep = _adapt(sources, out, base, options, say=lambda m: err.print(m), progress=cb)
    console.print(f"your pieces: {rep.pieces['train']} to train on, {rep.pieces['val']} to choose the checkpoint, {rep.pieces['test']} held out (prepared in {rep.dataset})")
    console.print(f"{rep.steps} steps in {rep.minutes:.1f} min. On your held-out pieces ({rep.test_tokens:,} tokens"
                  + (f"; {rep.unknown_to_base:,} the base model cannot spell left out for both" if rep.unknown_to_base else "") + "):")
    per_note = rep.notes and rep.base_bits_per_note is not None and rep.tuned_bits_per_note is not None
    console.print(f"  {rep.base:>20s}: {rep.base_bits:.3f} bits/token" + (f", {rep.base_bits_per_note:.2f} bits/note" if per_note else ""))
    console.print(f"  {'fine-tuned':>20s}: {rep.tuned_bits:.3f} bits/token" + (f", {rep.tuned_bits_per_note:.2f} bits/note" if per_note else "")
                  + f"  ({rep.gain:+.1%} fewer bits)")
    if rep.base_overlap is not None and rep.tuned_overlap is not None:
        console.print(f"How close samples sit to your held-out pieces (mean overlapped area of {len(FEATURE_NAMES)} features, 1 = indistinguishable): "
                      f"{rep.base} {rep.base_overlap:.3f}, fine-tuned {rep.tuned_overlap:.3f}")
    console.print(f"Generate from it: cadenza generate {rep.run / 'model'} -o out --bars 16")
