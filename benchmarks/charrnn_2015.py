"""The baselines of issue #15, reimplemented in plain PyTorch: char-rnn (Karpathy 2015, the recipe
of the 2015 Mozart kern experiment) and Clara (McLeavey Payne 2018: fastai's AWD-LSTM on notewise).

Both train stateful truncated BPTT over one stream, as their originals do: the training ids are
cut into ``batch`` parallel streams (char-rnn's ``data:view(batch, -1):split(seq, 2)``), the hidden
state is carried from one batch to the next and reset at each epoch's start. Every ``--eval-every``
steps the validation split is read the same way; the best validation weights are kept, and after
``--minutes`` of wall clock they score each test piece from a zero state as one stream with
:func:`cadenza.evaluation.likelihood.heldout_bits` (the very characters ``cadenza evaluate``
scores). Recipes:

* ``charrnn``: one-hot input, LSTM 3x128, dropout 0.05 between layers and before the read-out,
  weights uniform in +-0.08 (forget-gate bias 1), RMSprop lr 2e-3 alpha 0.95, gradients clamped to
  +-5 element-wise (char-rnn's ``grad_params:clamp``), seq 50, batch 50, lr x0.97 per epoch after 10.
* ``clara``: musical-neural-net's ``train.py`` defaults: embedding 400 tied to the read-out, LSTM
  4 layers of 600 (the last 400), AWD dropouts (input 0.05, embedding 0.02, hidden 0.05, output
  0.05, weight drop 0.1 on the recurrent weights), AR 2 / TAR 1, Adam betas (0.7, 0.99), lr 3e-3,
  gradient norm clipped at 0.3, batch 32, bptt 200.

    python benchmarks/charrnn_2015.py data/mozart --minutes 10 --threads 1 --json /tmp/x/charrnn.json
    python benchmarks/charrnn_2015.py data/piano-nw88 --recipe clara --minutes 10 --json /tmp/x/clara.json
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

LN2 = math.log(2)


@dataclass(frozen=True)
class Recipe:
    arch: str = "charrnn"  # charrnn | clara
    rnn_size: int = 128
    num_layers: int = 3
    embed: int = 0  # clara: embedding (and last layer) width
    dropout: float = 0.05
    seq_length: int = 50
    batch_size: int = 50
    learning_rate: float = 2e-3
    decay: float = 0.97
    decay_after: int = 10  # epochs
    grad_clip: float = 5.0
    eval_every: int = 250
    val_batches: int = 0  # 0: the whole validation split


RECIPES = {
    "charrnn": Recipe(),
    "clara": Recipe("clara", rnn_size=600, num_layers=4, embed=400, dropout=0.05, seq_length=200, batch_size=32, learning_rate=3e-3,
                    decay=1.0, grad_clip=0.3, val_batches=20),
}


class CharRNN(nn.Module):
    """char-rnn's LSTM: one-hot characters in, dropout on each layer's input past the first and
    before the read-out."""

    def __init__(self, vocab: int, r: Recipe):
        super().__init__()
        self.vocab = vocab
        self.lstm = nn.LSTM(vocab, r.rnn_size, r.num_layers, batch_first=True, dropout=r.dropout if r.num_layers > 1 else 0.0)
        self.drop = nn.Dropout(r.dropout)
        self.head = nn.Linear(r.rnn_size, vocab)
        for p in self.parameters():
            nn.init.uniform_(p, -0.08, 0.08)
        with torch.no_grad():  # char-rnn sets the forget gates' biases to 1 (gate order i, f, g, o)
            for name, p in self.lstm.named_parameters():
                if name.startswith("bias_ih"):
                    p[r.rnn_size : 2 * r.rnn_size] = 1.0

    def forward(self, idx, state=None):
        y, state = self.lstm(F.one_hot(idx, self.vocab).float(), state)
        return self.head(self.drop(y)), state


def _locked(x: torch.Tensor, p: float, training: bool) -> torch.Tensor:
    """AWD-LSTM's variational dropout: one mask per sequence, shared over time."""
    if not training or p == 0:
        return x
    mask = x.new_empty(x.shape[0], 1, x.shape[2]).bernoulli_(1 - p) / (1 - p)
    return x * mask


