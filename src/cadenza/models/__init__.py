"""Language models over codec tokens. One interface, so training and sampling never ask which:

``model(idx, state) -> (logits, state)`` where ``idx`` is (batch, time) token ids, ``logits`` is
(batch, time, vocab), and ``state`` carries what the model needs to continue a sequence one token
at a time (LSTM: hidden and cell; Transformer: the window's keys and values). ``model.init_state(batch)``
gives the empty state.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cadenza.models.config import PRESETS, ModelConfig, Preset  # noqa: F401


if TYPE_CHECKING:  # torch is imported where a model is built, not by every command that lists presets
    import torch

ARCHS = ("lstm", "transformer")


def build_model(cfg: ModelConfig) -> "torch.nn.Module":
    if cfg.arch == "lstm":
        from cadenza.models.lstm import CharLSTM

        return CharLSTM(cfg)
    if cfg.arch == "transformer":
        from cadenza.models.transformer import Transformer

        return Transformer(cfg)
    from cadenza import CadenzaError

    raise CadenzaError(f"unknown architecture {cfg.arch!r}; choose one of: {', '.join(ARCHS)}")


def count_parameters(model: "torch.nn.Module") -> int:
    return sum(p.numel() for p in model.parameters())
