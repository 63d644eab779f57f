"""Clara's notewise encoding (Christine Payne, 2018): MIDI as words, one word per event.

``p20 p32 wait3 endp20 p25 endp32 wait12`` reads: piano strikes keys 20 and 32, three steps
pass, key 20 is released and key 25 struck, key 32 released, twelve steps pass.

* ``<prefix><i>`` strikes key ``i``, ``end<prefix><i>`` releases it, ``wait<n>`` moves time on
  ``n`` steps of the grid (``steps_per_quarter``: 4 = sixteenths, 12 = sixteenths and
  triplets). A release is written at the step the note stops sounding, so a note lasting one
  step is ``p20 wait1 endp20`` (Clara wrote the release in the note's last step instead; the
  decoder reads her ``p20 endp20`` as one step too).
* ``i`` counts keys up from the bottom of the note range (see :data:`LOWEST`): Clara's 38 keys
  from A2 (MIDI 45) and 62 keys from A1 (MIDI 33), and the full 88-key piano from A0 (MIDI 21).
  Notes outside the range move by octaves into it; ``Encoded.info["folded"]`` counts them.
* Waits longer than ``max_wait`` (default one 4/4 bar, 4 x ``steps_per_quarter``) repeat
  (``wait48 wait48 wait6``), so the vocabulary stays small.
* Within a step: releases before strikes (so a repeated note reads ``endp20 p20``), each in
  score order of the instruments (:data:`INSTRUMENTS`), then from low to high.
* Loudness is not encoded (nor was it in Clara): decoded notes play at velocity 80. Tempo,
  metre, key and instrument names travel in ``Encoded.info`` and come back on decoding.

Instrument prefixes are those of :data:`INSTRUMENTS`: Clara's ``p`` (piano) and ``v`` (violin),
and the usual score abbreviations for the rest of General MIDI (``va`` viola, ``vc`` cello,
``fl`` flute, ``cl`` clarinet ...). Every GM program has one; instruments sharing a prefix (two
violins, a pianist's two hands) share the words. The chordwise codec uses the same table.
"""

from __future__ import annotations

import math
import json
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar

from cadenza import CadenzaError
from cadenza.codecs import Decoded, Encoded, register
from cadenza.music import Note, Piece, Track, write_midi

# Lowest MIDI note of each note range: Clara's 38 (A2-B5) and 62 (A1-A#6), and the piano's 88.
LOWEST = {38: 45, 62: 33, 88: 21}

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


@dataclass(frozen=True)
class NotewiseOptions:
    """``steps_per_quarter``: grid resolution (Clara: 4 or 12). ``note_range``: keys encoded,
    38, 62 or 88 (see :data:`LOWEST`). ``max_wait``: longest single ``wait`` word (None: one
    4/4 bar)."""

    steps_per_quarter: int = 12
    note_range: int = 62
    max_wait: int | None = None

    def __post_init__(self) -> None:
        check_grid(self.steps_per_quarter, self.note_range)
        if self.max_wait is not None and (not isinstance(self.max_wait, int) or self.max_wait < 1):
            raise CadenzaError(f"notewise max_wait must be a positive whole number of steps, not {self.max_wait!r}")

    @property
    def wait_cap(self) -> int:
        return self.max_wait or 4 * self.steps_per_quarter


def check_grid(steps_per_quarter: Any, note_range: Any) -> None:
    if not isinstance(steps_per_quarter, int) or isinstance(steps_per_quarter, bool) or not 1 <= steps_per_quarter <= 96:
        raise CadenzaError(f"steps_per_quarter must be a whole number from 1 to 96 (Clara: 4 or 12), not {steps_per_quarter!r}")
    if note_range not in LOWEST:
        raise CadenzaError(f"note_range must be one of {', '.join(map(str, LOWEST))}, not {note_range!r}")


# --------------------------------------------------------------------------------------------
# Shared by both Clara codecs: the piece on a grid, and back


GridNote = tuple[int, int, int]  # (on step, off step, key index); off > on


@dataclass
class Grid:
    """A piece quantized: per instrument prefix, notes as steps and key indices."""

    notes: dict[str, list[GridNote]]
    instruments: dict[str, dict[str, Any]]  # prefix -> {"program", "name"} of its first track
    folded: int

    @property
    def end(self) -> int:
        return max((off for ns in self.notes.values() for _, off, _ in ns), default=0)

    def prefixes(self) -> list[str]:
        return sorted(self.notes, key=RANK.__getitem__)


