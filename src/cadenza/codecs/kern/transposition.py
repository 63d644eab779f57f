"""Transposition of cleaned kern text, spelled properly: pitches, key signatures and keys move
by a diatonic interval chosen so the new key signature has the fewest accidentals."""

from __future__ import annotations

import re

from cadenza.codecs.kern.harm import transpose_chord_line
from cadenza.music.humdrum.interpretations import KEY, KEYSIG, keysig_fifths, keysig_token
from cadenza.music.humdrum.spines import BAR, NATURAL, octave

_LETTERS = "cdefgab"
_PITCH_RE = re.compile(r"(?<![A-Za-z])([a-g]+|[A-G]+)(#{1,3}|-{1,3}|n)?")
# candidate spellings of each semitone shift as (diatonic steps, fifths moved)
_SPELLINGS = {
    0: [(0, 0)], 1: [(1, -5), (0, 7)], 2: [(1, 2)], 3: [(2, -3), (1, 9)], 4: [(2, 4)],
    5: [(3, -1)], 6: [(3, 6), (4, -6)], 7: [(4, 1)], 8: [(5, -4), (4, 8)], 9: [(5, 3)],
    10: [(6, -2)], 11: [(6, 5), (7, -7)],
}


def _fifths_moved(semitones: int, fifths: int) -> int:
    """How far round the circle of fifths the key signature moves (the spelling's choice)."""
    rem = semitones % 12
    return min(_SPELLINGS[rem], key=lambda o: (abs(fifths + o[1]), o[1] < 0 and rem == 6))[1]


def choose_interval(semitones: int, fifths: int) -> tuple[int, int]:
    """(diatonic steps, semitones) for a shift, spelled so the new key signature has the fewest
    accidentals (C major up a semitone is D-flat, not C-sharp)."""
    octaves, rem = divmod(semitones, 12)
    options = _SPELLINGS[rem]
    steps, df = min(options, key=lambda o: (abs(fifths + o[1]), o[1] < 0 and rem == 6))
    return steps + 7 * octaves, semitones


def _transpose_pitch(letters: str, acc: str | None, steps: int, semis: int) -> str:
    idx = _LETTERS.index(letters[0].lower())
    octv = octave(letters)
    alter = 0 if not acc or acc == "n" else (len(acc) if acc[0] == "#" else -len(acc))
    midi = 12 * (octv + 1) + NATURAL[_LETTERS[idx]] + alter + semis
    diat = octv * 7 + idx + steps
    new_oct, new_idx = divmod(diat, 7)
    new_letter = _LETTERS[new_idx]
    new_alter = midi - (12 * (new_oct + 1) + NATURAL[new_letter])
    if abs(new_alter) > 2:
        raise ValueError("needs a triple accidental")
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
    m = re.match(r"^\*([A-Ga-g])([#\-]?):([a-z]*)$", tok)
    if not m:
        return tok
    letter, acc, mode = m.groups()
    p = _transpose_pitch(letter.lower(), acc or None, steps, semis)
    base = p[0]
    rest = p.lstrip(p[0]).replace("n", "")
    return "*" + (base.upper() if letter.isupper() else base) + rest + ":" + mode


def transpose_text(text: str, semitones: int, fifths: int) -> str:
    """Transpose cleaned kern text by ``semitones`` (pitches, key signatures and keys), spelled for
    the key signature with ``fifths`` sharps (negative: flats). Raises ValueError if a note would
    need a triple sharp or flat."""
    if semitones == 0:
        return text
    steps, semis = choose_interval(semitones, fifths)
    df = _fifths_moved(semitones, fifths)
    out_lines = []
    for line in text.split("\n"):
        if line == BAR or not line:
            out_lines.append(line)
            continue
        if line.startswith("!"):
            out_lines.append(transpose_chord_line(line, semitones))  # a chord line moves; other comments stay
            continue
        fields = line.split("\t")
        if line.startswith("*"):
            new = []
            for f in fields:
                if KEYSIG.match(f):
                    nf = keysig_fifths(f) + df
                    if abs(nf) > 7:
                        raise ValueError("key signature beyond 7 accidentals")
                    new.append(keysig_token(nf))
                elif KEY.match(f):
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