class AWDLSTM(nn.Module):
    """fastai's AWD-LSTM language model (Merity et al. 2017) as Clara configured it; ``forward``
    also leaves the last layer's outputs before and after dropout for the AR/TAR penalties."""

    DROP = {"input": 0.05, "embed": 0.02, "hidden": 0.05, "output": 0.05, "weight": 0.1}

    def __init__(self, vocab: int, r: Recipe):
        super().__init__()
        self.embed = nn.Embedding(vocab, r.embed)
        sizes = [r.embed] + [r.rnn_size] * (r.num_layers - 1) + [r.embed]
        self.layers = nn.ModuleList(nn.LSTM(sizes[i], sizes[i + 1], batch_first=True) for i in range(r.num_layers))
        self.head = nn.Linear(r.embed, vocab)
        self.head.weight = self.embed.weight  # tied, as fastai's get_language_model does
        nn.init.uniform_(self.embed.weight, -0.1, 0.1)
        self.raw, self.dropped = None, None

    def forward(self, idx, state=None):
        d, w = self.DROP, self.embed.weight
        if self.training and d["embed"]:  # embedding dropout: whole words dropped
            w = w * w.new_empty(w.shape[0], 1).bernoulli_(1 - d["embed"]) / (1 - d["embed"])
        x = _locked(F.embedding(idx, w), d["input"], self.training)
        new = []
        for i, lstm in enumerate(self.layers):
            params = dict(lstm.named_parameters())
            if self.training:  # weight drop (DropConnect) on the recurrent weights
                params["weight_hh_l0"] = F.dropout(params["weight_hh_l0"], d["weight"])
            x, s = torch.func.functional_call(lstm, params, (x, None if state is None else state[i]))
            new.append(s)
            self.raw = x
            x = _locked(x, d["output"] if i == len(self.layers) - 1 else d["hidden"], self.training)
        self.dropped = x
        return self.head(x), new


def build(vocab: int, r: Recipe) -> nn.Module:
    return CharRNN(vocab, r) if r.arch == "charrnn" else AWDLSTM(vocab, r)


def detach(state):
    if isinstance(state, list):
        return [detach(s) for s in state]
    return tuple(s.detach() for s in state)


def streams(ids: np.ndarray, batch: int, seq: int) -> tuple[torch.Tensor, torch.Tensor]:
    """char-rnn's loader: the ids cut to a multiple of batch x seq (plus the one target), as
    ``batch`` parallel rows; batch ``k`` is columns ``k*seq .. (k+1)*seq``."""
    n = (len(ids) - 1) // (batch * seq) * (batch * seq)
    if n == 0:
        raise SystemExit(f"{len(ids)} tokens are fewer than one batch of {batch} x {seq}")
    a = torch.from_numpy(np.asarray(ids[: n + 1], dtype=np.int64))
    return a[:-1].view(batch, -1), a[1:].view(batch, -1)


@torch.no_grad()
def val_loss(model: nn.Module, x: torch.Tensor, y: torch.Tensor, seq: int, limit: int) -> float:
    model.eval()
    state, total, count = None, 0.0, 0
    n = x.shape[1] // seq
    for k in range(min(n, limit) if limit else n):
        logits, state = model(x[:, k * seq : (k + 1) * seq], state)
        t = y[:, k * seq : (k + 1) * seq]
        total += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), t.reshape(-1), reduction="sum").item()
        count += t.numel()
    model.train()
    return total / max(count, 1)