def to_grid(piece: Piece, steps_per_quarter: int, note_range: int) -> Grid:
    """Quantize ``piece``: starts and ends to the nearest step (a note lasts at least one step),
    pitches folded into the range, drums left out. Two notes of one key on one instrument never
    overlap: a note ends where the next one of that key starts (as a player re-strikes), and of
    two struck together the longer is kept."""
    import numpy as np

    low = LOWEST[note_range]
    spq = steps_per_quarter
    columns: dict[str, list[tuple[Any, Any, Any]]] = {}  # prefix -> per track (starts, ends, pitches)
    instruments: dict[str, dict[str, Any]] = {}
    for track in piece.tracks:
        if track.is_drum or not track.notes:
            continue
        pre = prefix_for(track.program, track.name)
        instruments.setdefault(pre, {"program": int(track.program), "name": track.name or INSTRUMENT_NAME[pre]})
        count = len(track.notes)
        starts = np.fromiter((n.start for n in track.notes), float, count)
        ends = starts + np.fromiter((n.duration for n in track.notes), float, count)
        pitches = np.fromiter((n.pitch for n in track.notes), np.int64, count)
        columns.setdefault(pre, []).append((starts, ends, pitches))
    folded = 0
    notes: dict[str, list[GridNote]] = {}
    for pre, cols in columns.items():
        starts, ends, pitches = (np.concatenate(c) for c in zip(*cols))
        on = np.maximum(np.floor(starts * spq + 0.5).astype(np.int64), 0)
        off = np.maximum(np.floor(ends * spq + 0.5).astype(np.int64), on + 1)
        key, n = fold_keys(pitches - low, note_range)
        folded += n
        notes[pre] = normalize(on, off, key)
    return Grid(notes, instruments, folded)


