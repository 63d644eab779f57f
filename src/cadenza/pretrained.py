"""Bundled pretrained models: small run folders shipped inside the package.

Each lives in ``cadenza/pretrained/<name>/`` as a normal run folder (``config.json`` +
``best.safetensors``) plus ``MODEL.json`` saying what it was trained on, how well it does on
held-out pieces, and under which licence its weights may be used (a model follows its data).
``--model NAME`` works wherever a run folder does. ``scripts/make_models.sh`` rebuilds them all
with Cadenza's own ``prepare`` and ``train`` commands.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cadenza import CadenzaError

ROOT = Path(__file__).parent / "pretrained"
DEFAULT = "mozart-kern"


def available() -> dict[str, dict[str, Any]]:
    out = {}
    if ROOT.is_dir():
        for d in sorted(ROOT.iterdir()):
            meta = d / "MODEL.json"
            if meta.exists() and (d / "config.json").exists():
                info = json.loads(meta.read_text(encoding="utf-8"))
                weights = d / "best.safetensors"
                info["size_mb"] = round(weights.stat().st_size / 1e6, 2) if weights.exists() else None
                info["path"] = str(d)
                out[d.name] = info
    return out


def resolve(run_or_model: str | Path) -> Path:
    """A run folder from a path, or a bundled model's folder from its name."""
    p = Path(run_or_model)
    if p.exists():
        return p
    models = available()
    if str(run_or_model) in models:
        return Path(models[str(run_or_model)]["path"])
    names = ", ".join(models) or "none bundled"
    raise CadenzaError(f"{run_or_model}: neither a run folder nor a bundled model ({names})")
