"""Humdrum **kern as characters: the 2015 char-rnn experiment, made to give valid files.

Cleaning (what the model reads), as in the experiment:

* ``!`` comment / reference lines are dropped, and everything before the first barline;
* every barline line becomes a single ``@`` (no measure numbers);
* only ``**kern`` spines are kept (``**dynam``, ``**text`` ... are removed, following spine
  splits and merges so the right columns go), lines left empty by that are dropped;
* inside the music, interpretations that change how notes read are kept (clef, key signature,
  key, metre, tempo, spine split/merge/exchange); the rest (staff numbers, section labels,
  instrument names) are dropped.

The dataset's *layout* is its number of ``**kern`` spines (2 for piano: left hand, right hand,
low staff first as Humdrum writes them; 4 for quartets and chorales). Files with another count
are skipped with that reason, so every line of the training text has the same meaning.

Restoring (:func:`restore`) turns model text back into a file music21 and verovio read: a
preamble (spines, clefs, key, metre, tempo), measure numbers, repaired or dropped broken lines,
spines closed with ``==`` and ``*-``.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cadenza import CadenzaError
from cadenza.codecs import register  # noqa: F401

BAR = "@"

# Interpretations worth keeping inside the music: they change how the following notes read.
_KEEP_INTERP = re.compile(
    r"^\*(clef[A-Gv]?[v^]?\d*|k\[[a-g#\-n]*\]|[A-Ga-g][#\-]?:|M\d+/\d+(%\d+)?|met\([^)]*\)|MM\d+(\.\d+)?)$"
)
_MANIP = {"*^", "*v", "*x", "*-"}
_CLEF = re.compile(r"^\*clef")
_KEYSIG = re.compile(r"^\*k\[")
_KEY = re.compile(r"^\*[A-Ga-g][#\-]?:$")
_METER = re.compile(r"^\*M\d+/\d+")
_TEMPO = re.compile(r"^\*MM\d+")

# A kern data sub-token music21 reads: optional opening marks, a duration (grace notes may omit
# it), a pitch or rest, then articulation / beam / tie / slur signifiers.
# A kern data sub-token music21 reads. Real files order signifiers freely (``gq8``, ``8.cc#L``,
# ``&(8E/J&)``, rests with a display position ``4rGG``), so the check is on content: only kern
# characters, one pitch (a run of one letter) or a rest, at most one duration with dots right
# after it.
_KERN_CHARS = set("0123456789.%abcdefgABCDEFGr#-nij&()[]{}<>_;:'\"`~^vVuUTtMmWwSsOoRXxyYQqPpLJKkNZz/\\|,!+*$")
_PITCH_RUN = re.compile(r"[a-gA-G]+")
_DUR = re.compile(r"\d+(?:%\d+)?\.*")
_STRAY_DOT = re.compile(r"(?<![\d.])\.")
_NULL = "."


@dataclass(frozen=True)
class KernOptions:
    """How kern text is prepared. ``spines`` = number of ``**kern`` spines per dataset (0: pick
    the most common in the corpus)."""

    spines: int = 0


@dataclass
class Header:
    """What the cleaned text leaves out and a file needs back: per-spine clef, key, metre, tempo."""

    spines: int
    clefs: list[str]
    keysig: list[str]
    key: str | None
    meter: str | None
    met: str | None
    tempo: str | None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Header":
        return cls(**d)

    def lines(self) -> list[str]:
        n = self.spines
        out = ["\t".join(["**kern"] * n)]
        out.append("\t".join(self.clefs))
        out.append("\t".join(self.keysig))
        if self.key:
            out.append("\t".join([self.key] * n))
        if self.meter:
            out.append("\t".join([self.meter] * n))
        if self.met:
            out.append("\t".join([self.met] * n))
        if self.tempo:
            out.append("\t".join([self.tempo] * n))
        return out


def default_header(spines: int) -> Header:
    clefs = ["*clefF4"] * (spines // 2) + ["*clefG2"] * (spines - spines // 2) if spines > 1 else ["*clefG2"]
    return Header(spines, clefs, ["*k[]"] * spines, "*C:", "*M4/4", None, "*MM100")


# --------------------------------------------------------------------------------------------
# Reading real files


def read_text(path: Path) -> str:
    """Kern files in the wild are UTF-8 or Latin-1 (the CCARH quartets)."""
    data = path.read_bytes()
    if not data.strip():
        raise CadenzaError(f"{path}: empty file")
    if b"\x00" in data[:4096]:
        raise CadenzaError(f"{path}: binary data, not a kern text file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


class _SpineTracker:
    """Follows spine paths (split ``*^``, merge ``*v``, exchange ``*x``, end ``*-``) so each column
    of each line is known to belong to a ``**kern`` spine or not."""

    def __init__(self, kinds: list[str]):
        self.kinds = kinds  # one entry per active column, e.g. "**kern" / "**dynam"

    def apply(self, fields: list[str], where: str) -> None:
        if len(fields) != len(self.kinds):
            raise CadenzaError(f"{where}: {len(fields)} columns where {len(self.kinds)} spines are active")
        out: list[str] = []
        i = 0
        while i < len(fields):
            f = fields[i]
            if f == "*^":
                out += [self.kinds[i], self.kinds[i]]
                i += 1
            elif f == "*v":
                j = i
                while j < len(fields) and fields[j] == "*v":
                    j += 1
                out.append(self.kinds[i])
                i = j
            elif f == "*x":
                if i + 1 < len(fields) and fields[i + 1] == "*x":
                    out += [self.kinds[i + 1], self.kinds[i]]
                    i += 2
                else:
                    raise CadenzaError(f"{where}: unpaired spine exchange *x")
            elif f == "*-":
                i += 1
            elif f == "*+":
                raise CadenzaError(f"{where}: spine addition *+ is not supported")
            else:
                out.append(self.kinds[i])
                i += 1
        self.kinds = out


def _is_manip_line(fields: list[str]) -> bool:
    return any(f in _MANIP or f == "*+" for f in fields)


def clean(text: str, where: str = "<text>") -> tuple[str, Header]:
    """Kern file text -> (model text, header). Raises :class:`CadenzaError` on malformed kern."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    tracker: _SpineTracker | None = None
    header_fields: dict[str, list[str]] = {}
    header_manips: list[str] = []
    tempo = None
    body: list[str] = []
    started = False
    ended = False
    n_data = 0
    for lineno, raw in enumerate(lines, 1):
        line = raw.rstrip("\n")
        loc = f"{where}:{lineno}"
        if not line.strip() or line.startswith("!"):
            continue
        fields = line.split("\t")
        if tracker is None:
            if not fields[0].startswith("**"):
                raise CadenzaError(f"{loc}: no exclusive interpretation (**kern) before the music")
            tracker = _SpineTracker(fields)
            if "**kern" not in fields:
                raise CadenzaError(f"{where}: no **kern spine (spines: {' '.join(fields)})")
            continue
        if ended:
            if any(f and not f.startswith("!") for f in fields):
                raise CadenzaError(f"{loc}: music after all spines ended")
            continue
        if len(fields) != len(tracker.kinds):
            raise CadenzaError(f"{loc}: {len(fields)} columns where {len(tracker.kinds)} spines are active")
        keep = [k == "**kern" for k in tracker.kinds]
        kept = [f for f, k in zip(fields, keep) if k]
        first = fields[0]
        if first.startswith("*"):
            if all(f == "*-" for f in fields):
                ended = True
                continue
            is_manip = _is_manip_line(fields)
            if not started:
                for f in kept:
                    for pat, key in ((_CLEF, "clef"), (_KEYSIG, "keysig"), (_KEY, "key"), (_METER, "meter"), (_TEMPO, "tempo")):
                        if pat.match(f):
                            header_fields.setdefault(key, []).append(f)
                    if f.startswith("*met("):
                        header_fields.setdefault("met", []).append(f)
                for f in fields:
                    if _TEMPO.match(f):
                        tempo = f
                if is_manip and any(f in _MANIP for f in kept):
                    header_manips.append("\t".join(f if f in _MANIP else "*" for f in kept))
            else:
                out = [f if (f in _MANIP or _KEEP_INTERP.match(f)) else "*" for f in kept]
                if any(f != "*" for f in out):
                    body.append("\t".join(out))
            if is_manip:
                tracker.apply(fields, loc)
                if "**kern" not in tracker.kinds:
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
        if all(f == _NULL for f in kept):
            continue
        n_data += 1
        body.append("\t".join(kept))
    if tracker is None:
        raise CadenzaError(f"{where}: no **kern data found")
    if n_data == 0:
        raise CadenzaError(f"{where}: no notes in the **kern spines")
    nk = sum(1 for k in _initial_kinds(lines) if k == "**kern")
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
    return "\n".join(body) + "\n", header


