"""Codecs turn a music file into the text a language model reads, and that text back into music.

One protocol, many implementations, registered by name (``kern``, ``notewise``, ``chordwise``).
Options are small frozen dataclasses so a dataset can record exactly how it was encoded and
``train`` / ``generate`` never need them repeated.

``base``: the protocol, ``Encoded`` / ``Decoded``, token splitting; ``kern/``: **kern as
characters; ``notewise`` / ``chordwise``: Clara's MIDI words, sharing ``instruments`` (the
prefix table), ``grid`` (a piece on the time grid) and ``midi`` (file reading, primes, prompts).
Imports only ``cadenza`` (CadenzaError), ``cadenza.files`` and ``cadenza.music``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from cadenza.codecs.base import (
    CAPABILITIES,
    Codec,
    Declares,
    Decoded,
    Encoded,
    InfillParts,
    LengthGoal,
    PhraseGrid,
    join_tokens,
    split_tokens,
)

__all__ = ["CAPABILITIES", "Codec", "Declares", "Decoded", "Encoded", "InfillParts", "LengthGoal", "PhraseGrid", "available", "codec_of", "get_codec", "join_tokens",
           "options_dict", "register", "split_tokens"]


_REGISTRY: dict[str, type] = {}


def register(cls: type) -> type:
    """Class decorator: make a codec available by its ``name``."""
    _REGISTRY[cls.name] = cls
    return cls


def available() -> list[str]:
    _load_builtin()
    return sorted(_REGISTRY)


def get_codec(name: str, options: dict[str, Any] | None = None) -> Codec:
    """Build the codec ``name`` with ``options`` (a dict, e.g. from a dataset manifest)."""
    _load_builtin()
    if name not in _REGISTRY:
        from cadenza import CadenzaError

        raise CadenzaError(f"unknown codec {name!r}; choose one of: {', '.join(sorted(_REGISTRY))}")
    cls = _REGISTRY[name]
    return cls(cls.Options(**(options or {})))


def codec_of(config: dict[str, Any]) -> Codec:
    """The codec a run's ``config.json`` (or a dataset's manifest-shaped dict) was made with."""
    return get_codec(config["codec"], config.get("codec_options") or {})


def options_dict(codec: Codec) -> dict[str, Any]:
    """A codec's options as a manifest records them. A switch added later is recorded only when
    on (``chords``), so a dataset made without it reads, and hashes, as before."""
    out = dataclasses.asdict(codec.options)  # type: ignore[attr-defined]
    return {k: v for k, v in out.items() if not (k in _RECORDED_WHEN_ON and v is False)}


_RECORDED_WHEN_ON = frozenset({"chords"})


def _load_builtin() -> None:
    # Imported lazily so `cadenza --help` stays fast and a codec's heavy deps load only on use.
    import importlib

    for mod in ("kern", "notewise", "chordwise"):
        try:
            importlib.import_module(f"cadenza.codecs.{mod}")
        except ModuleNotFoundError as exc:  # a codec module not written yet
            if exc.name != f"cadenza.codecs.{mod}":
                raise
