"""Kern files -> the text the model reads, as in the 2015 char-rnn experiment, plus its header.

* the piece opens with its clefs, key signature, key and metre as interpretation lines
  (:meth:`Header.opening`, cleaning version :data:`CLEANING` 2), so the model is told the metre
  and key it writes in (the 2015 text dropped them, and samples wandered between metres);
* ``!`` comment / reference lines are dropped, and the rest of what comes before the first barline;
* every barline line becomes a single ``@`` (no measure numbers);
* only ``**kern`` spines are kept (``**dynam``, ``**text`` ... are removed, following spine
  splits and merges so the right columns go), lines left empty by that are dropped;
* inside the music, interpretations that change how notes read are kept (clef, key signature,
  key, metre, tempo, spine split/merge/exchange); the rest (staff numbers, section labels,
  instrument names) are dropped;
* a chord's notes each carry their duration: some encodings (the Joplin rags) write it on the
  first note only (``4.a f#``), which the reader would take for grace notes and the model for a
  spelling of its own; :func:`fill_chord_durations` writes ``4.a 4.f#``, as every other source does;
* a chord's notes are written low to high with its beam on the top note (:func:`chord_order`):
  a chord is a set of notes, but editions spell it in either order (Joplin, the quartets and the
  WTC high to low, the sonatas low to high), and a model that read one order reads the other at
  far more bits (kern-base read the held-out Joplin rags at 2.38 bits/char as written, 1.38 sorted).

The dataset's *layout* is its number of ``**kern`` spines (2 for piano: left hand, right hand,
low staff first as Humdrum writes them; 4 for quartets and chorales). Files with another count
are skipped with that reason, so every line of the training text has the same meaning.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from cadenza import CadenzaError
from cadenza import files
from cadenza.codecs.kern.header import KEEP_INTERP, Header, default_header
from cadenza.music.humdrum.interpretations import CLEF, KEY, KEYSIG, METER, TEMPO
from cadenza.music.humdrum.spines import BAR, NULL, is_manipulator_line, read_note
from cadenza.music.humdrum.structure import walk

# Manipulators a cleaned text keeps (``*+`` is refused by the reader).
KEPT_MANIPS = frozenset({"*^", "*v", "*x", "*-"})
_DURATION = re.compile(r"\d+(?:%\d+)?\.*")
_PITCH_OR_REST = re.compile(r"[a-gA-Gr]")
_BEAM = re.compile(r"[LJKk]+")
_HEADER_PARTS = ((CLEF, "clef"), (KEYSIG, "keysig"), (KEY, "key"), (METER, "meter"), (TEMPO, "tempo"))


@dataclass(frozen=True)
class KernOptions:
    """How kern text is prepared. ``spines`` = number of ``**kern`` spines per dataset (0: pick
    the most common in the corpus); ``layouts`` = ``"one"`` (the dataset keeps that count) or
    ``"all"`` (every piece keeps its own staves: its header tells the model the layout)."""

    spines: int = 0
    layouts: str = "one"
    chords: bool = False  # each bar's chord line after its barline (prepare --condition chords, see .harm)


def read_text(path: Path) -> str:
    """Kern files in the wild are UTF-8 or Latin-1 (the CCARH quartets)."""
    return files.read_text(path, "kern text")


def fill_chord_durations(token: str) -> str:
    """``4.a f#`` -> ``4.a 4.f#``: each chord note without a duration of its own takes the first
    note's (grace notes, ``q``, keep none). A token whose first note has none is left as it is."""
    subs = token.split(" ")
    first = _DURATION.search(subs[0])
    if first is None or "q" in subs[0] or "Q" in subs[0]:
        return token
    for i, sub in enumerate(subs[1:], 1):
        if any(c.isdigit() for c in sub) or "q" in sub or "Q" in sub:
            continue
        at = _PITCH_OR_REST.search(sub)
        if at is not None:
            subs[i] = sub[: at.start()] + first.group() + sub[at.start():]
    return " ".join(subs)