def _initial_kinds(lines: list[str]) -> list[str]:
    for line in lines:
        if line.startswith("**"):
            return line.rstrip("\r").split("\t")
    return []


# --------------------------------------------------------------------------------------------
# Restoring model text to a playable file


def _valid_subtoken(s: str, has_mate: bool) -> bool:
    if not s or not set(s) <= _KERN_CHARS or _STRAY_DOT.search(s):
        return False
    runs = _PITCH_RUN.findall(s)
    rest = "r" in s
    if len(runs) > 1 or (not runs and not rest) or any(len(set(r)) > 1 for r in runs):
        return False
    durs = _DUR.findall(s)
    if len(durs) > 1:
        return False
    if durs:
        num = int(durs[0].split("%")[0].rstrip("."))
        return num <= 256 and (num > 0 or "q" in s.lower() or durs[0].startswith("0"))
    return "q" in s or "Q" in s or has_mate  # grace note, or a chord member sharing the duration


def _fix_token(tok: str) -> str | None:
    """A repaired data token, or None if nothing musical is left. Chords keep valid notes only."""
    if tok == _NULL:
        return tok
    good: list[str] = []
    for s in tok.split(" "):
        if _valid_subtoken(s, bool(good)):
            good.append(s)
    return " ".join(good) if good else None


