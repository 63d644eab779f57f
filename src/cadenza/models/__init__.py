"""Language models over codec tokens. One interface, so training and sampling never ask which:

``model(idx, state) -> (logits, state)`` where ``idx`` is (batch, time) token ids, ``logits`` is
(batch, time, vocab), and ``state`` carries what the model needs to continue a sequence one token
at a time (LSTM: hidden and cell; Transformer: the recent context). ``model.init_state(batch)``
gives the empty state.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import torch


@dataclass(frozen=True)
class ModelConfig:
    arch: str = "lstm"  # "lstm" | "transformer"
    vocab_size: int = 0
    rnn_size: int = 128  # LSTM hidden size / Transformer width
    num_layers: int = 3
    dropout: float = 0.0
    n_head: int = 4  # transformer only
    block_size: int = 256  # transformer only: longest context it attends to

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ModelConfig":
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


ARCHS = ("lstm", "transformer")


def build_model(cfg: ModelConfig) -> torch.nn.Module:
    if cfg.arch == "lstm":
        from cadenza.models.lstm import CharLSTM

        return CharLSTM(cfg)
    if cfg.arch == "transformer":
        from cadenza.models.transformer import Transformer

        return Transformer(cfg)
    from cadenza import CadenzaError

    raise CadenzaError(f"unknown architecture {cfg.arch!r}; choose one of: {', '.join(ARCHS)}")


def count_parameters(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
