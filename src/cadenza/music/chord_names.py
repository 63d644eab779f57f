"""Chords and keys as values, and the text a musician writes for them: chord symbols (``"Am"``,
``"G7"``, ``"Bm7b5"``, ``"C/E"``) and Roman numerals in a key (``"V7"``, ``"viiø7"``, ``"bVII"``).

One :class:`Chord` travels from the reader (:mod:`cadenza.music.harmony`) to the CLI and files,
so a chord is parsed and named in this one place. Roman numerals follow music21's RomanText
conventions (Tymoczko, Gotham & Cuthbert, "The RomanText format", 2019), including its reading of
the minor key's sixth and seventh degrees: a lower-case ``vi``/``vii`` stands on the raised
degree (``viio`` in a minor is G#dim), an upper-case ``VI``/``VII`` on the natural one (F, G).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cadenza import CadenzaError

# quality -> (symbol suffix, intervals from the root, Roman numeral in upper case, numeral suffix)
QUALITIES: dict[str, tuple[str, tuple[int, ...], bool, str]] = {
    "major": ("", (0, 4, 7), True, ""),
    "minor": ("m", (0, 3, 7), False, ""),
    "diminished": ("dim", (0, 3, 6), False, "o"),
    "augmented": ("aug", (0, 4, 8), True, "+"),
    "dominant7": ("7", (0, 4, 7, 10), True, "7"),
    "minor7": ("m7", (0, 3, 7, 10), False, "7"),
    "major7": ("maj7", (0, 4, 7, 11), True, "maj7"),
    "half-diminished7": ("m7b5", (0, 3, 6, 10), False, "ø7"),
    "diminished7": ("dim7", (0, 3, 6, 9), False, "o7"),
    "sus4": ("sus4", (0, 5, 7), True, "sus4"),
    "sus2": ("sus2", (0, 2, 7), True, "sus2"),
}
_SUFFIXES = {v[0]: q for q, v in QUALITIES.items()} | {
    "maj": "major", "M": "major", "min": "minor", "o": "diminished", "°": "diminished", "+": "augmented",
    "dom7": "dominant7", "min7": "minor7", "M7": "major7", "ø": "half-diminished7", "ø7": "half-diminished7",
    "o7": "diminished7", "°7": "diminished7", "sus": "sus4",
}
# Harte et al. (ISMIR 2005) shorthands, as MIREX chord labels write them ("C:min7")
_HARTE = {"maj": "major", "min": "minor", "dim": "diminished", "aug": "augmented", "7": "dominant7", "min7": "minor7",
          "maj7": "major7", "hdim7": "half-diminished7", "dim7": "diminished7", "sus4": "sus4", "sus2": "sus2"}
_ACCEPTED = ", ".join(f"{q} ({v[0] or 'no suffix'})" for q, v in QUALITIES.items())

_NATURAL = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_SHARPS = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
_FLATS = ("C", "Db", "D", "Eb", "E", "F", "Gb", "G", "Ab", "A", "Bb", "B")
# without a key: the spelling whose own key signature is the smaller (Db major, C# minor),
# and sharps for diminished chords, which mostly lead up to the next degree (C#dim -> D)
_PLAIN = {True: ("C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"),
          False: ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "G#", "A", "Bb", "B")}
_DIMINISHED = frozenset({"diminished", "half-diminished7", "diminished7"})
_CIRCLE = ("Cb", "Gb", "Db", "Ab", "Eb", "Bb", "F", "C", "G", "D", "A", "E", "B", "F#", "C#", "G#", "D#", "A#")  # fifths -7..10


def pitch_class(text: str) -> int:
    """``"Bb"`` -> 10, ``"F#"`` -> 6 (``-`` also flattens, as in kern and music21)."""
    acc = text[1:].replace("-", "b")
    return (_NATURAL[text[0].upper()] + acc.count("#") - acc.count("b")) % 12


@dataclass(frozen=True)
class Key:
    """A key as a tonic pitch class and a mode; spelled by its signature (see :attr:`fifths`)."""

    tonic: int
    mode: str = "major"

    def __post_init__(self):
        if self.tonic not in range(12) or self.mode not in ("major", "minor"):
            raise CadenzaError(f"key ({self.tonic}, {self.mode!r}): give a tonic 0-11 and 'major' or 'minor'")

    @property
    def fifths(self) -> int:
        """Sharps (> 0) or flats (< 0) of its signature: F# major (6) but Eb minor (-6), the
        spellings a score mostly uses."""
        if self.mode == "major":
            f = self.tonic * 7 % 12
            return f - 12 if f > 6 else f
        f = (self.tonic + 3) * 7 % 12
        return f - 12 if f > 5 else f

    @property
    def name(self) -> str:
        """``"Bb"``, ``"f#"``: capital for major, lower case for minor, as ``--key`` takes them."""
        tonic = _CIRCLE[self.fifths + 7 + 3 * (self.mode == "minor")]
        return tonic if self.mode == "major" else tonic.lower()

    @classmethod
    def from_signature(cls, fifths: int, minor: int) -> "Key":
        """The key of a :class:`~cadenza.music.piece.Piece` key signature (fifths, minor)."""
        return cls((fifths * 7 - 3 * bool(minor)) % 12, "minor" if minor else "major")


def parse_key(text: str) -> Key:
    """``"C"``, ``"Bb"`` (major), ``"a"``, ``"f#"`` (minor), or with the mode written out
    (``"Eb major"``, ``"c minor"``, ``"G:min"``)."""
    m = re.fullmatch(r"([A-Ga-g])([#b\-]?)\s*:?\s*(major|minor|maj|min)?", (text or "").strip())
    if not m:
        raise CadenzaError(f"key {text!r}: give a key such as C, Bb (major) or a, f# (minor)")
    mode = {"maj": "major", "min": "minor"}.get(m.group(3) or "", m.group(3)) or ("major" if m.group(1).isupper() else "minor")
    return Key(pitch_class(m.group(1) + m.group(2)), mode)


def _scale_names(key: Key) -> dict[int, str]:
    """Pitch class -> letter name in ``key``: its signature's notes, and in minor the raised
    sixth and seventh too (G# in a minor)."""
    f = key.fifths
    sharp, flat = "FCGDAEB"[: max(f, 0)], "BEADGCF"[: max(-f, 0)]
    letters = "CDEFGAB"
    start = letters.index(key.name[0].upper())
    out = {}
    for step, letter in enumerate(letters[start:] + letters[:start]):
        acc = (letter in sharp) - (letter in flat)
        out[(_NATURAL[letter] + acc) % 12] = letter + {1: "#", -1: "b", 0: ""}[acc]
        if key.mode == "minor" and step in (5, 6) and acc < 1:
            out[(_NATURAL[letter] + acc + 1) % 12] = letter + {0: "#", -1: ""}[acc]
    return out


@dataclass(frozen=True)
class Chord:
    """A chord: root pitch class (0 = C; None for "N", no chord), quality (a key of
    :data:`QUALITIES`, or "N") and the bass pitch class where it is not the root (an inversion
    or a pedal); a bass equal to the root is stored as None, so ``C`` and ``C/C`` are one chord."""

    root: int | None
    quality: str = "major"
    bass: int | None = None

    def __post_init__(self):
        if self.root is None:
            if self.quality != "N" or self.bass is not None:
                raise CadenzaError(f"chord (None, {self.quality!r}, {self.bass}): no root means 'N', without a bass")
            return
        if self.root not in range(12) or self.quality not in QUALITIES or self.bass not in (None, *range(12)):
            raise CadenzaError(f"chord ({self.root}, {self.quality!r}, {self.bass}): give a root 0-11, a bass 0-11 or None, a quality of {', '.join(QUALITIES)}")
        if self.bass == self.root:
            object.__setattr__(self, "bass", None)

    @property
    def pitch_classes(self) -> tuple[int, ...]:
        """Its notes as pitch classes, root first (empty for N)."""
        return () if self.root is None else tuple((self.root + i) % 12 for i in QUALITIES[self.quality][1])

    @property
    def name(self) -> str:
        """The chord symbol, spelled without a key: ``"Bb"``, ``"C#m"``, ``"F#dim"``, ``"C/E"``."""
        return self.spelled(None)

    def spelled(self, key: Key | None) -> str:
        """The chord symbol spelled in ``key``: its own notes as the key writes them (``"A#dim"``
        in B major), other roots with flats in a flat key and as :attr:`name` otherwise."""
        if self.root is None:
            return "N"
        out = _spell(self.root, self.quality, key) + QUALITIES[self.quality][0]
        return out if self.bass is None else f"{out}/{_spell(self.bass, 'major', key)}"


def _spell(pc: int, quality: str, key: Key | None) -> str:
    if key is not None:
        if pc in (names := _scale_names(key)):
            return names[pc]
        if key.fifths < 0:
            return _FLATS[pc]
    return _SHARPS[pc] if quality in _DIMINISHED else _PLAIN[QUALITIES[quality][2]][pc]


NO_CHORD = Chord(None, "N")


def parse_chord(text: str) -> Chord:
    """A chord symbol as :attr:`Chord.name` writes it (``"Am"``, ``"Bm7b5"``, ``"Eb/G"``), the
    common variants (``"Cmaj"``, ``"CM7"``, ``"Bø7"``, ``"Bo7"``, ``"Csus"``), Harte's
    ``"C:min7"``, or ``"N"``."""
    s = (text or "").strip()
    if s == "N":
        return NO_CHORD
    m = re.fullmatch(r"([A-G][#b]?)(:?)([^/]*)(?:/([A-G][#b]?))?", s)
    quality = (_HARTE.get(m.group(3)) if m.group(2) else _SUFFIXES.get(m.group(3))) if m else None
    if quality is None:
        raise CadenzaError(f"chord {text!r}: not a chord symbol; give a root A-G (with # or b) and a quality: {_ACCEPTED}; or N")
    return Chord(pitch_class(m.group(1)), quality, pitch_class(m.group(4)) if m.group(4) else None)


_NUMERALS = ("I", "II", "III", "IV", "V", "VI", "VII")
_MAJOR_DEGREES = {0: "I", 1: "bII", 2: "II", 3: "bIII", 4: "III", 5: "IV", 6: "#IV", 7: "V", 8: "bVI", 9: "VI", 10: "bVII", 11: "VII"}
_MINOR_DEGREES = {0: "I", 1: "bII", 2: "II", 3: "III", 4: "#III", 5: "IV", 6: "#IV", 7: "V"}
_FIGURES = {(3, 1): "6", (3, 2): "64", (4, 0): "7", (4, 1): "65", (4, 2): "43", (4, 3): "42"}


def _degree_semitones(numeral: str, upper: bool, key: Key) -> int:
    """Semitones above the tonic of a bare numeral; minor's VI / VII by case (music21's rule)."""
    d = _NUMERALS.index(numeral.upper())
    if key.mode == "major":
        return (0, 2, 4, 5, 7, 9, 11)[d]
    return (0, 2, 3, 5, 7, 8 + (not upper), 10 + (not upper))[d]


def roman(chord: Chord, key: Key) -> str:
    """The Roman numeral of ``chord`` in ``key``: ``"V7"``, ``"ii"``, ``"viio"``, ``"viiø7"``,
    ``"IVmaj7"``, ``"bVII"``, with a figure for an inversion (``"I6"``, ``"V65"``); "N" for N."""
    if chord.root is None:
        return "N"
    upper = QUALITIES[chord.quality][2]
    interval = (chord.root - key.tonic) % 12
    if key.mode == "major" or interval < 8:
        numeral = (_MAJOR_DEGREES if key.mode == "major" else _MINOR_DEGREES)[interval]
    else:
        bare = _NUMERALS[5 if interval < 10 else 6]
        shift = interval - _degree_semitones(bare, upper, key)
        numeral = {-1: "b", 0: "", 1: "#"}[shift] + bare
    acc, bare = (numeral[0], numeral[1:]) if numeral[0] in "b#" else ("", numeral)
    suffix = QUALITIES[chord.quality][3]
    tones = chord.pitch_classes
    if chord.bass in tones and not chord.quality.startswith("sus"):
        figure = _FIGURES[len(tones), tones.index(chord.bass)]
        suffix = suffix.removesuffix("7") + figure if len(tones) == 4 else suffix + figure
    return acc + (bare if upper else bare.lower()) + suffix


def parse_roman(text: str, key: Key) -> Chord:
    """A Roman numeral in ``key`` as :func:`roman` writes it, also ``"vii/o7"``, ``"VM7"`` and
    figures with slashes (``"V6/5"``); upper case is major, lower case minor, unless a mark says
    otherwise (``o``, ``ø``, ``+``, ``maj``, ``sus4``). ``"V/V"`` (applied chords) is not read."""
    s = (text or "").strip().replace("/o", "ø").replace("°", "o")
    if s == "N":
        return NO_CHORD
    m = re.fullmatch(r"([b#]?)(VII|VI|V|IV|III|II|I|vii|vi|v|iv|iii|ii|i)(o|ø|\+|maj|M|sus4|sus2)?((?:7|6/?5|4/?3|4/?2|2|6/?4|6)?)", s)
    if not m:
        raise CadenzaError(f"Roman numeral {text!r}: give I-VII (major) or i-vii (minor), maybe b/# before and o, ø, +, maj, sus4 and a figure (6, 64, 7, 65, 43, 42) after")
    acc, numeral, mark, figure = m.group(1), m.group(2), m.group(3) or "", m.group(4).replace("/", "")
    upper = numeral.isupper()
    seventh = figure in ("7", "65", "43", "42", "2")
    quality = {
        ("", False): "major" if upper else "minor", ("", True): "dominant7" if upper else "minor7",
        ("o", False): "diminished", ("o", True): "diminished7", ("ø", False): "half-diminished7", ("ø", True): "half-diminished7",
        ("+", False): "augmented", ("maj", True): "major7", ("M", True): "major7", ("sus4", False): "sus4", ("sus2", False): "sus2",
    }.get((mark, seventh))
    if quality is None:
        raise CadenzaError(f"Roman numeral {text!r}: {mark or 'no mark'} with figure {figure!r} is not one of the chords read: {', '.join(QUALITIES)}")
    root = (key.tonic + _degree_semitones(numeral, upper, key) + {"b": -1, "#": 1, "": 0}[acc]) % 12
    tones = Chord(root, quality).pitch_classes
    position = {"": 0, "7": 0, "6": 1, "65": 1, "64": 2, "43": 2, "42": 3, "2": 3}[figure]
    return Chord(root, quality, tones[position] if position < len(tones) else None)


def parse_progression(text: str, key: Key) -> list[Chord]:
    """``"I | V7 | I | IV"`` (bars, spaces or commas between) -> one chord per numeral."""
    return [parse_roman(t, key) for t in re.split(r"[\s|,]+", text.strip()) if t]


_ROMAN = re.compile(r"[b#]?(?:VII|VI|V|IV|III|II|I|vii|vi|v|iv|iii|ii|i)(?![a-z#])")


def parse_bars(text: str, key: str | Key | None = None) -> list[tuple[Chord, ...]]:
    """A musician's progression, bar by bar: ``"F | C7 | F | Bb"`` (chord symbols) or, with
    ``key``, ``"I | V7 | I | IV"`` (Roman numerals, as ``--key`` names the key). ``.`` repeats
    the previous bar's chords; a bar may hold more than one (``"F C7"``: each bar keeps all of
    them, in order). An unknown name is a one-line :class:`CadenzaError` naming it."""
    bars: list[tuple[Chord, ...]] = []
    for i, part in enumerate(p.strip() for p in (text or "").split("|")):
        names = part.replace(",", " ").split()
        if not names:
            raise CadenzaError(f"--chords {text!r}: bar {i + 1} is empty; give a chord, or . to repeat the previous bar's")
        if names == ["."]:
            if not bars:
                raise CadenzaError(f"--chords {text!r}: the first bar cannot repeat (.) a previous one")
            bars.append(bars[-1])
            continue
        bars.append(tuple(_one_chord(n, key, text) for n in names))
    if not bars:
        raise CadenzaError("--chords: give chords bar by bar, e.g. \"F | C7 | F | Bb\" or, with --key, \"I | V7 | I | IV\"")
    return bars


def is_roman(name: str) -> bool:
    """Whether a chord name of ``--chords`` is a Roman numeral (``V7``, ``bVI``), not a symbol."""
    return bool(_ROMAN.match(name)) and not re.fullmatch(r"[A-G][#b]?.*", name)


def _one_chord(name: str, key: str | Key | None, text: str) -> Chord:
    if is_roman(name):
        if key is None:
            raise CadenzaError(f"--chords {text!r}: {name} is a Roman numeral; give the key (--key) it stands in")
        try:
            return parse_roman(name, key if isinstance(key, Key) else parse_key(key))
        except CadenzaError as exc:
            raise CadenzaError(f"--chords: {exc}") from None
    try:
        return parse_chord(name)
    except CadenzaError:
        raise CadenzaError(f"--chords: {name!r} is not a chord symbol (C, Am, G7, Bm7b5, Fmaj7, Dsus4, Bb/D ...) or, with --key, a Roman numeral (I, V7, ii, viio)") from None
