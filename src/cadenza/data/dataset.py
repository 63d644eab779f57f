"""The dataset on disk: what ``prepare`` writes and ``train`` / ``evaluate`` read back.

See :mod:`cadenza.data` for the files of a dataset folder.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from cadenza import CadenzaError
from cadenza.files import atomic_write, write_json

PIECE_SEP = "\n"  # appended after each piece's text: kern pieces end in "\n", so a blank line


def write_dataset(out: Path, texts: dict[str, list[str]], unit: str, vocab: list[str], rows: list[dict[str, Any]], manifest: dict[str, Any],
                  heads: dict[str, list[str]] | None = None) -> None:
    """Write a dataset folder: each split's pieces (``unit`` "word": the text ends in a newline),
    the vocabulary, one JSON line per piece and the manifest (last, so a folder with a manifest
    is complete). ``heads``: per split, the label text each piece opens with (see
    :mod:`cadenza.codecs.labels`), which every window inside the piece is prefixed with."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for split, t in texts.items():
        (out / f"{split}.txt").write_text(PIECE_SEP.join(t) + ("\n" if unit != "char" else ""), encoding="utf-8")
    (out / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False, indent=0), encoding="utf-8")
    stoi = {t: i for i, t in enumerate(vocab)}
    for split, t in texts.items():  # the token ids, memory-mapped by training
        write_ids(out / f"{split}.ids.npy", encode_ids(PIECE_SEP.join(t), unit, stoi))
    hook = _hook(manifest, "window_prefix")
    if hook is not None or heads:
        for split, t in texts.items():
            write_prefixes(out / f"{split}.prefix.npz", t, unit, stoi, hook, (heads or {}).get(split))
    with open(out / "pieces.jsonl", "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    write_json(out / "manifest.json", manifest)


def _hook(manifest: dict[str, Any], name: str) -> Any:
    """The codec's method ``name`` where it declares that capability (``window_prefix``,
    ``dataset_problem``: :data:`cadenza.codecs.base.CAPABILITIES`), or None."""
    from cadenza.codecs import get_codec

    try:
        codec = get_codec(manifest["codec"], manifest.get("options"))
    except (KeyError, CadenzaError):
        return None
    if not codec.can(name):
        return None
    return codec.window_prefix if name == "window_prefix" else codec.dataset_problem


def write_prefixes(path: Path, pieces: list[str], unit: str, stoi: dict[str, int], hook: Any, heads: list[str] | None = None) -> None:
    """Where the context in force changes along a split (``at``: token offsets, sorted) and what
    a window starting there is prefixed with (token ids ``ids[start[k]:start[k + 1]]``), from the
    codec's ``window_prefix`` (None: the codec has none); ``sep``: the id that ends a prefix line
    (-1: none), where a prefix too long for a window is cut. ``heads``: the label text opening
    each piece, which comes first in every prefix inside the piece (a window starting within
    the labels themselves gets none)."""
    from cadenza.codecs import split_tokens

    sep_len = len(split_tokens(PIECE_SEP, unit)) if unit == "char" else 0
    at, start, flat = [], [], []
    base = 0
    for i, text in enumerate(pieces):
        head = heads[i] if heads else ""
        skip = len(split_tokens(head, unit))
        body = text[len(head) :]
        changes = hook(body) if hook is not None else [(0, "")]
        if head:
            changes = [(-skip, "")] + [(o, head + p) for o, p in ([] if changes and changes[0][0] == 0 else [(0, "")]) + list(changes)]
        for offset, prefix in changes:
            at.append(base + skip + offset)
            start.append(len(flat))
            flat.extend(stoi[t] for t in split_tokens(prefix, unit) if t in stoi)
        base += len(split_tokens(text, unit)) + sep_len
    start.append(len(flat))
    sep = stoi.get("\n", -1) if unit == "char" else -1

    def save(p: Path) -> None:
        with open(p, "wb") as fh:
            np.savez(fh, at=np.array(at, dtype=np.int64), start=np.array(start, dtype=np.int64), ids=np.array(flat, dtype=np.int64), sep=np.array(sep))

    atomic_write(path, save)


def ids_dtype(vocab_size: int) -> np.dtype:
    return np.dtype(np.uint16) if vocab_size <= 1 << 16 else np.dtype(np.uint32)


def encode_ids(text: str, unit: str, stoi: dict[str, int]) -> np.ndarray:
    """A split's text as token ids (uint16, or uint32 past 65,536 tokens)."""
    from cadenza.codecs import split_tokens

    toks = split_tokens(text, unit)
    unknown = {t for t in toks if t not in stoi}
    if unknown:
        raise CadenzaError(f"tokens missing from the vocabulary: {sorted(unknown)[:5]}")
    return np.fromiter((stoi[t] for t in toks), dtype=ids_dtype(len(stoi)), count=len(toks))


def write_ids(path: Path, ids: np.ndarray) -> None:
    def save(p: Path) -> None:
        with open(p, "wb") as fh:
            np.save(fh, ids)

    atomic_write(path, save)


def load_manifest(dataset: Path) -> dict[str, Any]:
    path = Path(dataset) / "manifest.json"
    if not path.exists():
        raise CadenzaError(f"{dataset}: not a Cadenza dataset (no manifest.json); make one with `cadenza prepare`")
    manifest = json.loads(path.read_text(encoding="utf-8"))
    problem = _hook(manifest, "dataset_problem")
    why = problem(manifest) if problem is not None else None
    if why:
        raise CadenzaError(f"{dataset}: {why}")
    return manifest


def load_split(dataset: Path, split: str) -> str:
    return (Path(dataset) / f"{split}.txt").read_text(encoding="utf-8")


def load_pieces(dataset: Path, split: str | None = None) -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in (Path(dataset) / "pieces.jsonl").read_text(encoding="utf-8").splitlines() if line]
    return [r for r in rows if split is None or r["split"] == split]
