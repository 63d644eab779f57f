"""A run folder as sampling reads it: ``config.json``, the checkpoint pointer and which weights
file to load, with nothing but the standard library, so opening a run for sampling loads no
torch (issue #21: importing it was 2.8 s of a 6.3 s ``generate``). Training writes these files
(:mod:`cadenza.training.checkpoint`, which re-exports the readers).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cadenza import CadenzaError
from cadenza.models.config import ModelConfig


def read_config(run: Path) -> dict[str, Any]:
    path = Path(run) / "config.json"
    if not path.exists():
        raise CadenzaError(f"{run}: not a Cadenza run (no config.json); train one with `cadenza train`")
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
        ModelConfig.from_dict(config["model"])
        config["vocab"], config["codec"]  # noqa: B018 - required keys
    except (ValueError, UnicodeDecodeError, KeyError, TypeError) as exc:
        raise CadenzaError(f"{path}: corrupt run configuration ({type(exc).__name__}: {exc})") from None
    return config


def read_state(run: Path) -> dict[str, Any] | None:
    path = Path(run) / "last.state.json"
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise CadenzaError(f"{path}: corrupt checkpoint pointer ({exc}); delete the run folder or restore the file") from None


def weights_file(run: Path, which: str = "best") -> Path:
    """The weights a run is sampled with: ``best`` (or ``which``; ``last`` is the newest complete
    checkpoint), falling back to ``last.safetensors``."""
    run = Path(run)
    weights = run / f"{which}.safetensors"
    if which == "last" and (state := read_state(run)) and "checkpoint" in state:
        weights = run / state["checkpoint"] / "model.safetensors"
    if not weights.exists():
        weights = run / "last.safetensors"
    if not weights.exists():
        raise CadenzaError(f"{run}: no weights yet (training has not reached its first checkpoint)")
    return weights
