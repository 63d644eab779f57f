"""One reader for every music file Cadenza takes in: MIDI fast, notation through music21.

Files are read here, with limits, and only their text handed to music21: its own file reader
keeps pickled parses in a shared temporary folder and loads them back later, so a pickle planted
there would run as code; and a compressed ``.mxl`` would be inflated whole, however large (a zip
bomb). Text goes to ``converter.parseData``, which neither reads nor writes that cache.
"""

from __future__ import annotations

import re

import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

from cadenza import CadenzaError
from cadenza.files import one_line, read_text
from cadenza.music.humdrum.segments import segment_names, segments
from cadenza.music.m21 import parse_text, score_to_piece
from cadenza.music.midi_files import read_midi
from cadenza.music.piece import Piece

PIECE_SUFFIXES = (".mid", ".midi", ".mxl", ".musicxml", ".xml", ".krn")
# files that may hold many pieces (an ABC tune book: the Essen and O'Neill collections), read by
# :func:`read_pieces` for corpora; a prompt is one piece, so the web and ``--prompt`` take PIECE_SUFFIXES
COLLECTION_SUFFIXES = (".abc",)
MAX_NOTATION_BYTES = 64 << 20  # a notation file (or an .mxl's score, inflated) larger is refused
_FORMATS = {".abc": ("abc", "ABC"), ".krn": ("humdrum", "kern"), ".musicxml": ("musicxml", "MusicXML"), ".xml": ("musicxml", "MusicXML"), ".mxl": ("musicxml", "MusicXML")}


def read_piece_file(path: Path) -> Piece:
    """Any music file Cadenza reads as a :class:`~cadenza.music.piece.Piece`: MIDI through symusic
    (fast), notation (kern, MusicXML) through music21. One-line :class:`CadenzaError` otherwise."""
    path = Path(path)
    if not path.is_file():
        raise CadenzaError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix in (".mid", ".midi"):
        return read_midi(path)
    if suffix not in PIECE_SUFFIXES:
        raise CadenzaError(f"{path}: not one of {', '.join(PIECE_SUFFIXES)}")
    text = read_notation(path)
    if suffix == ".krn":
        parts = segments(text)
        if len(parts) > 1:
            raise CadenzaError(f"{path}: holds {len(parts)} pieces (Humdrum segments from lines {', '.join(str(p.line) for p in parts[:5])}); give one piece (prepare reads each as its own)")
    return _parse(text, _FORMATS[suffix][0], path.stem, path)


def _parse(text: str, fmt: str, name: str, where: object) -> Piece:
    try:
        return score_to_piece(parse_text(text, fmt), name)
    except Exception as exc:  # music21 raises many kinds
        first = str(exc).splitlines()[0][:120] if str(exc) else ""
        raise CadenzaError(f"{where}: music21 could not read it ({type(exc).__name__}: {first})") from None


def read_pieces(path: Path) -> list[Piece]:
    """Every piece in a music file: one for MIDI and MusicXML (:func:`read_piece_file`), each
    segment of a kern file (:mod:`.humdrum`: pieces one after another, named by their
    ``!!!!SEGMENT`` records or ``<file>-<k>``), each tune of an ABC tune book (named
    ``<file>-<X number>``, or by position). One-line errors; a tune book in which music21 can read
    no tune is an error, single bad tunes are left out; a kern segment music21 cannot read is an
    error naming the line it starts at."""
    path = Path(path)
    if path.suffix.lower() == ".krn" and path.is_file():
        text = read_notation(path)
        parts = segments(text)
        if len(parts) == 1:
            return [_parse(text, "humdrum", path.stem, path)]
        return [_parse(p.text, "humdrum", name, f"{path} (piece {name} from line {p.line})") for p, name in zip(parts, segment_names(path.stem, parts))]
    if path.suffix.lower() not in COLLECTION_SUFFIXES:
        return [read_piece_file(path)]
    if not path.is_file():
        raise CadenzaError(f"{path}: no such file")
    text = read_notation(path)
    if not re.search(r"^K:", text, re.MULTILINE):  # any text parses as ABC notes; a tune has a key field
        raise CadenzaError(f"{path}: not ABC notation (no K: key field, which every tune has)")
    try:
        parsed = parse_text(text, "abc")
    except Exception as exc:  # music21 raises many kinds
        raise CadenzaError(f"{path}: music21 could not read it ({type(exc).__name__}: {one_line(exc)[:120]})") from None
    scores = list(parsed.scores) if hasattr(parsed, "scores") else [parsed]
    pieces = []
    for i, score in enumerate(scores, 1):
        number = getattr(getattr(score, "metadata", None), "number", None)
        try:
            pieces.append(score_to_piece(score, f"{path.stem}-{number or i}"))
        except Exception:  # noqa: BLE001 - one unreadable tune of hundreds
            continue
    if not pieces:
        raise CadenzaError(f"{path}: no tune music21 can read")
    return pieces


def read_notation(path: Path) -> str:
    """A notation file's text: kern or MusicXML as it comes (UTF-8 or Latin-1), or the score
    inside a compressed ``.mxl``. Files over :data:`MAX_NOTATION_BYTES` are refused."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".mxl":
        return read_mxl(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise CadenzaError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if size > MAX_NOTATION_BYTES:
        raise CadenzaError(f"{path}: {size / 2**20:.0f} MB, more than a score should be ({MAX_NOTATION_BYTES >> 20} MB)")
    return read_text(path, _FORMATS.get(suffix, ("", "notation"))[1])


def read_mxl(path: Path) -> str:
    """The MusicXML text inside a compressed ``.mxl`` (its container's root file), inflated to at
    most :data:`MAX_NOTATION_BYTES`: the sizes an archive declares may lie, so the read stops there."""
    try:
        with zipfile.ZipFile(path) as z:
            listed = z.namelist()
            names = [n for n in listed if not n.startswith("META-INF/")]
            root = None
            if "META-INF/container.xml" in listed:
                container = ET.fromstring(_inflate(z, "META-INF/container.xml", path))
                found = container.find(".//{*}rootfile")
                root = found.get("full-path") if found is not None else None
            root = root or next((n for n in names if n.lower().endswith((".xml", ".musicxml"))), None)
            if root is None:
                raise CadenzaError(f"{path}: no MusicXML inside the .mxl archive")
            data = _inflate(z, root, path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, KeyError, ET.ParseError, OSError, EOFError, ValueError, NotImplementedError, RuntimeError) as exc:
        raise CadenzaError(f"{path}: not a readable .mxl archive ({one_line(exc)})") from None
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise CadenzaError(f"{path}: binary data inside the .mxl archive, not MusicXML")
    for enc in ("utf-8", "utf-16", "latin-1"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    raise CadenzaError(f"{path}: undecodable text inside the .mxl archive")  # pragma: no cover - latin-1 decodes anything


def _inflate(z: zipfile.ZipFile, name: str, path: Path) -> bytes:
    with z.open(name) as fh:
        data = fh.read(MAX_NOTATION_BYTES + 1)
    if len(data) > MAX_NOTATION_BYTES:
        raise CadenzaError(f"{path}: {name} inflates to more than {MAX_NOTATION_BYTES >> 20} MB (a zip bomb?)")
    return data
