"""Checkpoints that survive a kill, and loading a run for sampling.

Each checkpoint is one step-tagged folder, ``checkpoints/step-00001200/`` (weights, optimizer
moments, ``state.json``), written completely before ``last.state.json`` is atomically pointed at
it. A kill at any moment leaves the pointer on a complete set, so weights of one step are never
paired with the optimizer of another. ``last.safetensors`` and ``best.safetensors`` beside them
are the weights users load (never pickle). Batches and dropout masks are seeded from the step, so
no random-generator state needs saving for an exact resume. ``state.json`` also keeps the
training seconds so far (``elapsed``: optional, older runs lack it), so a time limit and a cosine
over time go on across sessions.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from cadenza import CadenzaError
from cadenza.files import atomic_write, write_json
from cadenza.models import ModelConfig, build_model
from cadenza.models.run_folder import read_config, read_state, weights_file  # read without torch, for sampling

__all__ = ["elapsed", "load_run", "read_config", "read_log", "read_state", "restore", "save", "save_weights", "weights_file"]

KEEP = 2  # step folders kept (the newest); older ones are removed once the pointer moved on


def save_weights(model: torch.nn.Module, path: Path) -> None:
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    # a tied read-out shares its tensor with the embedding: store it once
    seen: dict[int, str] = {}
    for k in list(state):
        ptr = state[k].data_ptr()
        if ptr in seen and state[k].shape == state[seen[ptr]].shape:
            state[k] = state[k].clone()
        seen.setdefault(ptr, k)
    atomic_write(Path(path), lambda p: save_file(state, str(p), metadata={"format": "pt"}))


def _optim_tensors(opt: torch.optim.Optimizer) -> dict[str, torch.Tensor]:
    out = {}
    for i, st in opt.state_dict()["state"].items():
        for k, v in st.items():
            out[f"{i}.{k}"] = (v if torch.is_tensor(v) else torch.tensor(v)).detach().cpu().contiguous()
    return out


def _load_optim(opt: torch.optim.Optimizer, tensors: dict[str, torch.Tensor], lr: float, device: torch.device) -> None:
    sd = opt.state_dict()
    state: dict[int, dict[str, torch.Tensor]] = {}
    for key, v in tensors.items():
        i, k = key.split(".", 1)
        state.setdefault(int(i), {})[k] = v if k == "step" else v.to(device)
    sd["state"] = state
    for g in sd["param_groups"]:
        g["lr"] = lr
    opt.load_state_dict(sd)


def save(run: Path, model: torch.nn.Module, opt: torch.optim.Optimizer, state: dict[str, Any], best: bool) -> None:
    """Write the step-tagged set, move the pointer to it, then refresh the user-facing weights."""
    run = Path(run)
    name = f"step-{state['step']:08d}"
    folder = run / "checkpoints" / name
    tmp = run / "checkpoints" / (name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    save_weights(model, tmp / "model.safetensors")
    save_file(_optim_tensors(opt), str(tmp / "optim.safetensors"))
    write_json(tmp / "state.json", state)
    shutil.rmtree(folder, ignore_errors=True)
    tmp.rename(folder)
    write_json(run / "last.state.json", dict(state, checkpoint=f"checkpoints/{name}"))
    atomic_write(run / "last.safetensors", lambda p: shutil.copyfile(folder / "model.safetensors", p))
    if best:
        atomic_write(run / "best.safetensors", lambda p: shutil.copyfile(folder / "model.safetensors", p))
    old = sorted(p for p in (run / "checkpoints").iterdir() if p.is_dir() and p.name.startswith("step-") and not p.name.endswith(".tmp"))
    for p in old[:-KEEP]:
        shutil.rmtree(p, ignore_errors=True)


def restore(run: Path, state: dict[str, Any], model: torch.nn.Module, opt: torch.optim.Optimizer, device: torch.device) -> None:
    """Load the checkpoint ``state`` points at (or a pre-0.2 run's ``last.*`` files)."""
    run = Path(run)
    if "checkpoint" in state:
        folder = run / state["checkpoint"]
        weights, optim = folder / "model.safetensors", folder / "optim.safetensors"
    else:
        weights, optim = run / "last.safetensors", run / "last.optim.safetensors"
    try:
        model.load_state_dict(load_file(str(weights), device=str(device)), strict=False)
        _load_optim(opt, load_file(str(optim)), state["lr"], device)
    except (OSError, RuntimeError, KeyError, ValueError, SafetensorError) as exc:
        raise CadenzaError(f"{run}: cannot resume from step {state.get('step')} ({' '.join(str(exc).split())[:160]})") from None


def elapsed(state: dict[str, Any], log: list[dict[str, Any]]) -> float:
    """Training seconds up to the checkpoint ``state``, what ``--max-minutes`` counts. Saved in
    the state since issue #24; for a run saved before, the sessions' ``seconds`` in its log (each
    restarted from 0 on resume; ``log`` ends at the checkpoint's step) added up."""
    if "elapsed" in state:
        return float(state["elapsed"])
    total, last = 0.0, 0.0
    for h in log:
        s = float(h.get("seconds") or 0)
        if s < last:
            total += last
        last = s
    return total + last


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
        if isinstance(rec, dict) and isinstance(rec.get("step"), int):
            out.append(rec)
    return out


def load_run(run: Path, which: str = "best") -> tuple[torch.nn.Module, dict[str, Any]]:
    """The model and config of a run folder (``best`` weights, falling back to ``last``)."""
    run = Path(run)
    config = read_config(run)
    weights = weights_file(run, which)
    model = build_model(ModelConfig.from_dict(config["model"]))
    try:
        state = load_file(str(weights))
        missing, unexpected = model.load_state_dict(state, strict=False)
        if unexpected or [k for k in missing if not k.endswith("head.weight")]:
            raise RuntimeError(f"missing {missing[:3]}, unexpected {unexpected[:3]}")
    except (RuntimeError, OSError, ValueError, SafetensorError) as exc:
        raise CadenzaError(f"{weights}: weights do not match the model in config.json ({str(exc).splitlines()[0][:160]})") from None
    model.eval()
    return model, config
