"""The char-rnn LSTM (:class:`~cadenza.models.lstm.CharLSTM`) in numpy, for sampling on a CPU.

A sampling step of a small LSTM is a dozen tiny operations, each of which costs torch several
microseconds of dispatch against numpy's fraction of one: 130 against 50 us per step for the 3x128
kern model. And a run opened for sampling reads its weights here, straight from safetensors into
numpy, so sampling an LSTM never loads torch (issue #21: importing it took 2.8 s of a 6.3 s
``generate``). Logits equal :meth:`CharLSTM.forward`'s to float32 rounding
(``tests/test_sampling_speed_paths.py``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

import numpy as np

from cadenza import CadenzaError
from cadenza.models.config import ModelConfig


class NumpyLSTM:
    """A :class:`CharLSTM`'s weights, laid out for :class:`NumpyStep`. Gates are reordered
    (i, f, o, g) and the sigmoid ones' rows halved, so one ``tanh`` over all four gates gives every
    gate (sigmoid(z) = (tanh(z/2) + 1) / 2); the first layer reads a table of embedding times
    input weights."""

    def __init__(self, cfg: ModelConfig, weights: Mapping[str, np.ndarray]):
        H, L = cfg.rnn_size, cfg.num_layers
        order = np.r_[0 : 2 * H, 3 * H : 4 * H, 2 * H : 3 * H]  # torch's i, f, g, o -> i, f, o, g
        half = np.r_[np.full(3 * H, 0.5), np.ones(H)].astype(np.float32)

        def w(name: str, layer: int) -> np.ndarray:
            got = np.asarray(weights[f"lstm.{name}_l{layer}"], dtype=np.float32)[order]
            return got * (half[:, None] if got.ndim == 2 else half)

        self.cfg, self.H, self.L = cfg, H, L
        self.w: list[np.ndarray] = []  # layer 0: h @ w; others: [x, h] @ w
        self.b: list[np.ndarray] = []
        for layer in range(L):
            bias = w("bias_ih", layer) + w("bias_hh", layer)
            if layer == 0:
                self.table = np.asarray(weights["embed.weight"], dtype=np.float32) @ w("weight_ih", 0).T + bias
                self.w.append(np.ascontiguousarray(w("weight_hh", 0).T))
            else:
                self.w.append(np.ascontiguousarray(np.concatenate([w("weight_ih", layer), w("weight_hh", layer)], 1).T))
            self.b.append(bias.astype(np.float32))
        self.head_w = np.ascontiguousarray(np.asarray(weights["head.weight"], dtype=np.float32).T)
        self.head_b = np.array(weights["head.bias"], dtype=np.float32)

    @classmethod
    def read(cls, path: Path, cfg: ModelConfig) -> NumpyLSTM:
        """The LSTM whose weights ``path`` (a run's ``.safetensors``) holds."""
        from safetensors import SafetensorError
        from safetensors.numpy import load_file

        try:
            return cls(cfg, load_file(str(path)))
        except (OSError, SafetensorError) as exc:
            raise CadenzaError(f"{path}: cannot read the weights ({' '.join(str(exc).split())[:160]})") from None
        except (KeyError, IndexError, ValueError) as exc:
            raise CadenzaError(f"{path}: weights do not match the model in config.json ({type(exc).__name__}: {' '.join(str(exc).split())[:120]})") from None

    def start(self, prime: list[int], n: int) -> tuple[np.ndarray, NumpyStep]:
        """(logits (n, vocab) after reading ``prime``, the step that goes on from there) for ``n``
        samples: the prime is read once and its state copied to every row."""
        zeros = np.zeros((self.L, 1, self.H), dtype=np.float32)
        one = NumpyStep(self, zeros, zeros)
        logits = np.zeros((1, self.cfg.vocab_size), dtype=np.float32)
        for token in prime:
            logits = one(np.array([token]))
        h, c = one.state()
        return np.repeat(logits, n, 0), NumpyStep(self, np.repeat(h, n, 1), np.repeat(c, n, 1))


class NumpyStep:
    """One token at a time through a :class:`NumpyLSTM` from state ``h``, ``c`` ((layers, batch,
    size) arrays, as :class:`torch.nn.LSTM` keeps them)."""

    def __init__(self, lstm: NumpyLSTM, h: np.ndarray, c: np.ndarray):
        self.m = lstm
        self.h = [np.array(h[i], dtype=np.float32) for i in range(lstm.L)]
        self.c = [np.array(c[i], dtype=np.float32) for i in range(lstm.L)]

    def __call__(self, tokens: np.ndarray) -> np.ndarray:
        """Logits (batch, vocab) after reading ``tokens`` (one id per row)."""
        m, H, tanh = self.m, self.m.H, np.tanh
        x = None
        for layer in range(m.L):
            if layer == 0:
                z = m.table[tokens]
                z += self.h[0] @ m.w[0]
            else:
                z = np.concatenate((x, self.h[layer]), 1) @ m.w[layer]
                z += m.b[layer]
            t = tanh(z)
            sig = t[:, : 3 * H]
            sig *= 0.5
            sig += 0.5
            c = self.c[layer]
            c *= t[:, H : 2 * H]
            c += t[:, :H] * t[:, 3 * H :]
            x = self.h[layer] = t[:, 2 * H : 3 * H] * tanh(c)
        logits = x @ m.head_w
        logits += m.head_b
        return logits

    def state(self) -> tuple[np.ndarray, np.ndarray]:
        """(h, c) as (layers, batch, size) arrays: what :class:`CharLSTM` continues from."""
        return np.stack(self.h), np.stack(self.c)
