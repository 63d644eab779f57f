"""Transitional alias: training lives in :mod:`cadenza.training`."""

from cadenza.training import LN2, Stream, TrainConfig, TrainResult, evaluate_loss, load_run, plot_losses, save_weights, train  # noqa: F401
