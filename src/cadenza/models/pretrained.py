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


def read_log(run: Path) -> list[dict[str, Any]]:
    """A run's ``log.jsonl`` records; lines that are not JSON objects (cut short by a kill,
    damaged) are skipped, and a log that cannot be read at all is a one-line error."""
    path = Path(run) / "log.jsonl"
    if not path.exists():
        return []
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as exc:
        raise CadenzaError(f"{path}: cannot read ({exc.strerror or exc})") from None
    out = []
    for line in lines:
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if isinstance(rec, dict):
            out.append(rec)
    return out


def package(run: Path, name: str, trained_on: str, licence: str, command: str = "", dest: Path = ROOT) -> dict[str, Any]:
    """Copy a run's best weights and config into ``dest/name`` with a MODEL.json that records what
    it learned from, its held-out loss (measured here, on the dataset's test split) and licence."""
    import shutil

    from cadenza.codecs import get_codec
    from cadenza.data import load_split
    from cadenza.models import count_parameters
    from cadenza.training import evaluate_loss, LN2, load_run, Stream
    from cadenza.training.checkpoint import read_state

    model, config = load_run(Path(run))
    codec = get_codec(config["codec"], config["codec_options"])
    stoi = {t: i for i, t in enumerate(config["vocab"])}
    test = Stream(load_split(Path(config["dataset"]), "test"), codec.unit, stoi)
    seq = config["train"]["seq_length"]
    nats = evaluate_loss(model, test, seq, batches=10_000)
    target = Path(dest) / name
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(Path(run) / "best.safetensors", target / "best.safetensors")
    (target / "best.safetensors").chmod(0o644)
    cfg = dict(config)
    cfg["dataset"] = Path(config["dataset"]).name  # no machine-specific paths in a shipped model
    (target / "config.json").write_text(json.dumps(cfg, indent=1, ensure_ascii=False), encoding="utf-8")
    state = read_state(Path(run)) or {"step": 0}
    log = read_log(Path(run))
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
        "test_nats_per_token": round(nats, 4),
        "test_bits_per_token": round(nats / LN2, 4),
        "test_tokens": len(test),
        "command": command,
    }
    (target / "MODEL.json").write_text(json.dumps(info, indent=1), encoding="utf-8")
    return info
