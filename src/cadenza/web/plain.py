"""Library messages in the page's words. Cadenza's errors are written for the command line
(``--bars '8-5': ...``, ``use --no-constrained``) and wrap what a parser said (``corrupt MIDI
(MiniMidi: Invaild midi file ...: iostream error)``); a musician at the page has neither flags
nor a use for a parser's text. :func:`plain` turns one such message into one line that names
the page's fields and says what is wrong with the file, and nothing else.
"""

from __future__ import annotations

import re
from pathlib import Path

# the page's name for each command-line flag it has a field for
FIELDS = {"bars": "bars", "metre": "metre", "key": "key", "temperature": "temperature", "top-p": "top-p", "seed": "seed", "form": "form",
          "phrase-bars": "phrase bars", "prompt-bars": "prompt bars", "model": "model", "n": "variations", "prompt": "the uploaded file",
          "metre/--key": "metre and key", "composer": "composer", "style": "style", "instrument": "instrument", "chords": "chords",
          "composer/--style": "composer, style"}
KINDS = {".mid": "MIDI", ".midi": "MIDI", ".krn": "kern", ".musicxml": "MusicXML", ".xml": "MusicXML", ".mxl": "MusicXML"}

_FLAG = re.compile(r"--([a-z][a-z-]*(?:/--[a-z][a-z-]*)?)(?: '([^']*)')?")
_CLAUSE = re.compile(r"\s*\([^()]*\)|\s*;[^;()]*")  # a parenthesis, or a clause after a semicolon
_LINE = re.compile(r"line (\d+)")


def plain(message: str | BaseException, names: dict[str, str] | None = None, fields: dict[str, str] | None = None, limit: int | None = 300) -> str:
    """``message`` (an exception or its text, or any text written for the command line, such as
    a bundled model's description) for the page: ``names`` maps server paths to the names the
    user gave (``{"/tmp/x/prompt.mid": "song.mid"}``); ``fields`` overrides :data:`FIELDS` where
    a flag means another field here (infill's ``--bars`` is "bars to rewrite"); at most ``limit``
    characters (None: all)."""
    text = " ".join(str(message).split()) or type(message).__name__
    for path, shown in (names or {}).items():
        text = text.replace(str(path), shown)
    text = _unwrap_parsers(text)
    known = {**FIELDS, **(fields or {})}

    def cli_only(clause: str) -> bool:  # advice about flags or commands the page does not have
        return "`" in clause or any(f not in known for f, _ in _FLAG.findall(clause))

    text = _CLAUSE.sub(lambda m: "" if cli_only(m.group(0)) else m.group(0), text)

    def field(m: re.Match) -> str:
        name = known.get(m.group(1), m.group(1).replace("-", " "))
        return f"{name} {m.group(2)}" if m.group(2) is not None else name

    return _FLAG.sub(field, text).strip().rstrip(";,")[:limit]


def _unwrap_parsers(text: str) -> str:
    """What a MIDI or music21 parser said about a damaged file, as what it means for the user."""
    m = re.match(r"(.*?): corrupt MIDI \(", text)
    if m:
        return f"{m.group(1)}: this MIDI file cannot be read (it is damaged or cut short)"
    m = re.match(r"(.*?): music21 could not read it \((.*)", text)
    if m:
        kind = KINDS.get(Path(m.group(1)).suffix.lower(), "music")
        line = _LINE.search(m.group(2))
        return f"{m.group(1)}: this {kind} file cannot be read{f' (the trouble is near line {line.group(1)})' if line else ''}"
    return text.replace("verovio cannot read it", "the score cannot be engraved from it")
