"""How likely the model finds held-out music: per-token negative log-likelihood of each test
piece from the model's empty state (:func:`token_nats`), summed into nats (and bits) per token,
per note and per second. :func:`likelihood_section` is the report's "Likelihood" section."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Callable

import numpy as np

from cadenza.evaluation.heldout import HeldOut
from cadenza.evaluation.pieces import piece_notes, seconds

LN2 = math.log(2)
FORMULA = (
    "nats/token = total nats / tokens scored; nats/note = total nats over the test split / notes in it; "
    "nats/second = total nats / seconds of music (quarters x 60 / qpm, 120 qpm where a piece sets no tempo); bits = nats / ln 2"
)


def _device():
    import torch

    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def token_nats(model, seqs: list[list[int]], batch_size: int = 16, chunk: int = 512, progress: Callable[[int, int], None] | None = None) -> list[np.ndarray]:
    """Per-token negative log-likelihood (nats) of ``seq[1:]`` given the tokens before, for each
    sequence, from the model's empty state, read as a stream in chunks with the state carried
    over: an LSTM reads whole pieces; a transformer slides its window by half its context (see
    :mod:`cadenza.models.transformer`), exactly as when it samples."""
    import torch
    from torch.nn import functional as F

    dev = _device()
    model = model.to(dev).eval()
    out: list[np.ndarray] = [np.zeros(0)] * len(seqs)
    order = sorted(range(len(seqs)), key=lambda i: len(seqs[i]))
    done = 0
    with torch.no_grad():
        for b in range(0, len(order), batch_size):
            idx = [i for i in order[b : b + batch_size] if len(seqs[i]) > 1]
            done += len(order[b : b + batch_size])
            if idx:
                longest = max(len(seqs[i]) for i in idx)
                x = torch.zeros(len(idx), longest, dtype=torch.long)
                for r, i in enumerate(idx):
                    x[r, : len(seqs[i])] = torch.tensor(seqs[i])
                x = x.to(dev)
                nll = torch.zeros(len(idx), longest - 1, device=dev)
                state = None
                for c in range(0, longest - 1, chunk):
                    inp = x[:, c : min(c + chunk, longest - 1)]
                    tgt = x[:, c + 1 : c + 1 + inp.shape[1]]
                    logits, state = model(inp, state)
                    nll[:, c : c + inp.shape[1]] = F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), tgt.reshape(-1), reduction="none").view(tgt.shape)
                nll = nll.cpu().numpy()
                for r, i in enumerate(idx):
                    out[i] = nll[r, : len(seqs[i]) - 1].astype(float)
            if progress:
                progress(done, len(seqs))
    return out


def piece_ids(texts: list[str], codec, vocab: list[str]) -> tuple[list[list[int]], int, list[int]]:
    """Each piece's token ids as the model reads it (a character codec's pieces after the
    ``"\\n"`` separator they follow in training), tokens the vocabulary lacks skipped and
    counted. Returns (sequences, unknown tokens, the separator prefix)."""
    from cadenza.codecs import split_tokens

    stoi = {t: i for i, t in enumerate(vocab)}
    prefix = [stoi["\n"]] if codec.unit == "char" and "\n" in stoi else []
    seqs, unknown = [], 0
    for text in texts:
        toks = split_tokens(text, codec.unit)
        ids = [stoi[t] for t in toks if t in stoi]
        unknown += len(toks) - len(ids)
        seqs.append(prefix + ids)
    return seqs, unknown, prefix


def heldout_bits(model, config: dict[str, Any], dataset: Path, split: str = "test") -> dict[str, Any]:
    """Bits per token of a split's pieces, each read whole from the model's empty state: the
    figure ``evaluate``, ``cadenza models`` and the benchmarks report."""
    from cadenza.codecs import codec_of
    from cadenza.evaluation.heldout import split_pieces

    codec = codec_of(config)
    seqs, _, _ = piece_ids([text for text, _ in split_pieces(Path(dataset), split, codec.unit)], codec, config["vocab"])
    nats = token_nats(model, seqs)
    total, tokens = sum(float(x.sum()) for x in nats), sum(x.size for x in nats)
    return {"pieces": len(seqs), "tokens": tokens, "nats_per_token": total / tokens, "bits_per_token": total / tokens / LN2}


def likelihood_section(model, test: list[HeldOut], codec, vocab: list[str], run: Path, say: Callable[[str, int, int], None]) -> dict[str, Any]:
    """Score every test piece. A character codec's pieces follow a ``"\\n"`` separator in the
    training stream: scoring after it scores every token of the piece; without one the first
    token of each piece is not scored. Per-note and per-second figures use the pieces that
    decode to notes; the best validation loss of the run's log is added when there is one."""
    seqs, unknown, prefix = piece_ids([h.text for h in test], codec, vocab)
    nats = token_nats(model, seqs, progress=lambda d, n: say("likelihood", d, n))
    per_piece = []
    tot_nats = float(sum(x.sum() for x in nats))
    tot_tokens = int(sum(x.size for x in nats))
    notes = secs = read_nats = 0.0
    no_tempo = unread = 0
    for h, x in zip(test, nats):
        if h.piece is None:
            unread += 1
        else:
            read_nats += float(x.sum())  # per-note/second figures use the pieces with notes
        n_notes = len(piece_notes(h.piece)) if h.piece is not None else 0
        s = seconds(h.piece) if h.piece is not None else 0.0
        has_tempo = codec.piece_tempo(h.row.get("info") or {}) is not None
        no_tempo += h.piece is not None and not has_tempo
        notes += n_notes
        secs += s
        per_piece.append({"name": h.name, "tokens": int(x.size), "nats": float(x.sum()), "bits_per_token": float(x.mean() / LN2) if x.size else None, "notes": n_notes, "seconds": round(s, 2)})
    lk = {
        "pieces": len(test),
        "tokens": tot_tokens,
        "unknown_tokens_skipped": unknown,
        "scored_after_separator": bool(prefix),
        "nats": tot_nats,
        "nats_per_token": tot_nats / tot_tokens if tot_tokens else None,
        "bits_per_token": tot_nats / tot_tokens / LN2 if tot_tokens else None,
        "notes": int(notes),
        "nats_per_note": read_nats / notes if notes else None,
        "bits_per_note": read_nats / notes / LN2 if notes else None,
        "seconds": round(secs, 2),
        "nats_per_second": read_nats / secs if secs else None,
        "bits_per_second": read_nats / secs / LN2 if secs else None,
        "pieces_unreadable": unread,
        "pieces_without_tempo": no_tempo,
        "formula": FORMULA,
        "per_piece": per_piece,
    }
    from cadenza.training.checkpoint import read_log

    hist = read_log(run)
    if hist:
        vals = [h["val_loss"] for h in hist if h.get("val_loss") is not None]
        if vals:
            lk["best_val_bits_per_token"] = min(vals) / LN2
    return lk
