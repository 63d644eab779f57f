"""Fine-tuning: start a run from another run's (or a bundled model's) weights.

A small corpus (one composer's sonatas, a user's own pieces) overfits a model trained from
scratch within a few epochs; the same model first trained on a larger corpus of the same notation
and then fine-tuned keeps what it learned there (spelling, voice-leading, bar arithmetic) and
adapts to the new style. Vocabularies need not match: token rows (the embedding and the read-out)
are carried over by token, so a character the new corpus uses and the old one never saw starts
from a fresh row, and one the new corpus never uses is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file

from cadenza import CadenzaError
from cadenza.training.config import TrainConfig, config_for, source_config

# parameters with one row per token (LSTM: embed, head; transformer: tok, tied to head)
_TOKEN_ROWS = ("embed.weight", "head.weight", "head.bias", "tok.weight")


@dataclass(frozen=True)
class WarmStart:
    """What a warm start carried over: the source, and how many of the new vocabulary's tokens
    found their row there."""

    source: str
    carried: int
    new_tokens: tuple[str, ...]


def fine_tune_config(source: str, **options: Any) -> TrainConfig:
    """Training options for fine-tuning ``source`` from Python: its architecture, size and
    dropout (what ``cadenza train --init-from`` takes by itself), then ``options`` on top."""
    return config_for(init_from=str(source), **options)


def warm_start(model: torch.nn.Module, model_config: dict, vocab: list[str], codec: str, source: str) -> WarmStart:
    """Load ``source``'s best weights into ``model`` (freshly built for ``vocab``), row by token
    for the token tables. Refused with one line when the two models differ in shape or codec."""
    folder, config = source_config(source)
    old = config["model"]
    shape = ("arch", "rnn_size", "num_layers", "n_head")
    if config["codec"] != codec:
        raise CadenzaError(f"--init-from {source}: a {config['codec']} model; this dataset is {codec}")
    if any(old.get(k) != model_config.get(k) for k in shape if not (k == "n_head" and old.get("arch") == "lstm")):
        have = ", ".join(f"{k} {old.get(k)}" for k in shape)
        want = ", ".join(f"{k} {model_config.get(k)}" for k in shape)
        raise CadenzaError(f"--init-from {source}: its model is {have}; this run asks for {want} (leave the size options out to take the source's)")
    weights = folder / "best.safetensors"
    if not weights.exists():
        weights = folder / "last.safetensors"
    try:
        saved = load_file(str(weights))
    except (OSError, SafetensorError) as exc:
        raise CadenzaError(f"{weights}: cannot read ({' '.join(str(exc).split())[:120]})") from None
    old_index = {t: i for i, t in enumerate(config["vocab"])}
    rows = [(i, old_index[t]) for i, t in enumerate(vocab) if t in old_index]
    new_rows = torch.tensor([i for i, _ in rows], dtype=torch.long)
    old_rows = torch.tensor([j for _, j in rows], dtype=torch.long)
    target = model.state_dict()
    with torch.no_grad():
        for name, tensor in target.items():
            if name not in saved:
                if name == "head.weight" and "tok.weight" in saved:  # a tied read-out is stored once
                    continue
                raise CadenzaError(f"--init-from {source}: its weights lack {name}")
            src = saved[name]
            if name in _TOKEN_ROWS:
                tensor[new_rows] = src[old_rows].to(tensor.dtype)
            elif src.shape != tensor.shape:
                raise CadenzaError(f"--init-from {source}: {name} is {tuple(src.shape)} there, {tuple(tensor.shape)} here")
            else:
                tensor.copy_(src)
    return WarmStart(str(source), len(rows), tuple(t for t in vocab if t not in old_index))
