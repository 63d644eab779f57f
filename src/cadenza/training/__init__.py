"""Training: the loop, checkpoints, the token data, distributed set-up.

A run folder holds everything ``generate`` needs, so it can be copied elsewhere::

    config.json                    model + training options, codec, vocab, generation context
    best.safetensors, last.safetensors     weights users load (never pickle)
    checkpoints/step-NNNNNNNN/     model, optimizer moments, state: one complete set per step
    last.state.json                points at the newest complete set (written last, atomically)
    log.jsonl, loss.png            every evaluation, and the loss curve

May import: ``files``, ``codecs``, ``data`` (the dataset on disk), ``models``; never generation,
evaluation, render or cli. ``threads`` is imported first: it asks OpenMP's idle workers to sleep
soon, which only works before torch loads (issue #24).
"""

import cadenza.training.threads  # noqa: F401  (first: before torch is loaded)
from cadenza.training.checkpoint import load_run, save_weights
from cadenza.training.config import TrainConfig, config_for
from cadenza.training.data import Stream
from cadenza.training.loop import LN2, TrainResult, evaluate_loss, plot_losses, train
from cadenza.training.warm_start import fine_tune_config

__all__ = ["LN2", "Stream", "TrainConfig", "TrainResult", "config_for", "evaluate_loss", "fine_tune_config", "load_run", "plot_losses", "save_weights", "train"]
