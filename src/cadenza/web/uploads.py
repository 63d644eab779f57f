"""Prompt files: size-limited while they arrive, then checked before any model sees them.

Every refusal is a :class:`WebError` with an HTTP status and one line a person can act on:
413 too large, 415 a type we do not read, 400 empty or not what its name says, 422 a file of
the right kind that does not hold music we can continue.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cadenza import CadenzaError
from cadenza.files import one_line
from cadenza.web.plain import KINDS, plain

SUFFIXES = {".mid": "midi", ".midi": "midi", ".krn": "kern", ".musicxml": "musicxml", ".xml": "musicxml", ".mxl": "musicxml"}
CHUNK = 1 << 16


class WebError(Exception):
    """An error the client caused (or the server's load): an HTTP status and one line."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = one_line(message) if isinstance(message, BaseException) else " ".join(str(message).split())


def _looks_right(kind: str, head: bytes) -> bool:
    """A first look at the opening bytes: the magic of a MIDI file or a zipped MusicXML, text
    for kern and MusicXML."""
    if kind == "midi":
        return head.startswith(b"MThd")
    if head.startswith(b"PK"):
        return kind == "musicxml"
    if b"\x00" in head:
        return False
    text = head.decode("latin-1").lstrip("\ufeff\xef\xbb\xbf \t\r\n")
    if kind == "kern":
        return "**" in text[:4096] or text.startswith("!")
    return text.startswith("<")


async def save_upload(upload: Any, folder: Path, limit: int) -> Path:
    """Copy ``upload`` (a Starlette UploadFile) to ``folder/prompt.<suffix>``, refusing it as it
    grows past ``limit`` bytes."""
    name = Path(upload.filename or "").name
    suffix = Path(name).suffix.lower()
    if suffix not in SUFFIXES:
        raise WebError(415, f"{name or 'the upload'}: not a file we read; send a .mid, .krn or .musicxml file")
    dest = folder / f"prompt{suffix}"
    size = 0
    head = b""
    with open(dest, "wb") as f:
        while chunk := await upload.read(CHUNK):
            size += len(chunk)
            if size > limit:
                raise WebError(413, f"{name}: larger than the {limit // (1 << 20)} MB limit")
            if len(head) < 4096:
                head += chunk[: 4096 - len(head)]
            f.write(chunk)
    if size == 0:
        raise WebError(400, f"{name}: the file is empty")
    if not _looks_right(SUFFIXES[suffix], head):
        raise WebError(400, f"{name}: not a {SUFFIXES[suffix]} file (its contents do not match its name)")
    return dest


def read_prompt_file(path: Path, shown: str) -> Any:
    """The prompt as a Piece, or a 422 naming the file as the user called it (``shown``).
    Parsers of three formats fail in many ways on bad input; each becomes one line."""
    from cadenza.generation import read_prompt

    try:
        piece = read_prompt(path)
    except CadenzaError as exc:
        raise WebError(422, plain(exc, {str(path): shown})) from None
    except Exception:  # noqa: BLE001 - third-party parsers raise anything on corrupt files; what they say is no help here
        raise WebError(422, f"{shown}: this {KINDS.get(path.suffix.lower(), 'music')} file cannot be read (it may be damaged)") from None
    if piece.end <= 0:
        raise WebError(422, f"{shown}: no notes to continue")
    return piece
