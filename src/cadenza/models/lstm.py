"""The char-rnn model (Karpathy 2015) as the 2015 kern experiment used it: embedding, a stack of
LSTM layers with dropout between them, and a linear read-out to next-token logits."""

from __future__ import annotations

import numpy as np
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

    def fast_step(self, state) -> "NumpyStep | None":
        """A sampler's one-token step from ``state`` on, or None where it cannot stand in for
        :meth:`forward` (training mode's dropout, weights on a GPU)."""
        if self.training or self.head.weight.device.type != "cpu":
            return None
        return NumpyStep(self, state)


class NumpyStep:
    """One token at a time through a :class:`CharLSTM` in numpy, for sampling on a CPU.

    A sampling step of a small LSTM is a dozen tiny operations, each of which costs torch
    several microseconds of dispatch against numpy's fraction of one: 130 against 50 us per step
    for the 3x128 kern model. Gates are reordered (i, f, o, g) and the sigmoid ones' rows halved,
    so one ``tanh`` over all four gates gives every gate (sigmoid(z) = (tanh(z/2) + 1) / 2); the
    first layer reads a table of embedding times input weights. Logits equal :meth:`CharLSTM.forward`'s
    to float32 rounding (``tests/test_sampling_speed_paths.py``)."""

    def __init__(self, model: CharLSTM, state):
        H, L = model.cfg.rnn_size, model.cfg.num_layers
        order = np.r_[0 : 2 * H, 3 * H : 4 * H, 2 * H : 3 * H]  # torch's i, f, g, o -> i, f, o, g
        half = np.r_[np.full(3 * H, 0.5), np.ones(H)].astype(np.float32)
        lstm = model.lstm

        def weights(name: str, layer: int) -> np.ndarray:
            w = getattr(lstm, f"{name}_l{layer}").detach().float().numpy()[order]
            return w * (half[:, None] if w.ndim == 2 else half)

        self.H, self.L = H, L
        self.w: list[np.ndarray] = []  # layer 0: h @ w; others: [x, h] @ w
        self.b: list[np.ndarray] = []
        for layer in range(L):
            bias = weights("bias_ih", layer) + weights("bias_hh", layer)
            if layer == 0:
                emb = model.embed.weight.detach().float().numpy()
                self.table = emb @ weights("weight_ih", 0).T + bias
                self.w.append(np.ascontiguousarray(weights("weight_hh", 0).T))
            else:
                self.w.append(np.ascontiguousarray(np.concatenate([weights("weight_ih", layer), weights("weight_hh", layer)], 1).T))
            self.b.append(bias.astype(np.float32))
        self.head_w = np.ascontiguousarray(model.head.weight.detach().float().numpy().T)
        self.head_b = model.head.bias.detach().float().numpy().copy()
        h, c = state
        self.h = [h[i].detach().float().numpy().copy() for i in range(L)]
        self.c = [c[i].detach().float().numpy().copy() for i in range(L)]

    def __call__(self, tokens: np.ndarray) -> np.ndarray:
        """Logits (batch, vocab) after reading ``tokens`` (one id per row)."""
        H, tanh = self.H, np.tanh
        x = None
        for layer in range(self.L):
            if layer == 0:
                z = self.table[tokens]
                z += self.h[0] @ self.w[0]
            else:
                z = np.concatenate((x, self.h[layer]), 1) @ self.w[layer]
                z += self.b[layer]
            t = tanh(z)
            sig = t[:, : 3 * H]
            sig *= 0.5
            sig += 0.5
            c = self.c[layer]
            c *= t[:, H : 2 * H]
            c += t[:, :H] * t[:, 3 * H :]
            x = self.h[layer] = t[:, 2 * H : 3 * H] * tanh(c)
        logits = x @ self.head_w
        logits += self.head_b
        return logits

    def state(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The (h, c) a :class:`CharLSTM` continues from."""
        return torch.from_numpy(np.stack(self.h)), torch.from_numpy(np.stack(self.c))
