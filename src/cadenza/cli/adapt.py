"""``cadenza adapt``: fine-tune a bundled model on your own pieces and see what it gained."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from cadenza.cli.common import console, err, progress


def adapt(
    sources: List[str] = typer.Argument(..., help="Your music: files or folders (kern, MIDI, MusicXML, ABC: what the base model's codec reads)."),
    out: Path = typer.Option(..., "-o", "--out", help="Run folder to write: dataset/ (your pieces, prepared) and model/ (the fine-tune)."),
    base: str = typer.Option("mozart-kern", "--from", help="The bundled model (or a run folder) to start from."),
    minutes: float = typer.Option(10.0, help="Minutes of fine-tuning (the best checkpoint by validation is kept)."),
    threads: int = typer.Option(0, help="CPU threads for training (0: one for small models, which is fastest on a busy machine)."),
    transpose: Optional[str] = typer.Option("all", help="Your training pieces in more keys: 'all' (12), shifts like '-2,2', or 'none'."),
    learning_rate: float = typer.Option(1e-3, help="Peak learning rate of the fine-tune."),
    seed: int = typer.Option(0, help="Seed of the split and of training."),
) -> None:
    """Fine-tune a base model on your own pieces: prepare, train for a few minutes, measure the gain on pieces held out."""
    from cadenza.adapt import AdaptOptions, adapt as _adapt

    options = AdaptOptions(minutes=minutes, threads=threads, learning_rate=learning_rate, seed=seed, transpose=None if transpose in (None, "none", "") else transpose)
    with progress("fine-tuning") as update:
        def cb(s: dict) -> None:
            v = s["val_loss"]
            update(s["step"], None, f"step {s['step']}  validation {'-' if v is None else f'{v / 0.6931471805599453:.3f} bits/token'}")

        rep = _adapt(sources, out, base, options, say=lambda m: err.print(m), progress=cb)
    console.print(f"your pieces: {rep.pieces['train']} to train on, {rep.pieces['val']} to choose the checkpoint, {rep.pieces['test']} held out (prepared in {rep.dataset})")
    console.print(f"{rep.steps} steps in {rep.minutes:.1f} min. On your held-out pieces ({rep.test_tokens:,} tokens"
                  + (f"; {rep.unknown_to_base:,} the base model cannot spell left out for both" if rep.unknown_to_base else "") + "):")
    console.print(f"  {rep.base:>20s}: {rep.base_bits:.3f} bits/token")
    console.print(f"  {'fine-tuned':>20s}: {rep.tuned_bits:.3f} bits/token  ({rep.gain:+.1%} fewer bits)")
    console.print(f"Generate from it: cadenza generate {rep.run / 'model'} -o out --bars 16")
