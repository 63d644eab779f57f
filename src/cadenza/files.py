"""Small helpers every floor uses: one-line errors, atomic writes, reading text as it comes.

Floor 1: imports nothing from Cadenza but :class:`cadenza.CadenzaError`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Callable

from cadenza import CadenzaError


def one_line(exc: BaseException) -> str:
    """An exception as one short line (library messages often span several)."""
    return " ".join(str(exc).split())[:200] or type(exc).__name__


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write`` on a temporary name beside ``path``, then rename it into place, so a kill
    leaves either the old file or the new one, never half of one."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    write(tmp)
    os.chmod(tmp, 0o644)  # some writers create 0600 files; results are meant to be shared
    os.replace(tmp, path)


def write_json(path: Path, obj: Any) -> None:
    atomic_write(path, lambda p: p.write_text(json.dumps(obj, indent=1, ensure_ascii=False), encoding="utf-8"))


def read_text(path: Path, what: str = "text") -> str:
    """A text file as a string: UTF-8, or Latin-1 (older kern files, the CCARH quartets). Empty,
    unreadable and binary files are a one-line :class:`CadenzaError` naming the file."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CadenzaError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if not data.strip():
        raise CadenzaError(f"{path}: empty file")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 with its byte-order mark (music21's trecento MusicXML)
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise CadenzaError(f"{path}: broken UTF-16 text") from None
    if b"\x00" in data[:4096]:
        raise CadenzaError(f"{path}: binary data, not a {what} file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def dedupe_events(events: list[tuple]) -> list[tuple]:
    """Events ``(time, ...)`` sorted by time; of several at one moment the last wins (as a player
    hears), and a repeat of the value in force is dropped."""
    out: list[tuple] = []
    for e in sorted(events, key=lambda e: e[0]):
        if out and abs(out[-1][0] - e[0]) < 1e-9:
            out[-1] = e
        elif not out or out[-1][1:] != e[1:]:
            out.append(e)
    return out
