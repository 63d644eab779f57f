"""The kern codec: cleaned **kern characters in, restored files out (see :mod:`.core`)."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any, ClassVar

from cadenza.codecs import Decoded, Encoded, register
from cadenza.codecs.kern.core import (
    _KEYSIG,
    _SPELLINGS,
    BAR,
    Header,
    KernOptions,
    _keysig_fifths,
    _keysig_token,
    _transpose_key,
    choose_interval,
    clean,
    default_header,
    read_text,
    restore,
    transpose_text,
)


# The codec


@register
class KernCodec:
    """Character-level **kern (see the module docstring for what cleaning keeps)."""

    name: ClassVar[str] = "kern"
    unit: ClassVar[str] = "char"
    suffixes: ClassVar[tuple[str, ...]] = (".krn",)
    bar_token: ClassVar[str | None] = BAR
    sample_formats: ClassVar[tuple[str, ...]] = ("krn", "mid", "musicxml")
    Options = KernOptions

    def __init__(self, options: KernOptions | None = None):
        self.options = options or KernOptions()

    def encode(self, path: Path) -> list[Encoded]:
        text, header = clean(read_text(path), str(path))
        return [Encoded(path.stem, text, {"header": header.to_dict(), "fifths": _first_fifths(header), "bars": text.count(BAR + "\n")})]

    def encode_text(self, text: str, name: str = "<text>") -> Encoded:
        body, header = clean(text, name)
        return Encoded(name, body, {"header": header.to_dict(), "fifths": _first_fifths(header)})

    def transpose(self, piece: Encoded, semitones: int) -> Encoded:
        fifths = piece.info.get("fifths", 0)
        text = transpose_text(piece.text, semitones, fifths)
        info = dict(piece.info)
        header = Header.from_dict(info["header"])
        steps, _ = choose_interval(semitones, fifths)
        _, df = min(_SPELLINGS[semitones % 12], key=lambda o: (abs(fifths + o[1]), o[1] < 0 and semitones % 12 == 6))
        header.keysig = [_keysig_token(_keysig_fifths(k) + df) if _KEYSIG.match(k) else k for k in header.keysig]
        if header.key:
            header.key = _transpose_key(header.key, steps, semitones)
        info["header"] = header.to_dict()
        info["fifths"] = fifths + df
        info["transposed"] = semitones
        return Encoded(f"{piece.name}{semitones:+d}", text, info)

    def decode(self, text: str, context: dict[str, Any]) -> Decoded:
        header = Header.from_dict(context["header"]) if "header" in context else default_header(context.get("spines", 2))
        kern, stats = restore(text, header)
        return Decoded(text, stats, kern)

    def default_prime(self, vocab: list[str]) -> str:
        # "@\n" starts a bar, as the 2015 experiment's -primetext "@"
        return BAR + "\n"

    def generation_context(self, train: list[dict[str, Any]], layout: Any) -> dict[str, Any]:
        bars = sum(r["info"].get("bars", 0) for r in train)
        chars = sum(r["tokens"] for r in train)
        return {"header": most_common_header([r["info"]["header"] for r in train], layout).to_dict(), "chars_per_bar": round(chars / max(bars, 1), 1)}

    def piece_tempo(self, info: dict[str, Any]) -> float | None:
        m = re.match(r"\*MM(\d+(?:\.\d+)?)", (info.get("header") or {}).get("tempo") or "")
        return float(m.group(1)) if m else None

    def constraint(self, vocab: list[str], context: dict[str, Any], n: int, prefix: str) -> Any:
        from cadenza.codecs.kern.constraint import KernConstraint

        return KernConstraint(vocab, context, n, prefix)

    def export(self, decoded: Decoded, stem: Path, formats: tuple[str, ...] = ("krn", "mid", "musicxml")) -> dict[str, Path]:
        from cadenza.scores import export_kern

        return export_kern(decoded.payload, stem, formats, decoded.stats)


def _first_fifths(header: Header) -> int:
    for k in header.keysig:
        if _KEYSIG.match(k):
            return _keysig_fifths(k)
    return 0


def most_common_header(headers: list[dict[str, Any]], spines: int) -> Header:
    """The preamble generated samples get: the most common clefs, key signature, key, metre and
    tempo of the training pieces with this layout."""
    hs = [Header.from_dict(h) for h in headers if h["spines"] == spines]
    if not hs:
        return default_header(spines)

    def mode(values: list[Any]) -> Any:
        vals = [v for v in values if v is not None]
        return Counter(vals).most_common(1)[0][0] if vals else None

    clefs = mode([tuple(h.clefs) for h in hs])
    keysig = mode([tuple(h.keysig) for h in hs])
    # key must agree with the key signature we picked
    keys = [h.key for h in hs if tuple(h.keysig) == keysig]
    return Header(
        spines,
        list(clefs) if clefs else default_header(spines).clefs,
        list(keysig) if keysig else ["*k[]"] * spines,
        mode(keys),
        meter := mode([h.meter for h in hs]),
        mode([h.met for h in hs if h.meter == meter]),  # a mensuration sign that fits the metre
        mode([h.tempo for h in hs]),
    )
