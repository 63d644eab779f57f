"""The model's shape, as stored in a run's ``config.json``, and the named transformer presets."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ModelConfig:
    arch: str = "lstm"  # "lstm" | "transformer"
    vocab_size: int = 0
    rnn_size: int = 128  # LSTM hidden size / Transformer width (d_model)
    num_layers: int = 3
    dropout: float = 0.0
    n_head: int = 4  # transformer only
    block_size: int = 256  # transformer only: the context it is trained on, samples and is scored with

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ModelConfig":
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


@dataclass(frozen=True)
class Preset:
    layers: int
    d_model: int
    heads: int
    context: int
    dropout: float

    def params(self, vocab: int = 100) -> int:
        """Parameters for a vocabulary of ``vocab`` tokens (embedding tied with the read-out)."""
        d = self.d_model
        per_block = 4 * d * d + 8 * d * d + 5 * d + 4 * d  # attention (no bias) + MLP + 2 LayerNorms
        return vocab * d + self.layers * per_block + 2 * d


# Sized for a laptop CPU (tiny), a workstation (small) and one GPU (base).
PRESETS = {
    "tiny": Preset(layers=4, d_model=128, heads=4, context=256, dropout=0.1),
    "small": Preset(layers=6, d_model=256, heads=8, context=512, dropout=0.1),
    "base": Preset(layers=8, d_model=512, heads=8, context=1024, dropout=0.1),
}
