"""Bundled pretrained models: small run folders shipped inside the package.

Each lives in ``cadenza/pretrained/<name>/`` as a normal run folder (``config.json`` +
``best.safetensors``) plus ``MODEL.json`` saying what it was trained on, how well it does on
held-out pieces, and under which licence its weights may be used (a model follows its data).
``--model NAME`` works wherever a run folder does. ``scripts/make_models.sh`` rebuilds them all
with Cadenza's own ``prepare`` and ``train`` commands.

The weights stay where they always were, in the package data folder ``cadenza/pretrained/``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cadenza import CadenzaError

ROOT = Path(__file__).parent.parent / "pretrained"  # cadenza/pretrained/
DEFAULT = "mozart-kern"


def available() -> dict[str, dict[str, Any]]:
    """The bundled models by name: their MODEL.json, size and folder. A MODEL.json that cannot be
    read leaves the model listed with an ``error`` rather than breaking the whole list."""
    out = {}
    if ROOT.is_dir():
        for d in sorted(ROOT.iterdir()):
            meta = d / "MODEL.json"
            if meta.exists() and (d / "config.json").exists():
                try:
                    info = json.loads(meta.read_text(encoding="utf-8"))
                    if not isinstance(info, dict):
                        raise ValueError("not a JSON object")
                except (OSError, ValueError) as exc:  # UnicodeDecodeError is a ValueError
                    info = {"error": f"{meta}: unreadable ({' '.join(str(exc).split())[:120]})"}
                weights = d / "best.safetensors"
                info["size_mb"] = round(weights.stat().st_size / 1e6, 2) if weights.exists() else None
                info["path"] = str(d)
                out[d.name] = info
    return out


def resolve(run_or_model: str | Path) -> Path:
    """A run folder from a path, or a bundled model's folder from its name.

    A bare name (no ``/``) that names a bundled model means that model, even where a folder of
    the same name happens to exist here (a sample folder ``-o piano-notewise``, say); a run
    folder of that name is ambiguous and refused, so a local run never silently stands in for
    the bundled model or the other way round: write ``./NAME`` for the folder."""
    p = Path(run_or_model)
    text = str(run_or_model)
    models = available()
    bare = isinstance(run_or_model, str) and "/" not in text and "\\" not in text
    if bare and text in models:
        if (p / "config.json").exists() and p.resolve() != Path(models[text]["path"]).resolve():
            raise CadenzaError(f"{text}: both a bundled model and a run folder here; write ./{text} for the folder, or rename it")
        return Path(models[text]["path"])
    if p.exists():
        return p
    names = ", ".join(models) or "none bundled"
    raise CadenzaError(f"{run_or_model}: neither a run folder nor a bundled model ({names})")