def train(dataset: Path, r: Recipe, minutes: float, seed: int = 123, max_steps: int = 0, log=print) -> dict:
    """Train ``r`` on ``dataset`` for ``minutes`` of wall clock (or ``max_steps``); the best
    validation weights scored on the test pieces."""
    from cadenza.codecs import get_codec
    from cadenza.data.dataset import load_manifest
    from cadenza.evaluation.likelihood import heldout_bits
    from cadenza.training.data import Stream, load_vocab

    manifest, vocab = load_manifest(dataset), load_vocab(dataset)
    unit = get_codec(manifest["codec"], manifest["options"]).unit
    tx, ty = streams(Stream.load(dataset, "train", unit, vocab).ids, r.batch_size, r.seq_length)
    vids = Stream.load(dataset, "val", unit, vocab).ids
    vx, vy = streams(vids, min(r.batch_size, max(1, (len(vids) - 1) // r.seq_length)), r.seq_length)
    torch.manual_seed(seed)
    model = build(len(vocab), r)
    if r.arch == "charrnn":
        opt = torch.optim.RMSprop(model.parameters(), lr=r.learning_rate, alpha=0.95, eps=1e-8)
    else:
        opt = torch.optim.Adam(model.parameters(), lr=r.learning_rate, betas=(0.7, 0.99))
    per_epoch = tx.shape[1] // r.seq_length
    t0, step, state, best, best_w, history = time.time(), 0, None, math.inf, None, []
    model.train()
    while True:
        k = step % per_epoch
        if k == 0:
            state = None  # char-rnn resets the state at each epoch's start
            epoch = step // per_epoch
            lr = r.learning_rate * (r.decay ** max(0, epoch - r.decay_after + 1) if epoch >= r.decay_after else 1.0)
            for g in opt.param_groups:
                g["lr"] = lr
        x, y = tx[:, k * r.seq_length : (k + 1) * r.seq_length], ty[:, k * r.seq_length : (k + 1) * r.seq_length]
        logits, state = model(x, state)
        state = detach(state)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        if r.arch == "clara":  # AR (alpha 2) on the dropped outputs, TAR (beta 1) on the raw ones
            loss = loss + 2 * model.dropped.pow(2).mean() + 1 * (model.raw[:, 1:] - model.raw[:, :-1]).pow(2).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if r.arch == "charrnn":
            torch.nn.utils.clip_grad_value_(model.parameters(), r.grad_clip)
        else:
            torch.nn.utils.clip_grad_norm_(model.parameters(), r.grad_clip)
        opt.step()
        step += 1
        done = (minutes > 0 and time.time() - t0 > minutes * 60) or (max_steps and step >= max_steps)
        if step % r.eval_every == 0 or done:
            v = val_loss(model, vx, vy, r.seq_length, r.val_batches)
            history.append({"step": step, "epoch": round(step / per_epoch, 3), "lr": lr, "train_loss": loss.item(), "val_loss": v, "seconds": round(time.time() - t0, 1)})
            log(json.dumps(history[-1]))
            if v < best:
                best, best_w = v, copy.deepcopy(model.state_dict())
        if done:
            break
    seconds = time.time() - t0
    model.load_state_dict(best_w)
    held = heldout_bits(model, {"codec": manifest["codec"], "codec_options": manifest["options"], "vocab": vocab}, dataset, "test")
    return {"recipe": asdict(r), "params": sum(p.numel() for p in model.parameters()), "steps": step, "epochs": round(step / per_epoch, 3),
            "train_seconds": round(seconds, 1), "best_val_bits_per_token": round(best / LN2, 4), "test_pieces": held["pieces"],
            "test_tokens": held["tokens"], "test_bits_per_token": round(held["bits_per_token"], 4), "history": history}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dataset", type=Path)
    ap.add_argument("--recipe", choices=sorted(RECIPES), default="charrnn")
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--max-steps", type=int, default=0)
    ap.add_argument("--eval-every", type=int, default=0, help="0: the recipe's")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=123)
    ap.add_argument("--json", type=Path, help="Write the result here.")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    r = RECIPES[args.recipe]
    if args.eval_every:
        r = replace(r, eval_every=args.eval_every)
    res = train(args.dataset, r, args.minutes, args.seed, args.max_steps)
    print(f"{args.recipe}: {res['steps']} steps ({res['epochs']} epochs) in {res['train_seconds']} s; best val {res['best_val_bits_per_token']} bits/token; "
          f"test {res['test_bits_per_token']} bits/token over {res['test_tokens']} tokens of {res['test_pieces']} whole pieces")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(res, indent=1) + "\n")


if __name__ == "__main__":
    main()
