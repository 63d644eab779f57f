"""Codecs turn a music file into the text a language model reads, and that text back into music.

One protocol, many implementations, registered by name (``kern``, ``notewise``, ``chordwise``).
Options are small frozen dataclasses so a dataset can record exactly how it was encoded and
``train`` / ``generate`` never need them repeated.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable


@dataclass(frozen=True)
class Encoded:
    """One piece as codec text, plus what the codec learned about it on the way (header, counts)."""

    name: str
    text: str
    info: dict[str, Any] = field(default_factory=dict)


@dataclass
class Decoded:
    """Codec text turned back into music: ``files`` written by :meth:`Codec.export`, ``stats`` for
    the summary table (e.g. lines repaired, tokens dropped, whether music21 parsed it)."""

    text: str
    stats: dict[str, Any] = field(default_factory=dict)
    payload: Any = None  # codec-specific: repaired kern string, or a music.Piece


@runtime_checkable
class Codec(Protocol):
    """What every encoding provides.

    ``unit`` says how text splits into model tokens: ``"char"`` (kern, as char-rnn) or ``"word"``
    (whitespace-separated tokens, as Clara's notewise/chordwise).
    """

    name: ClassVar[str]
    unit: ClassVar[str]
    suffixes: ClassVar[tuple[str, ...]]

    def encode(self, path: Path) -> list[Encoded]: ...

    def transpose(self, piece: Encoded, semitones: int) -> Encoded: ...

    def decode(self, text: str, context: dict[str, Any]) -> Decoded: ...

    def export(self, decoded: Decoded, stem: Path, formats: tuple[str, ...]) -> dict[str, Path]: ...

    # What callers would otherwise branch on a codec's name for:
    bar_token: ClassVar[str | None]  # the token that opens a bar line ("@" for kern), None: bars are grid time
    sample_formats: ClassVar[tuple[str, ...]]  # the files a generated sample is written as by default

    def default_prime(self, vocab: list[str]) -> str:
        """The text generation starts from when the user gives none."""
        ...

    def generation_context(self, train: list[dict[str, Any]], layout: Any) -> dict[str, Any]:
        """What decoding generated text needs and the text lacks, from the training pieces'
        manifest rows (kern: the preamble; MIDI codecs: tempo and metre)."""
        ...

    def piece_tempo(self, info: dict[str, Any]) -> float | None:
        """The tempo (quarters a minute) a piece's encoding info records, if any."""
        ...

    def constraint(self, vocab: list[str], context: dict[str, Any], n: int, prefix: str) -> Any | None:
        """A decoding constraint for ``n`` samples continuing ``prefix`` (kern: the validity
        checker), or None when every token sequence decodes."""
        ...


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


def options_dict(codec: Codec) -> dict[str, Any]:
    return dataclasses.asdict(codec.options)  # type: ignore[attr-defined]


def split_tokens(text: str, unit: str) -> list[str]:
    return list(text) if unit == "char" else text.split()


def join_tokens(tokens: list[str], unit: str) -> str:
    return "".join(tokens) if unit == "char" else " ".join(tokens)


def _load_builtin() -> None:
    # Imported lazily so `cadenza --help` stays fast and a codec's heavy deps load only on use.
    import importlib

    for mod in ("kern", "notewise", "chordwise"):
        try:
            importlib.import_module(f"cadenza.codecs.{mod}")
        except ModuleNotFoundError as exc:  # a codec module not written yet
            if exc.name != f"cadenza.codecs.{mod}":
                raise
