"""Finding a corpus's files: paths, folders searched recursively, and music21's own corpus."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from cadenza import CadenzaError


def find_sources(sources: Iterable[str | Path]) -> list[Path]:
    """Files, folders (recursive; every file is listed so non-music files are reported as skipped)
    and ``music21:NAME`` corpus collections, deduplicated, in a stable order."""
    out: list[Path] = []
    for src in sources:
        s = str(src)
        if s.startswith("music21:"):
            out += music21_collection(s.split(":", 1)[1])
            continue
        p = Path(s)
        if p.is_dir():
            out += sorted(f for f in p.rglob("*") if f.is_file() and not any(part.startswith(".") for part in f.relative_to(p).parts))
        elif p.is_file():
            out.append(p)
        else:
            raise CadenzaError(f"{p}: no such file or folder")
    seen: set[Path] = set()
    uniq = []
    for p in out:
        r = p.resolve()
        if r not in seen:
            seen.add(r)
            uniq.append(p)
    return uniq


def music21_collection(name: str) -> list[Path]:
    """``music21:palestrina`` -> the files of that composer/collection in music21's corpus."""
    from music21 import corpus

    paths = [Path(p) for p in corpus.getComposer(name)]
    if not paths:
        paths = [Path(p) for p in corpus.getPaths() if name.lower() in str(p).lower()]
    if not paths:
        raise CadenzaError(f"music21:{name}: no such collection in music21's corpus")
    return sorted(paths)