def restore(text: str, header: Header) -> tuple[str, dict[str, int]]:
    """Model text -> a kern file that parses: preamble, numbered bars, repaired lines, closed spines.

    Returns the file text and counts of what was repaired, so the summary can say how much the
    model got wrong.
    """
    n = header.spines
    out = header.lines()
    stats = Counter()
    bar = 0
    data_in_bar = 0
    for raw in text.split("\n"):
        line = raw.rstrip("\r")
        if not line.strip():
            continue
        if line.startswith(BAR) or line.startswith("="):
            if line.strip() not in (BAR,):
                stats["lines_repaired"] += 1
            if bar > 0 and data_in_bar == 0:
                continue  # an empty bar: skip the duplicate barline
            bar += 1
            label = f"={bar}" if not (bar == 1 and data_in_bar == 0) else "=1-"
            if bar == 1 and data_in_bar > 0:
                label = "=2"  # a pickup preceded the first barline
                bar = 2
            out.append("\t".join([label] * n))
            data_in_bar = 0
            continue
        if line.startswith("!"):
            stats["lines_dropped"] += 1
            continue
        fields = line.split("\t")
        if line.startswith("*"):
            if len(fields) != n or any(not f.startswith("*") for f in fields):
                stats["lines_dropped"] += 1
                continue
            new_n = _manip_result(fields)
            if new_n is None:
                stats["lines_dropped"] += 1
                continue
            fixed = [f if (f in _MANIP or _KEEP_INTERP.match(f)) else "*" for f in fields]
            if fixed != fields:
                stats["lines_repaired"] += 1
            if all(f == "*" for f in fixed):
                continue
            out.append("\t".join(fixed))
            n = new_n
            continue
        if len(fields) != n:
            stats["lines_repaired"] += 1
            fields = (fields + [_NULL] * n)[:n]
        fixed = [_fix_token(f) for f in fields]
        if any(f is None for f in fixed):
            stats["lines_repaired"] += 1
        fixed2 = [f if f is not None else _NULL for f in fixed]
        if all(f == _NULL for f in fixed2):
            stats["lines_dropped"] += 1
            continue
        out.append("\t".join(fixed2))
        data_in_bar += 1
    if out[-1].startswith("="):
        out[-1] = "\t".join(["=="] * n)
    else:
        out.append("\t".join(["=="] * n))
    out.append("\t".join(["*-"] * n))
    stats["bars"] = max(bar, 1)
    return "\n".join(out) + "\n", dict(stats)


def _manip_result(fields: list[str]) -> int | None:
    """Spine count after a manipulation line, or None if the line is not a valid manipulation.
    Spines may split and merge but not end mid-piece (that would orphan the spines after it)."""
    n = 0
    i = 0
    while i < len(fields):
        f = fields[i]
        if f == "*^":
            n += 2
            i += 1
        elif f == "*v":
            j = i
            while j < len(fields) and fields[j] == "*v":
                j += 1
            if j - i < 2:
                return None
            n += 1
            i = j
        elif f == "*x":
            if i + 1 >= len(fields) or fields[i + 1] != "*x":
                return None
            n += 2
            i += 2
        elif f in ("*-", "*+"):
            return None
        else:
            n += 1
            i += 1
    return n


# --------------------------------------------------------------------------------------------
# Transposition of kern text, spelled properly

_LETTERS = "cdefgab"
_NATURAL = [0, 2, 4, 5, 7, 9, 11]
_PITCH_RE = re.compile(r"(?<![A-Za-z])([a-g]+|[A-G]+)(#{1,3}|-{1,3}|n)?")
_KEYSIG_ORDER_SHARP = "fcgdaeb"
_KEYSIG_ORDER_FLAT = "beadgcf"
# candidate spellings of each semitone shift as (diatonic steps, fifths moved)
_SPELLINGS = {
    0: [(0, 0)], 1: [(1, -5), (0, 7)], 2: [(1, 2)], 3: [(2, -3), (1, 9)], 4: [(2, 4)],
    5: [(3, -1)], 6: [(3, 6), (4, -6)], 7: [(4, 1)], 8: [(5, -4), (4, 8)], 9: [(5, 3)],
    10: [(6, -2)], 11: [(6, 5), (7, -7)],
}


