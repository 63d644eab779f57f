"""Training and scoring a frame model on one polyphonic benchmark corpus (:func:`run_benchmark`),
with per-dataset default settings, and loading a finished run (:func:`load_frame_model`). The
corpora, the models and the NLL convention are in :mod:`cadenza.polybench.frames`."""

from __future__ import annotations

import copy
import json
import math
import os
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
from torch import nn

from cadenza import CadenzaError
from cadenza.polybench.frames import (
    ARCHS,
    PUBLISHED,
    SPLITS,
    build_frame_model,
    dataset_key,
    frame_nll,
    length_batches,
    load_poly,
    nll_per_frame,
    pad_rolls,
    training_windows,
)
from cadenza.files import atomic_write, write_json


def _save_model(model: nn.Module, path: Path, meta: dict[str, Any]) -> None:
    from safetensors.torch import save_file

    state = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    atomic_write(path, lambda tmp: save_file(state, str(tmp), metadata={k: str(v) for k, v in meta.items()}))


def load_frame_model(out_dir: str | os.PathLike) -> nn.Module:
    """The model a :func:`run_benchmark` run saved in ``out_dir`` (``result.json`` + ``model.safetensors``)."""
    from safetensors.torch import load_file

    out_dir = Path(out_dir)
    try:
        cfg = json.loads((out_dir / "result.json").read_text(encoding="utf-8"))["config"]
    except (OSError, KeyError, ValueError) as e:
        raise CadenzaError(f"{out_dir / 'result.json'}: not a benchmark result ({e})") from e
    model = build_frame_model(cfg["arch"], cfg["hidden"], cfg["layers"], cfg["dropout"], cfg.get("kernel_size", 5))
    model.load_state_dict(load_file(str(out_dir / "model.safetensors")))
    return model.eval()


#: Settings per dataset (chosen on the valid split, for <= ~10 CPU minutes on one thread); the
#: keys of :func:`run_benchmark` left at ``None`` come from here. Whole sequences for JSB (short
#: chorales); random 64-frame windows for the long sequences of the others (many more updates
#: per CPU minute; evaluation always runs over whole sequences).
SETTINGS: dict[str, dict[str, Any]] = {
    "jsb": dict(hidden=256, layers=1, lr=2e-3, dropout=0.3, batch_size=4, window=0),
    "nottingham": dict(hidden=256, layers=1, lr=5e-3, dropout=0.3, batch_size=8, window=64),
    "musedata": dict(hidden=256, layers=1, lr=5e-3, dropout=0.3, batch_size=8, window=64),
    "pianomidi": dict(hidden=256, layers=1, lr=5e-3, dropout=0.3, batch_size=8, window=64),
}
TCN_SETTINGS = dict(hidden=150, layers=4, lr=1e-3, dropout=0.25, kernel_size=5)  # Bai et al.'s defaults


