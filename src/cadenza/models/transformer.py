"""A GPT-style decoder (after nanoGPT) with rotary positions and a KV cache.

Pre-norm blocks, causal self-attention with rotary position embeddings (RoPE, Su et al. 2021),
a tied read-out (the token embedding is also the output layer), dropout.

The model attends to at most ``context`` tokens: the window it was trained on is the window it
samples and is scored with. Reading a long sequence (sampling, or scoring a whole piece) keeps a
cache of keys and values; when the cache is full, the window jumps: the cache is rebuilt from the
last ``context // 2`` tokens, so every token is predicted from between ``context // 2`` and
``context`` tokens of history, with positions ``0..context-1`` exactly as in training. Because the
rule depends only on the token ids, reading token by token with the cache gives the same logits
as recomputing each window from scratch (:func:`window_start` says which window that is).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from cadenza.models.config import ModelConfig


def window_start(t: int, context: int) -> int:
    """The first token of the window the model sees when it reads token ``t`` (0-based) of a
    long sequence: the logits there (predicting token ``t + 1``) depend on tokens
    ``window_start(t) .. t`` only."""
    half = max(1, context // 2)
    return 0 if t < context else half * ((t - context) // half + 1)


def rotary_tables(context: int, head_dim: int, base: float = 10000.0) -> tuple[torch.Tensor, torch.Tensor]:
    inv = 1.0 / base ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim)
    angles = torch.outer(torch.arange(context, dtype=torch.float32), inv)  # (context, head_dim / 2)
    return angles.cos(), angles.sin()


def rotate(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Apply RoPE to (batch, heads, time, head_dim) with tables already cut to those times."""
    x1, x2 = x[..., 0::2], x[..., 1::2]
    out = torch.stack((x1 * cos - x2 * sin, x1 * sin + x2 * cos), dim=-1)
    return out.flatten(-2).type_as(x)


class Attention(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        d = cfg.rnn_size
        self.heads = cfg.n_head
        self.qkv = nn.Linear(d, 3 * d, bias=False)
        self.proj = nn.Linear(d, d, bias=False)
        self.p = cfg.dropout

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, past: tuple[torch.Tensor, torch.Tensor] | None):
        B, T, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.heads, C // self.heads).transpose(1, 2) for t in (q, k, v))
        q, k = rotate(q, cos, sin), rotate(k, cos, sin)
        if past is not None:
            k, v = torch.cat([past[0], k], dim=2), torch.cat([past[1], v], dim=2)
        if past is None:
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True, dropout_p=self.p if self.training else 0.0)
        elif T > 1:
            # new queries see the whole cache and, among themselves, only the past
            S = k.shape[2]
            mask = torch.ones(T, S, dtype=torch.bool, device=x.device).tril(S - T)
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=self.p if self.training else 0.0)
        else:
            y = F.scaled_dot_product_attention(q, k, v)
        return self.proj(y.transpose(1, 2).reshape(B, T, C)), (k, v)


class Block(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        d = cfg.rnn_size
        self.ln1 = nn.LayerNorm(d)
        self.attn = Attention(cfg)
        self.ln2 = nn.LayerNorm(d)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d), nn.Dropout(cfg.dropout))
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x, cos, sin, past):
        a, kv = self.attn(self.ln1(x), cos, sin, past)
        x = x + self.drop(a)
        return x + self.mlp(self.ln2(x)), kv


@dataclass
class Cache:
    """What the model keeps between calls: the window's token ids and each layer's keys/values."""

    ids: torch.Tensor  # (batch, filled)
    kv: list[tuple[torch.Tensor, torch.Tensor]] | None

    @property
    def filled(self) -> int:
        return self.ids.shape[1]


class Transformer(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        if cfg.rnn_size % cfg.n_head:
            from cadenza import CadenzaError

            raise CadenzaError(f"--d-model {cfg.rnn_size} is not divisible by --heads {cfg.n_head}")
        if (cfg.rnn_size // cfg.n_head) % 2:
            from cadenza import CadenzaError

            raise CadenzaError(f"rotary positions need an even head width; --d-model {cfg.rnn_size} / --heads {cfg.n_head} is odd")
        self.cfg = cfg
        self.context = cfg.block_size
        self.tok = nn.Embedding(cfg.vocab_size, cfg.rnn_size)
        self.drop = nn.Dropout(cfg.dropout)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.num_layers))
        self.ln = nn.LayerNorm(cfg.rnn_size)
        self.head = nn.Linear(cfg.rnn_size, cfg.vocab_size, bias=False)
        self.head.weight = self.tok.weight  # tied read-out
        cos, sin = rotary_tables(self.context, cfg.rnn_size // cfg.n_head)
        self.register_buffer("cos", cos, persistent=False)
        self.register_buffer("sin", sin, persistent=False)
        self.apply(self._init)
        for name, p in self.named_parameters():
            if name.endswith("proj.weight") or name.endswith("mlp.2.weight"):  # GPT-2's scaled residual init
                nn.init.normal_(p, 0.0, 0.02 / math.sqrt(2 * cfg.num_layers))

    @staticmethod
    def _init(m: nn.Module) -> None:
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if getattr(m, "bias", None) is not None:
                nn.init.zeros_(m.bias)

    def init_state(self, batch: int) -> Cache:
        return Cache(torch.zeros(batch, 0, dtype=torch.long, device=self.tok.weight.device), None)

    def _run(self, idx: torch.Tensor, cache: Cache) -> tuple[torch.Tensor, Cache]:
        """Read ``idx`` after ``cache`` (which together fit in the context)."""
        start, T = cache.filled, idx.shape[1]
        cos, sin = self.cos[start : start + T], self.sin[start : start + T]
        x = self.drop(self.tok(idx))
        kv = []
        for i, b in enumerate(self.blocks):
            x, layer_kv = b(x, cos, sin, cache.kv[i] if cache.kv else None)
            kv.append(layer_kv)
        return self.head(self.ln(x)), Cache(torch.cat([cache.ids, idx], dim=1), kv)

    def forward(self, idx: torch.Tensor, state: Cache | None = None) -> tuple[torch.Tensor, Cache]:
        """Logits for every token of ``idx`` (batch, time), continuing ``state``. Sequences longer
        than the context are read window by window (see the module docstring)."""
        cache = state if state is not None and state.filled else self.init_state(idx.shape[0])
        if cache.filled + idx.shape[1] <= self.context:
            return self._run(idx, cache)
        out, at = [], 0
        half = max(1, self.context // 2)
        while at < idx.shape[1]:
            if cache.filled == self.context:  # full: the window jumps, keeping the last half
                keep = cache.ids[:, -(self.context - half) :] if self.context - half else cache.ids[:, :0]
                _, cache = self._run(keep, self.init_state(idx.shape[0])) if keep.shape[1] else (None, self.init_state(idx.shape[0]))
            take = min(idx.shape[1] - at, self.context - cache.filled)
            logits, cache = self._run(idx[:, at : at + take], cache)
            out.append(logits)
            at += take
        return torch.cat(out, dim=1), cache

    @staticmethod
    def select_state(state: Cache, index: torch.Tensor) -> Cache:
        """Reorder the batch (beam search keeps the best beams)."""
        kv = [(k[index], v[index]) for k, v in state.kv] if state.kv else None
        return Cache(state.ids[index], kv)