def chord_order(token: str) -> str:
    """``8e-J 8A 8F`` -> ``8F 8A 8e-J``: a chord's notes from the lowest up (equal pitches keep
    their order), the beam signifiers (``L J K k``) of the chord on its top note. A chord with a
    rest, a grace note or a note without a pitch or duration is left as it is."""
    subs = token.split(" ")
    pitches = [read_note(sub)[1] for sub in subs]
    if None in pitches:
        return token
    order = sorted(range(len(subs)), key=pitches.__getitem__)
    notes = [subs[i] for i in order]
    beams = "".join(m for n in notes[:-1] for m in _BEAM.findall(n))
    if beams:
        notes = [_BEAM.sub("", n) for n in notes[:-1]] + [notes[-1] + beams]
    return " ".join(notes)


def clean(text: str, where: str = "<text>") -> tuple[str, Header]:
    """Kern file text -> (model text, header). Raises :class:`CadenzaError` on malformed kern."""
    nk: int | None = None  # **kern spines at the start
    header_fields: dict[str, list[str]] = {}
    header_manips: list[str] = []
    tempo = None
    body: list[str] = []
    started = False
    n_data = 0
    for line in walk(text, where):
        fields = line.tokens
        loc = f"{where}:{line.number}"
        if nk is None:
            nk = fields.count("**kern")
            if not nk:
                raise CadenzaError(f"{where}: no **kern spine (spines: {' '.join(fields)})")
            continue
        kept = [f for f, k in zip(fields, line.spines) if k == "**kern"]
        first = fields[0]
        if first.startswith("*"):
            is_manip = is_manipulator_line(fields)
            if not started:
                for f in kept:
                    for pat, key in _HEADER_PARTS:
                        if pat.match(f):
                            header_fields.setdefault(key, []).append(f)
                    if f.startswith("*met("):
                        header_fields.setdefault("met", []).append(f)
                for f in fields:
                    if TEMPO.match(f):
                        tempo = f
                if is_manip and any(f in KEPT_MANIPS for f in kept):
                    header_manips.append("\t".join(f if f in KEPT_MANIPS else "*" for f in kept))
            else:
                out = [f if (f in KEPT_MANIPS or KEEP_INTERP.match(f)) else "*" for f in kept]
                if any(f != "*" for f in out):
                    body.append("\t".join(out))
            if is_manip and "**kern" not in line.after:
                raise CadenzaError(f"{loc}: all **kern spines ended before the end of the piece")
            continue
        if first.startswith("=") or any(f.startswith("=") for f in kept):
            # only the **kern columns must agree (a typo in a dynamics column is harmless)
            if not all(f.startswith("=") for f in kept):
                raise CadenzaError(f"{loc}: barline not in every **kern spine")
            if not started:
                started = True
                body.extend(header_manips)
            if body and body[-1] == BAR and n_data == 0:
                continue
            body.append(BAR)
            continue
        # a data line
        if not started:
            # music before the first barline (a pickup with no opening barline): start here
            started = True
            body.extend(header_manips)
            body.append(BAR)
        if all(f == NULL for f in kept):
            continue
        n_data += 1
        body.append("\t".join(chord_order(fill_chord_durations(f)) if " " in f else f for f in kept))
    if nk is None:
        raise CadenzaError(f"{where}: no **kern data found")
    if n_data == 0:
        raise CadenzaError(f"{where}: no notes in the **kern spines")
    if any(BAR in b and b != BAR for b in body):
        raise CadenzaError(f"{where}: contains '@', which the cleaned text reserves for barlines")

    def pick(key: str, default: list[str]) -> list[str]:
        got = header_fields.get(key, [])
        return got[:nk] if len(got) >= nk else default

    clefs = pick("clef", default_header(nk).clefs)
    keysig = pick("keysig", ["*k[]"] * nk)
    key = header_fields.get("key", [None])[0]
    meter = header_fields.get("meter", [None])[0]
    met = header_fields.get("met", [None])[0]
    header = Header(nk, clefs, keysig, key, meter, met, tempo)
    return "\n".join(header.opening() + body) + "\n", header