def run_benchmark(
    name: str,
    root: str | os.PathLike,
    out_dir: str | os.PathLike,
    arch: str = "lstm",
    hidden: int | None = None,
    layers: int | None = None,
    epochs: int = 200,
    lr: float | None = None,
    dropout: float | None = None,
    seed: int = 0,
    max_minutes: float | None = None,
    progress: Callable[[dict[str, Any]], None] | None = None,
    *,
    batch_size: int | None = None,
    window: int | None = None,
    grad_clip: float = 1.0,
    patience: int = 10,
    kernel_size: int = 5,
) -> dict[str, Any]:
    """Train a frame model on ``name``'s train split, early-stop on valid NLL, report test NLL.

    Options left at ``None`` take the dataset's :data:`SETTINGS` (for ``arch="tcn"``:
    :data:`TCN_SETTINGS`, then :data:`SETTINGS`). Adam, gradient-norm clipping, batches of
    ``batch_size`` sequences of similar length (zero-padded and masked), or with ``window`` > 0
    of random ``window``-frame pieces of them (state reset at each piece; the piece's inputs
    are the true previous frames). After every epoch the valid NLL per frame is measured over
    whole sequences; the learning rate is halved when it has not improved for 3 epochs, and
    training stops after ``patience`` epochs without improvement, after ``epochs``, or after
    ``max_minutes`` (checked between batches). The best-valid weights are then scored on test.

    Writes ``result.json`` and ``model.safetensors`` into ``out_dir``; ``progress`` (if given)
    gets a dict after every epoch. Returns ``{dataset, arch, params, test_nll, valid_nll,
    test_nll_from2, train_nll, published, epochs, best_epoch, seconds, config, ...}`` (NLLs in
    nats per frame; see :mod:`cadenza.polybench.frames` for the convention).
    """
    t0 = time.monotonic()
    if arch not in ARCHS:
        raise CadenzaError(f"unknown frame model {arch!r}: choose one of {', '.join(ARCHS)}")
    key = dataset_key(name)
    defaults = dict(SETTINGS[key], **(TCN_SETTINGS if arch == "tcn" else {}))
    hidden = defaults["hidden"] if hidden is None else hidden
    layers = defaults["layers"] if layers is None else layers
    lr = defaults["lr"] if lr is None else lr
    dropout = defaults["dropout"] if dropout is None else dropout
    batch_size = defaults["batch_size"] if batch_size is None else batch_size
    window = defaults["window"] if window is None else window
    data = load_poly(key, root)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = build_frame_model(arch, hidden, layers, dropout, kernel_size)
    n_params = sum(p.numel() for p in model.parameters())
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    config = dict(arch=arch, hidden=hidden, layers=layers, dropout=dropout, kernel_size=kernel_size, lr=lr, batch_size=batch_size, window=window,
                  grad_clip=grad_clip, patience=patience, epochs=epochs, seed=seed, max_minutes=max_minutes)

    train = data["train"]
    best_valid, best_state, best_epoch, since_best = math.inf, copy.deepcopy(model.state_dict()), 0, 0
    history: list[dict[str, Any]] = []
    deadline = t0 + 60 * max_minutes if max_minutes else math.inf
    epoch, cur_lr, stopped = 0, lr, "epochs"
    while epoch < epochs:
        model.train()
        tot, cnt, complete = 0.0, 0, True
        pieces = training_windows(train, window, rng) if window else [(None, r) for r in train]
        for b in length_batches([len(p[1]) for p in pieces], batch_size, rng):
            if time.monotonic() > deadline:
                complete = False
                break
            y, mask = pad_rolls([pieces[i][1] for i in b])
            x = pad_rolls([pieces[i][0] for i in b])[0] if window else None
            nll = frame_nll(model, y, mask, x)
            n = int(mask.sum())
            loss = nll.sum() / n
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if grad_clip and grad_clip > 0:
                nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
            opt.step()
            tot += float(nll.detach().sum())
            cnt += n
        if not complete and cnt == 0:
            stopped = "time"
            break
        epoch += 1
        valid = nll_per_frame(model, data["valid"])
        if valid < best_valid - 1e-4:
            best_valid, best_state, best_epoch, since_best = valid, copy.deepcopy(model.state_dict()), epoch, 0
        else:
            since_best += 1
            if since_best % 3 == 0:
                cur_lr /= 2
                for g in opt.param_groups:
                    g["lr"] = cur_lr
        rec = {"epoch": epoch, "train_nll": tot / max(cnt, 1), "valid_nll": valid, "best_valid_nll": best_valid, "lr": cur_lr,
               "seconds": round(time.monotonic() - t0, 1), "partial": not complete}
        history.append(rec)
        if progress:
            progress(dict(rec, dataset=key, arch=arch))
        if not complete or time.monotonic() > deadline:
            stopped = "time"
            break
        if since_best >= patience:
            stopped = "early-stopping"
            break

    model.load_state_dict(best_state)
    result: dict[str, Any] = {
        "dataset": key,
        "arch": arch,
        "params": n_params,
        "test_nll": nll_per_frame(model, data["test"]),
        "valid_nll": best_valid,
        "test_nll_from2": nll_per_frame(model, data["test"], skip_first=True),
        "train_nll": nll_per_frame(model, train),
        "published": PUBLISHED[key],
        "epochs": epoch,
        "best_epoch": best_epoch,
        "stopped": stopped,
        "seconds": round(time.monotonic() - t0, 1),
        "threads": torch.get_num_threads(),
        "frames": {s: int(sum(len(r) for r in data[s])) for s in SPLITS},
        "convention": "test NLL per frame in nats: -log p(frame t | frames < t) summed over 88 independent "
                      "Bernoulli notes, frame 0 predicted from a zero frame, averaged over all test frames; "
                      "test_nll_from2 skips each sequence's first frame (Bai et al.'s evaluation code)",
        "config": config,
        "history": history,
    }
    _save_model(model, out_dir / "model.safetensors", {"dataset": key, **config})
    write_json(out_dir / "result.json", result)
    return result
