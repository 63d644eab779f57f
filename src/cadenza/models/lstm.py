"""The char-rnn model (Karpathy 2015) as the 2015 kern experiment used it: embedding, a stack of
LSTM layers with dropout between them, and a linear read-out to next-token logits."""

from __future__ import annotations

import torch
from torch import nn

from cadenza.models.config import ModelConfig


class CharLSTM(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Embedding(cfg.vocab_size, cfg.rnn_size)
        self.drop = nn.Dropout(cfg.dropout)
        self.lstm = nn.LSTM(cfg.rnn_size, cfg.rnn_size, cfg.num_layers, batch_first=True, dropout=cfg.dropout if cfg.num_layers > 1 else 0.0)
        self.head = nn.Linear(cfg.rnn_size, cfg.vocab_size)

    def init_state(self, batch: int) -> tuple[torch.Tensor, torch.Tensor]:
        z = torch.zeros(self.cfg.num_layers, batch, self.cfg.rnn_size, device=self.head.weight.device)
        return z, z.clone()

    def forward(self, idx: torch.Tensor, state=None):
        x = self.drop(self.embed(idx))
        y, state = self.lstm(x, state)
        return self.head(self.drop(y)), state

    @staticmethod
    def select_state(state, index: torch.Tensor):
        """Reorder the batch of states (beam search keeps the best beams)."""
        h, c = state
        return h[:, index], c[:, index]
