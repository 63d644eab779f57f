"""The instrument families of General MIDI, each with its usual score abbreviation, in score order.

Every GM program belongs to one family with a short name a score uses (``p`` piano, ``v`` violin,
``va`` viola, ``fl`` flute ...), after Clara (Christine Payne, 2018), who wrote ``p`` and ``v``.
The MIDI codecs (notewise, chordwise) write these abbreviations as word prefixes, in this table's
order within a step; the corpus labels name a piece's instruments by the families' names.
"""

from __future__ import annotations

# (prefix, name, program written on decoding, GM programs it covers), in score order: strings
# first (so violin comes before piano, as in Clara), winds, brass, voices, the rest, piano last.
INSTRUMENTS: tuple[tuple[str, str, int, tuple[int, ...]], ...] = (
    ("v", "Violin", 40, (40, 110)),  # 110: fiddle
    ("va", "Viola", 41, (41,)),
    ("vc", "Cello", 42, (42,)),
    ("cb", "Contrabass", 43, (43,)),
    ("str", "Strings", 48, (44, 45, 48, 49, 50, 51, 55)),  # tremolo, pizzicato, ensembles
    ("pic", "Piccolo", 72, (72,)),
    ("fl", "Flute", 73, (73, 75, 76, 77, 78, 79)),  # and the other blown pipes
    ("rec", "Recorder", 74, (74,)),
    ("ob", "Oboe", 68, (68,)),
    ("eh", "English Horn", 69, (69,)),
    ("cl", "Clarinet", 71, (71,)),
    ("bn", "Bassoon", 70, (70,)),
    ("sx", "Saxophone", 65, (64, 65, 66, 67)),
    ("hn", "Horn", 60, (60,)),
    ("tp", "Trumpet", 56, (56, 59)),
    ("tb", "Trombone", 57, (57,)),
    ("tu", "Tuba", 58, (58,)),
    ("br", "Brass", 61, (61, 62, 63)),
    ("ch", "Choir", 52, (52, 53, 54)),
    ("timp", "Timpani", 47, (47,)),
    ("mal", "Mallets", 11, tuple(range(8, 16))),  # celesta, glockenspiel, vibraphone, marimba ...
    ("hp", "Harp", 46, (46,)),
    ("gt", "Guitar", 24, tuple(range(24, 32))),
    ("bs", "Bass", 32, tuple(range(32, 40))),
    ("org", "Organ", 19, tuple(range(16, 24))),  # organs, accordion, harmonica
    ("syn", "Synth", 80, tuple(range(80, 104))),
    ("eth", "Ethnic", 104, (104, 105, 106, 107, 108, 109, 111)),  # sitar, banjo, koto ...
    ("perc", "Percussion", 112, tuple(range(112, 120))),  # pitched percussion: steel drums ...
    ("sfx", "Sound effects", 120, tuple(range(120, 128))),
    ("p", "Piano", 0, tuple(range(0, 8))),  # pianos, harpsichord, clavinet
)
PREFIX_OF_PROGRAM = {prog: pre for pre, _, _, progs in INSTRUMENTS for prog in progs}
assert sorted(PREFIX_OF_PROGRAM) == list(range(128)), "every GM program needs a prefix"
RANK = {pre: i for i, (pre, _, _, _) in enumerate(INSTRUMENTS)}
DEFAULT_PROGRAM = {pre: prog for pre, _, prog, _ in INSTRUMENTS}
INSTRUMENT_NAME = {pre: name for pre, name, _, _ in INSTRUMENTS}
# Tremolo / pizzicato / ensemble programs say how strings play, not which: the track name tells.
_STRING_PLAYING = {44, 45, 48, 49, 50, 51}


def prefix_for(program: int, name: str = "") -> str:
    """The word prefix of an instrument: its GM program's, except that string-technique programs
    (tremolo, pizzicato, ensemble) follow the track name ('Viola pizz.' -> ``va``)."""
    program = min(max(int(program), 0), 127)
    if program in _STRING_PLAYING:
        n = name.lower()
        if "cello" in n:  # before "violin": Italian "violoncello", misspelt "violincello"
            return "vc"
        if "viola" in n:
            return "va"
        if "violin" in n or "violino" in n:
            return "v"
        if "bass" in n:
            return "cb"
    return PREFIX_OF_PROGRAM[program]
