"""A small GPT (after nanoGPT): causal self-attention blocks with learned positions. It plugs into
the same interface as the LSTM; its state is the recent context (at most ``block_size`` tokens),
re-read at each step, which is simple and fast enough for the model sizes a laptop trains."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from cadenza.models import ModelConfig


class Block(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        d = cfg.rnn_size
        self.ln1 = nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.ln2 = nn.LayerNorm(d)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))
        self.drop = nn.Dropout(cfg.dropout)
        self.n_head = cfg.n_head
        self.p = cfg.dropout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, C = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(C, dim=2)
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True, dropout_p=self.p if self.training else 0.0)
        x = x + self.drop(self.proj(y.transpose(1, 2).reshape(B, T, C)))
        return x + self.drop(self.mlp(self.ln2(x)))


class Transformer(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        if cfg.rnn_size % cfg.n_head:
            raise ValueError(f"width {cfg.rnn_size} is not divisible by {cfg.n_head} heads")
        self.cfg = cfg
        self.tok = nn.Embedding(cfg.vocab_size, cfg.rnn_size)
        self.pos = nn.Embedding(cfg.block_size, cfg.rnn_size)
        self.drop = nn.Dropout(cfg.dropout)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.num_layers))
        self.ln = nn.LayerNorm(cfg.rnn_size)
        self.head = nn.Linear(cfg.rnn_size, cfg.vocab_size, bias=False)

    def init_state(self, batch: int) -> torch.Tensor:
        return torch.zeros(batch, 0, dtype=torch.long, device=self.head.weight.device)

    def forward(self, idx: torch.Tensor, state=None):
        ctx = idx if state is None or state.shape[1] == 0 else torch.cat([state, idx], dim=1)
        ctx = ctx[:, -self.cfg.block_size :]
        T = ctx.shape[1]
        x = self.drop(self.tok(ctx) + self.pos(torch.arange(T, device=ctx.device)))
        for b in self.blocks:
            x = b(x)
        logits = self.head(self.ln(x))
        n_new = min(idx.shape[1], T)
        return logits[:, -n_new:], ctx

    @staticmethod
    def select_state(state, index: torch.Tensor):
        return state[index]