def _keysig_fifths(tok: str) -> int:
    inner = tok[tok.index("[") + 1 : tok.rindex("]")]
    return inner.count("#") - inner.count("-")


def _keysig_token(fifths: int) -> str:
    if fifths >= 0:
        return "*k[" + "".join(c + "#" for c in _KEYSIG_ORDER_SHARP[:fifths]) + "]"
    return "*k[" + "".join(c + "-" for c in _KEYSIG_ORDER_FLAT[:-fifths]) + "]"


def choose_interval(semitones: int, fifths: int) -> tuple[int, int]:
    """(diatonic steps, semitones) for a shift, spelled so the new key signature has the fewest
    accidentals (C major up a semitone is D-flat, not C-sharp)."""
    octaves, rem = divmod(semitones, 12)
    options = _SPELLINGS[rem]
    steps, df = min(options, key=lambda o: (abs(fifths + o[1]), o[1] < 0 and rem == 6))
    return steps + 7 * octaves, semitones


def _transpose_pitch(letters: str, acc: str | None, steps: int, semis: int) -> str:
    letter = letters[0].lower()
    upper = letters[0].isupper()
    # kern octave: c = C4, cc = C5; C = C3, CC = C2
    octave = 3 + len(letters) if not upper else 4 - len(letters)
    idx = _LETTERS.index(letter)
    alter = 0 if not acc or acc == "n" else (len(acc) if acc[0] == "#" else -len(acc))
    midi = 12 * (octave + 1) + _NATURAL[idx] + alter + semis
    diat = octave * 7 + idx + steps
    new_oct, new_idx = divmod(diat, 7)
    new_alter = midi - (12 * (new_oct + 1) + _NATURAL[new_idx])
    if abs(new_alter) > 2:
        raise ValueError("needs a triple accidental")
    new_letter = _LETTERS[new_idx]
    if new_oct >= 4:
        name = new_letter * (new_oct - 3)
    else:
        name = new_letter.upper() * (4 - new_oct)
    if new_alter > 0:
        name += "#" * new_alter
    elif new_alter < 0:
        name += "-" * (-new_alter)
    elif acc == "n":
        name += "n"
    return name


def _transpose_key(tok: str, steps: int, semis: int) -> str:
    m = re.match(r"^\*([A-Ga-g])([#\-]?):$", tok)
    if not m:
        return tok
    letter, acc = m.group(1), m.group(2)
    p = _transpose_pitch(letter.lower(), acc or None, steps, semis)
    base = p[0]
    rest = p.lstrip(p[0]).replace("n", "")
    return "*" + (base.upper() if letter.isupper() else base) + rest + ":"


def transpose_text(text: str, semitones: int, fifths: int) -> str:
    """Transpose cleaned kern text by ``semitones`` (pitches, key signatures and keys), spelled for
    the key signature with ``fifths`` sharps (negative: flats). Raises ValueError if a note would
    need a triple sharp or flat."""
    if semitones == 0:
        return text
    steps, semis = choose_interval(semitones, fifths)
    _, df = min(_SPELLINGS[semitones % 12], key=lambda o: (abs(fifths + o[1]), o[1] < 0 and semitones % 12 == 6))
    out_lines = []
    for line in text.split("\n"):
        if line == BAR or not line:
            out_lines.append(line)
            continue
        fields = line.split("\t")
        if line.startswith("*"):
            new = []
            for f in fields:
                if _KEYSIG.match(f):
                    nf = _keysig_fifths(f) + df
                    if abs(nf) > 7:
                        raise ValueError("key signature beyond 7 accidentals")
                    new.append(_keysig_token(nf))
                elif _KEY.match(f):
                    new.append(_transpose_key(f, steps, semis))
                else:
                    new.append(f)
            out_lines.append("\t".join(new))
            continue
        new = []
        for f in fields:
            subs = []
            for s in f.split(" "):
                if "r" in s and not re.search(r"[a-gA-G]", s):
                    subs.append(s)
                    continue
                subs.append(_PITCH_RE.sub(lambda m: _transpose_pitch(m.group(1), m.group(2), steps, semis), s, count=1))
            new.append(" ".join(subs))
        out_lines.append("\t".join(new))
    return "\n".join(out_lines)


# --------------------------------------------------------------------------------------------