def fold_keys(key: Any, note_range: int) -> tuple[Any, int]:
    """Key indices (a numpy array) moved by octaves into [0, note_range), and how many moved."""
    import numpy as np

    below, above = key < 0, key >= note_range
    key = np.where(below, key + 12 * ((11 - key) // 12), key)
    key = np.where(above, key - 12 * ((key - note_range + 12) // 12), key)
    return key, int(below.sum() + above.sum())


def normalize(on: Any, off: Any, key: Any) -> list[GridNote]:
    """One instrument's notes (numpy arrays) made playable on one key each: of notes struck
    together the longest is kept, and a note ends where the next of its key starts."""
    import numpy as np

    order = np.lexsort((off, on, key))  # by key, then start, then end
    on, off, key = on[order], off[order], key[order]
    last = np.r_[(key[1:] != key[:-1]) | (on[1:] != on[:-1]), True]
    on, off, key = on[last], off[last], key[last]
    same_key_next = np.r_[key[1:] == key[:-1], False]
    off = np.where(same_key_next, np.minimum(off, np.r_[on[1:], 0]), off)
    return sorted(zip(on.tolist(), off.tolist(), key.tolist()))


def transposed(piece: Encoded, notes: dict[str, list[GridNote]], semitones: int, note_range: int, words: Any) -> Encoded:
    """``piece`` moved ``semitones``, given its notes read back from its text. Works on the grid
    (no MIDI, no Note objects), so augmenting a corpus in twelve keys stays quick; keys pushed
    out of the range fold back by octaves and ``info["folded"]`` adds them to the piece's count."""
    import numpy as np

    folded = 0
    moved: dict[str, list[GridNote]] = {}
    for pre, ns in notes.items():
        if not ns:
            continue
        on, off, key = (np.array(c, dtype=np.int64) for c in zip(*ns))
        key, n = fold_keys(key + semitones, note_range)
        folded += n
        moved[pre] = normalize(on, off, key)
    grid = Grid(moved, {}, folded)
    info = dict(piece.info)
    info["folded"] = int(info.get("folded", 0)) + folded
    info["transposed"] = int(info.get("transposed", 0)) + semitones
    info["notes"] = sum(len(v) for v in moved.values())
    keys = _events(info.get("key_signatures"), 3)
    info["key_signatures"] = [[q, (int(f) + 7 * semitones + 6) % 12 - 6, int(m)] for q, f, m in keys]
    return Encoded(f"{piece.name}{semitones:+d}", " ".join(words(grid)), info)


def piece_info(piece: Piece, grid: Grid) -> dict[str, Any]:
    """What the text leaves out and decoding puts back (JSON-ready). ``tempo`` and
    ``time_signature`` (the opening ones) are what a dataset's generation context collects."""
    return {
        "tempo": float(piece.tempos[0][1]) if piece.tempos else 120.0,
        "time_signature": [int(piece.time_signatures[0][1]), int(piece.time_signatures[0][2])] if piece.time_signatures else [4, 4],
        "tempos": [[float(q), float(t)] for q, t in piece.tempos],
        "time_signatures": [[float(q), int(n), int(d)] for q, n, d in piece.time_signatures],
        "key_signatures": [[float(q), int(f), int(m)] for q, f, m in piece.key_signatures],
        "instruments": grid.instruments,
        "folded": grid.folded,
        "notes": sum(len(v) for v in grid.notes.values()),
        "steps": grid.end,
    }


def from_grid(notes: dict[str, list[GridNote]], steps_per_quarter: int, note_range: int, context: Any, name: str = "") -> Piece:
    """Grid notes back to a :class:`Piece`; tempo, metre, key and instrument programs/names from
    ``context`` (an ``Encoded.info`` or a dataset's generation context) where it has them. A
    context that is not what it should be is ignored, never an error."""
    ctx = context if isinstance(context, dict) else {}
    low = LOWEST[note_range]
    spq = steps_per_quarter
    insts = ctx.get("instruments") if isinstance(ctx.get("instruments"), dict) else {}
    tracks = []
    for pre in sorted(notes, key=RANK.__getitem__):
        if not notes[pre]:
            continue
        meta = insts.get(pre) if isinstance(insts.get(pre), dict) else {}
        program = meta.get("program")
        if not isinstance(program, int) or not 0 <= program <= 127 or prefix_for(program, str(meta.get("name", ""))) != pre:
            program = DEFAULT_PROGRAM[pre]
        tname = meta.get("name") if isinstance(meta.get("name"), str) and meta.get("name") else INSTRUMENT_NAME[pre]
        in_order = sorted(notes[pre], key=lambda g: (g[0], g[2], g[1]))  # Note's order: start, pitch, length
        tracks.append(Track(tname, program, [Note(on / spq, low + i, (off - on) / spq) for on, off, i in in_order]))
    piece = Piece(tracks, name=name)
    tempos = _events(ctx.get("tempos"), 2)
    if tempos and all(t[1] > 0 for t in tempos):
        piece.tempos = [(q, float(t)) for q, t in tempos]
    elif _number(ctx.get("tempo")) and ctx["tempo"] > 0:
        piece.tempos = [(0.0, float(ctx["tempo"]))]
    sigs = _events(ctx.get("time_signatures"), 3)
    if sigs and all(_valid_sig(n, d) for _, n, d in sigs):
        piece.time_signatures = [(q, int(n), int(d)) for q, n, d in sigs]
    else:
        ts = ctx.get("time_signature")
        if isinstance(ts, (list, tuple)) and len(ts) == 2 and _valid_sig(*ts):
            piece.time_signatures = [(0.0, int(ts[0]), int(ts[1]))]
    keys = _events(ctx.get("key_signatures"), 3)
    if keys and all(-7 <= f <= 7 and m in (0, 1) for _, f, m in keys):
        piece.key_signatures = [(q, int(f), int(m)) for q, f, m in keys]
    return piece


def _number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _valid_sig(n: Any, d: Any) -> bool:
    return isinstance(n, int) and isinstance(d, int) and 1 <= n <= 64 and d in (1, 2, 4, 8, 16, 32, 64)


def _events(x: Any, width: int) -> list[tuple]:
    """A list of [quarter, ...] events, or [] if it is not one."""
    if not isinstance(x, (list, tuple)) or not x:
        return []
    out = []
    for e in x:
        if not isinstance(e, (list, tuple)) or len(e) != width or not all(_number(v) for v in e) or e[0] < 0:
            return []
        out.append(tuple(e))
    return sorted(out, key=lambda e: e[0])


def export_midi(decoded: Decoded, stem: Path) -> dict[str, Path]:
    path = Path(f"{stem}.mid")
    write_midi(decoded.payload, path)
    return {"mid": path}


MAX_QUARTERS = 50_000  # about seven hours at 120 a minute: anything longer is a damaged file


def read_piece(path: Path) -> Piece:
    """A MIDI file worth encoding: with notes, and not so long that a stray event at the end of
    time would make millions of words."""
    from cadenza.scores import read_piece_file  # notation (music21's corpus) goes through music21

    piece = read_piece_file(Path(path))
    if not any(t.notes for t in piece.tracks):
        raise CadenzaError(f"{path}: no notes (drum tracks are left out)")
    if piece.end > MAX_QUARTERS:
        raise CadenzaError(f"{path}: lasts {piece.end:.0f} quarter notes, more than {MAX_QUARTERS} (a stray event?)")
    return piece


# --------------------------------------------------------------------------------------------
# The codec

SUFFIXES = (".mid", ".midi", ".mxl", ".musicxml", ".xml", ".krn")  # MIDI, and notation via music21
_WAIT = re.compile(r"wait(\d{1,5})")
_NOTE = re.compile(r"(end)?([a-z]+)(\d{1,3})")


@lru_cache(maxsize=1 << 16)
def read_word(word: str, note_range: int) -> tuple[str, Any, int] | None:
    """``("wait", None, n)``, ``("strike" | "release", prefix, key)``, or None for a word that is
    not notewise. Cached: a corpus repeats a few hundred words millions of times."""
    m = _WAIT.fullmatch(word)
    if m:
        return ("wait", None, int(m.group(1))) if int(m.group(1)) > 0 else None
    m = _NOTE.fullmatch(word)
    if not m or m.group(2) not in RANK or int(m.group(3)) >= note_range:
        return None
    return ("release" if m.group(1) else "strike", m.group(2), int(m.group(3)))


def quiet_prime(vocab: list[str], preferred: str) -> str:
    """The default prime of a MIDI codec: ``preferred`` (one step of silence) or, if the model
    never saw it, the shortest silence it knows (a wait, or a chordwise "nothing changes" letter)."""
    if preferred in vocab:
        return preferred
    quiet = sorted((w for w in vocab if re.fullmatch(r"wait\d+|[a-z]", w)), key=lambda w: (len(w), w))
    return quiet[0] if quiet else ""


def midi_generation_context(steps_per_quarter: int, train: list[dict[str, Any]]) -> dict[str, Any]:
    """Tempo and metre for decoding generated words: the most common among the training pieces."""

    ctx: Counter = Counter()
    for r in train:
        info = dict(r["info"])
        if info.get("time_signatures"):
            info["time_signature"] = dominant_meter(info["time_signatures"], info.get("steps", 0) / max(steps_per_quarter, 1))
        for k in ("tempo", "time_signature"):
            if k in info:
                ctx[(k, json.dumps(info[k]))] += 1
    out: dict[str, Any] = {}
    for (k, v), _ in ctx.most_common():
        out.setdefault(k, json.loads(v))
    return out


def dominant_meter(sigs: list[list[float]], end: float) -> list[int]:
    """The time signature in force longest (a pickup written as a short opening 1/4 bar must
    not become the metre of every generated piece)."""
    spans: Counter[tuple[int, int]] = Counter()
    for i, (q, num, den) in enumerate(sigs):
        nxt = sigs[i + 1][0] if i + 1 < len(sigs) else max(end, q)
        spans[(int(num), int(den))] += max(nxt - q, 0.0)
    (num, den), _ = max(spans.items(), key=lambda kv: kv[1]) if spans else ((4, 4), 0)
    return [num, den]



@register
class NotewiseCodec:
    """Clara's notewise words (see the module docstring)."""

    name: ClassVar[str] = "notewise"
    unit: ClassVar[str] = "word"
    suffixes: ClassVar[tuple[str, ...]] = SUFFIXES
    Options = NotewiseOptions

    bar_token: ClassVar[str | None] = None
    sample_formats: ClassVar[tuple[str, ...]] = ("mid",)

    def default_prime(self, vocab: list[str]) -> str:
        return quiet_prime(vocab, "wait1")

    def generation_context(self, train: list[dict[str, Any]], layout: Any) -> dict[str, Any]:
        return midi_generation_context(self.options.steps_per_quarter, train)

    def piece_tempo(self, info: dict[str, Any]) -> float | None:
        return info.get("tempo")

    def constraint(self, vocab: list[str], context: dict[str, Any], n: int, prefix: str) -> None:
        return None  # every word sequence decodes

    def __init__(self, options: NotewiseOptions | None = None):
        self.options = options or NotewiseOptions()

    def encode(self, path: Path) -> list[Encoded]:
        piece = read_piece(Path(path))
        return [self.encode_piece(piece)]

    def encode_piece(self, piece: Piece) -> Encoded:
        o = self.options
        grid = to_grid(piece, o.steps_per_quarter, o.note_range)
        return Encoded(piece.name, " ".join(self.words(grid)), piece_info(piece, grid))

    def words(self, grid: Grid) -> list[str]:
        # (step, release 0 / strike 1, instrument rank, key): one sort gives the reading order
        events = []
        for pre, notes in grid.notes.items():
            r = RANK[pre]
            events += [(on, 1, r, i) for on, _, i in notes]
            events += [(off, 0, r, i) for _, off, i in notes]
        events.sort()
        names = [pre for pre, *_ in INSTRUMENTS]
        out: list[str] = []
        cap = self.options.wait_cap
        now = 0
        for step, strike, r, i in events:
            if step != now:
                gap = step - now
                while gap > 0:
                    out.append(f"wait{min(gap, cap)}")
                    gap -= cap
                now = step
            out.append(f"{names[r]}{i}" if strike else f"end{names[r]}{i}")
        return out

    def transpose(self, piece: Encoded, semitones: int) -> Encoded:
        """``semitones`` up (negative: down); see :func:`transposed`."""
        notes, _ = self.parse(piece.text)
        return transposed(piece, notes, semitones, self.options.note_range, self.words)

    def decode(self, text: str, context: dict[str, Any]) -> Decoded:
        """Words -> :class:`Piece` (see :meth:`parse`), with tempo, metre and instruments from
        ``context``. Never raises."""
        o = self.options
        notes, stats = self.parse(text)
        piece = from_grid(notes, o.steps_per_quarter, o.note_range, context)
        return Decoded(text, stats, piece)

    def parse(self, text: str) -> tuple[dict[str, list[GridNote]], dict[str, Any]]:
        """Words -> grid notes and counts. Unknown words, keys outside the range, releases of
        keys not sounding and a key struck twice in one step are skipped and counted
        (``dropped``); a key struck again while sounding is released first; notes never released
        end with the text, but hold at most one 4/4 bar (``unclosed``)."""
        o = self.options
        size = o.note_range
        now = 0
        dropped = 0
        sounding: dict[tuple[str, int], int] = {}
        notes: dict[str, list[GridNote]] = {}

        def close(key: tuple[str, int], at: int) -> None:
            on = sounding.pop(key)
            notes.setdefault(key[0], []).append((on, max(at, on + 1), key[1]))

        for word in str(text).split():
            got = read_word(word, size)
            if got is None:
                dropped += 1
                continue
            what, pre, n = got
            if what == "wait":
                now += n
                continue
            key = (pre, n)
            if what == "release":
                if key in sounding:
                    close(key, now)
                else:
                    dropped += 1
            else:
                if key in sounding:
                    if sounding[key] == now:
                        dropped += 1  # struck twice at once
                        continue
                    close(key, now)
                sounding[key] = now
        unclosed = len(sounding)
        longest = 4 * o.steps_per_quarter
        for key in list(sounding):
            close(key, min(now, sounding[key] + longest))
        stats = {"dropped": dropped, "unclosed": unclosed, "notes": sum(len(v) for v in notes.values()), "quarters": now / o.steps_per_quarter}
        return notes, stats

    def export(self, decoded: Decoded, stem: Path, formats: tuple[str, ...] = ("mid",)) -> dict[str, Path]:
        """Writes ``stem.mid`` (whatever ``formats`` asks: MIDI is what this codec makes)."""
        return export_midi(decoded, stem)
