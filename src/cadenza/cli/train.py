"""``cadenza train``: a dataset -> a run folder (checkpoints, log, loss curve)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from cadenza.cli.common import console, err, progress
from cadenza.models.config import PRESETS

_PRESETS = "; ".join(f"{k}: {p.layers}x{p.d_model}, {p.heads} heads, context {p.context}, ~{p.params() / 1e6:.1f}M params" for k, p in PRESETS.items())


def train(
    dataset: Path = typer.Argument(..., help="A dataset folder made by `cadenza prepare`."),
    out: Path = typer.Option(..., "-o", "--out", help="Run folder (re-running on an existing one resumes it)."),
    arch: str = typer.Option("lstm", help="Model: lstm (char-rnn) or transformer."),
    preset: Optional[str] = typer.Option(None, help=f"A named transformer ({_PRESETS}); flags given as well override it."),
    rnn_size: Optional[int] = typer.Option(None, "--rnn-size", "--d-model", help="Hidden size (LSTM) or width (transformer). (default 128, or the preset's)"),
    num_layers: Optional[int] = typer.Option(None, "--num-layers", "--layers", help="Number of layers. (default 3, or the preset's)"),
    n_head: Optional[int] = typer.Option(None, "--n-head", "--heads", help="Transformer: attention heads. (default 4, or the preset's)"),
    seq_length: Optional[int] = typer.Option(None, "--seq-length", "--context", help="Tokens per training sequence; a transformer's context, the one it samples and is scored with. (default 50, or the preset's)"),
    dropout: Optional[float] = typer.Option(None, help="Dropout between layers. (default 0.05, as char-rnn's 2015 recipe, or the preset's)"),
    batch_size: int = typer.Option(50, help="Sequences per batch, per process and micro-step."),
    grad_accum: int = typer.Option(1, help="Micro-batches accumulated per step (global batch = batch × this × processes)."),
    learning_rate: Optional[float] = typer.Option(None, help="AdamW learning rate (peak, for the cosine schedule). (default 3e-3 for an LSTM from scratch, else 2e-3)"),
    schedule: str = typer.Option("auto", help="char-rnn (decay per epoch, and to a tenth over the last quarter of --max-minutes: the LSTM recipe), cosine (warm-up then cosine: the transformer recipe), or auto."),
    warmup_steps: int = typer.Option(-1, help="Cosine warm-up steps (-1: 5% of the steps, at most 500)."),
    weight_decay: float = typer.Option(-1.0, help="AdamW weight decay (-1: 0 for the LSTM, 0.1 for the transformer)."),
    learning_rate_decay: float = typer.Option(0.97, help="char-rnn: multiply the learning rate by this each epoch after --learning-rate-decay-after."),
    learning_rate_decay_after: int = typer.Option(10, help="char-rnn: epochs before the learning rate starts to decay."),
    grad_clip: float = typer.Option(5.0, help="Clip the gradient norm to this (0: off)."),
    max_epochs: float = typer.Option(50.0, help="Passes over the training text."),
    max_steps: int = typer.Option(0, help="Stop after this many steps (0: from --max-epochs)."),
    max_minutes: float = typer.Option(0.0, help="Stop (with a checkpoint) after this many minutes of training in all, resumed sessions included: the schedule follows the same clock (0: no limit)."),
    eval_every: int = typer.Option(200, help="Steps between validation and checkpoints."),
    seed: int = typer.Option(123, help="Random seed (weights, batches, dropout)."),
    threads: int = typer.Option(0, help="CPU threads for torch (0: one for a model under 2M parameters, fastest on a busy machine; torch's own choice for larger ones)."),
    device: str = typer.Option("auto", help="auto (a GPU when there is one), cpu, cuda or mps."),
    compile: bool = typer.Option(False, "--compile", help="torch.compile the model (faster steps on a GPU after a slow start)."),
    fim_rate: float = typer.Option(0.0, "--fim-rate", help="Share of training windows taught to fill in the middle (prefix, suffix, then middle), so `cadenza infill` works with the model; 0.5 is a good choice."),
    stateful: Optional[bool] = typer.Option(None, "--stateful/--random-windows", help="LSTM: char-rnn's batches (the default from scratch), the text cut into --batch-size parallel streams read in order, the state carried from batch to batch and started afresh at each checkpoint; --random-windows: windows at random places, each from an empty state."),
    fim_format: str = typer.Option("spm", "--fim-format", help="spm: suffix first, then the prefix and the middle as one stream (suits an LSTM: the middle goes straight on from the prefix); psm: prefix, suffix, middle."),
    init_from: Optional[str] = typer.Option(None, "--init-from", help="Fine-tune: start from this run's or bundled model's weights (e.g. mozart-kern) instead of random ones; the model's size is taken from it. Tokens it never saw start fresh."),
    force_resume: bool = typer.Option(False, "--force-resume", help="Resume even though training options that change the run differ (deliberately)."),
) -> None:
    """Train a language model on a dataset; checkpoints keep best and last, and re-running resumes.

    Several processes: torchrun --nproc_per_node N -m cadenza train ... (DistributedDataParallel)."""
    from cadenza.training import LN2
    from cadenza.training import train as _train
    from cadenza.training.checkpoint import read_config
    from cadenza.training.config import config_for

    with progress("training") as update:
        # the shape from --preset or --init-from, the flags given on top (None: not given), TrainConfig's defaults for the rest
        cfg = config_for(preset, init_from, arch=None if preset or init_from else arch, rnn_size=rnn_size, num_layers=num_layers, n_head=n_head,
                         seq_length=seq_length, dropout=dropout, batch_size=batch_size, learning_rate=learning_rate, learning_rate_decay=learning_rate_decay,
                         learning_rate_decay_after=learning_rate_decay_after, grad_clip=grad_clip, max_epochs=max_epochs, max_steps=max_steps, eval_every=eval_every,
                         seed=seed, max_minutes=max_minutes, threads=threads, schedule=schedule, warmup_steps=warmup_steps, weight_decay=weight_decay,
                         grad_accum=grad_accum, device=device, compile=compile, fim_rate=fim_rate, fim_format=fim_format, stateful=stateful)

        def cb(s: dict) -> None:
            v = s["val_loss"]
            vtxt = f"val {v:.3f} nats ({v / LN2:.3f} bits)" if v is not None else "val -"
            update(s["step"], s["max_steps"], f"epoch {s['epoch']:.2f}  train {s['train_loss']:.3f} nats ({s['train_loss'] / LN2:.3f} bits)  {vtxt}")

        res = _train(dataset, out, cfg, cb, force_resume=force_resume)
    if res.resumed_from:
        console.print(f"resumed from step {res.resumed_from}")
    elif init_from is not None:
        ws = read_config(res.run).get("warm_start") or {}
        fresh = ws.get("new_tokens") or []
        console.print(f"fine-tuned from {init_from}: {ws.get('carried')} tokens carried over" + (f", {len(fresh)} new ({' '.join(map(repr, fresh))})" if fresh else ""))
    best = f"{res.best_val_loss:.4f} nats ({res.best_val_loss / LN2:.4f} bits/token)" if res.best_val_loss is not None else "-"
    if res.interrupted:
        err.print(f"interrupted at step {res.step}: checkpoint saved in {res.run}; run the same command again to resume", soft_wrap=True)
        raise typer.Exit(130)
    console.print(f"step {res.step}: best validation loss {best}; {res.seconds:.0f} s. Run folder: {res.run} (loss curve: {res.run / 'loss.png'})")
