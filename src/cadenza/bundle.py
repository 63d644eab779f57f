"""Ship a trained run as a bundled model: its weights, config, and a MODEL.json saying what it
learned from, under which licence, how good it is on held-out music and what it cost to train."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from cadenza.models.pretrained import ROOT


def package(run: Path, name: str, trained_on: str, licence: str, command: str = "", dest: Path = ROOT, hardware: str = "one CPU thread") -> dict[str, Any]:
    """Copy ``run``'s best weights and config into ``dest/name``. The held-out figure is measured
    here as ``cadenza evaluate`` does: every test piece read whole from the model's empty state."""
    from cadenza.evaluation.likelihood import heldout_bits
    from cadenza.generation import open_run
    from cadenza.models import count_parameters
    from cadenza.training.checkpoint import read_log, read_state

    run = Path(run)
    trained = open_run(run)
    model, config = trained.model, trained.config
    held = heldout_bits(model, config, Path(config["dataset"]))
    target = Path(dest) / name
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(run / "best.safetensors", target / "best.safetensors")
    (target / "best.safetensors").chmod(0o644)
    cfg = dict(config)
    cfg["dataset"] = Path(config["dataset"]).name  # no machine-specific paths in a shipped model
    (target / "config.json").write_text(json.dumps(cfg, indent=1, ensure_ascii=False), encoding="utf-8")
    state = read_state(run) or {"step": 0}
    log = read_log(run)
    scored = [h for h in log if h.get("val_loss") is not None]
    best_step = min(scored, key=lambda h: h["val_loss"])["step"] if scored else state["step"]
    info = {
        "name": name,
        "codec": config["codec"],
        "arch": config["model"]["arch"],
        "trained_on": trained_on,
        "licence": licence,
        "params": count_parameters(model),
        "steps": state["step"],
        "best_step": best_step,  # the shipped weights: the checkpoint with the lowest validation loss
        "train_minutes": round(sum(_segments(log)) / 60, 1),  # wall clock of the training sessions, on ``hardware``
        "hardware": hardware,
        "infill": trained.infills,  # trained to fill in the middle
        "test_pieces": held["pieces"],
        "test_tokens": held["tokens"],
        "test_nats_per_token": round(held["nats_per_token"], 4),
        "test_bits_per_token": round(held["bits_per_token"], 4),
        "test_measure": "every test piece read whole from the model's empty state (cadenza evaluate's likelihood)",
        "command": command,
    }
    (target / "MODEL.json").write_text(json.dumps(info, indent=1), encoding="utf-8")
    return info


def _segments(log: list[dict[str, Any]]) -> list[float]:
    """Seconds of each training session (``seconds`` restarts from 0 when a run is resumed)."""
    out, last = [], 0.0
    for h in log:
        s = float(h.get("seconds") or 0)
        if s < last:
            out.append(last)
        last = s
    return out + [last]
