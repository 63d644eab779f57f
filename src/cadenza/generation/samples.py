"""What generation hands back: one :class:`Sample` per piece written (its model text, files and
figures), the prime as token ids, and the ``summary.json`` beside the files."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cadenza import CadenzaError
from cadenza.codecs import split_tokens


@dataclass
class Sample:
    index: int
    text: str
    files: dict[str, Path] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)


def encode_prime(text: str, vocab: list[str], unit: str, map_unknown: bool = False, where: str = "--prime") -> list[int]:
    """Prime text -> ids. Characters (or words) the model never saw are an error naming them,
    unless ``map_unknown``, which drops them (and says how many)."""
    stoi = {t: i for i, t in enumerate(vocab)}
    toks = split_tokens(text, unit)
    bad = [(i, t) for i, t in enumerate(toks) if t not in stoi]
    if bad and not map_unknown:
        shown = ", ".join(f"{t!r} at {i}" for i, t in bad[:5])
        raise CadenzaError(f"{where}: {len(bad)} {'character' if unit == 'char' else 'token'}(s) the model never saw: {shown} (use --map-unknown to drop them)")
    return [stoi[t] for t in toks if t in stoi]


def write_summary(out: Path, head: dict[str, Any], samples: list[Sample], **dump: Any) -> None:
    """``out/summary.json``: ``head`` (what was asked), then each sample's figures and files."""
    rows = [{"sample": s.index, **s.stats, "files": {k: str(v) for k, v in s.files.items()}} for s in samples]
    (Path(out) / "summary.json").write_text(json.dumps(dict(head, samples=rows), indent=1, **dump), encoding="utf-8")
