"""The char-rnn model (Karpathy 2015) as the 2015 kern experiment used it: embedding, a stack of
LSTM layers with dropout between them, and a linear read-out to next-token logits. It is trained
here and sampled in numpy (:mod:`.numpy_lstm`)."""

from __future__ import annotations

import torch
from torch import nn

from cadenza.models.config import ModelConfig
from cadenza.models.numpy_lstm import NumpyLSTM, NumpyStep


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

    def as_numpy(self) -> NumpyLSTM | None:
        """This network for the numpy sampling loop (:mod:`.numpy_lstm`), or None where it cannot
        stand in for :meth:`forward` (training mode's dropout, weights on a GPU)."""
        if self.training or self.head.weight.device.type != "cpu":
            return None
        return NumpyLSTM(self.cfg, {k: v.detach().float().numpy() for k, v in self.state_dict().items()})

    def fast_step(self, state) -> NumpyStep | None:
        """A sampler's one-token step from ``state`` (h, c) on, or None (see :meth:`as_numpy`)."""
        lstm = self.as_numpy()
        return None if lstm is None else NumpyStep(lstm, *(s.detach().float().numpy() for s in state))
