"""Humdrum files that hold several pieces one after another: segments.

A Humdrum stream may concatenate pieces: each segment opens with its exclusive interpretations
(``**kern`` ...) and closes when every spine has ended (a line of ``*-`` only). humlib reads
such a stream segment by segment (``HumdrumFileStream``, named by ``!!!!SEGMENT:`` records), and
music21 reads it as an ``Opus`` of scores (``spineParser.determineIfDataStreamIsOpus``, the rule
followed here): comments between two segments belong to the one that follows, anything after the
last end to the last. Cadenza reads each segment as a piece of its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_START = re.compile(r"\*\*[^\t]+(\t\*\*[^\t]+)*")
_END = re.compile(r"\*-(\t\*-)*")
_NAME = re.compile(r"!!!!SEGMENT\s*:\s*(.+)")


@dataclass(frozen=True)
class Segment:
    text: str
    line: int  # the file's line number (from 1) of the segment's first line
    name: str  # from its ``!!!!SEGMENT:`` record, else ""


def segments(text: str) -> list[Segment]:
    """The pieces of a Humdrum text; one segment (the whole text) unless it opens more than one
    set of spines, each after the previous one's end."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    starts, ends = [], []
    for i, line in enumerate(lines):
        line = line.rstrip(" \t")
        if _END.fullmatch(line):
            ends.append(i)
        elif _START.fullmatch(line):
            starts.append(i)
    # an end with a start after it closes a segment; comments before a start go with it
    last = max(starts, default=-1)
    cuts = [e + 1 for e in ends if e < last]
    if not cuts:
        return [Segment(text, 1, _name(lines))]
    bounds = [0, *cuts, len(lines)]
    out: list[Segment] = []
    first = 0  # where the lines not yet in a segment begin
    for b in bounds[1:]:
        part = lines[first:b]
        if any(_START.fullmatch(x.rstrip(" \t")) for x in part) or b == len(lines):
            out.append(Segment("\n".join(part) + "\n", first + 1, _name(part)))
            first = b
    return out


def _name(lines: list[str]) -> str:
    for x in lines:
        m = _NAME.fullmatch(x.strip())
        if m:
            return Path(m.group(1).strip()).stem
    return ""


def segment_names(stem: str, parts: list[Segment]) -> list[str]:
    """A name per segment: the file's ``stem`` for a single piece; for several, each one's
    ``!!!!SEGMENT`` name where every segment has a distinct one, else ``<stem>-<k>``."""
    if len(parts) == 1:
        return [stem]
    named = [p.name for p in parts]
    if all(named) and len(set(named)) == len(named):
        return named
    return [f"{stem}-{k}" for k in range(1, len(parts) + 1)]
