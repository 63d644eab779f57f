"""The in-memory note model every codec meets in the middle, and fast MIDI I/O.

Times are in quarter notes (floats), so grids of 4 or 12 steps per quarter are exact and tempo
lives in one place (``Piece.tempos``), as in a score rather than in seconds as in a recording.

MIDI goes through symusic (a C++ parser, ~0.2 ms a file) rather than music21 (~2.5 s a file):
preparing a corpus of thousands of files must take seconds, not hours.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from operator import attrgetter
from pathlib import Path

from cadenza import CadenzaError

# General MIDI program names (0-127), for track names when a file gives none.
GM_NAMES = (
    "Piano", "Bright Piano", "Electric Grand Piano", "Honky-tonk Piano", "Electric Piano 1",
    "Electric Piano 2", "Harpsichord", "Clavinet", "Celesta", "Glockenspiel", "Music Box",
    "Vibraphone", "Marimba", "Xylophone", "Tubular Bells", "Dulcimer", "Drawbar Organ",
    "Percussive Organ", "Rock Organ", "Church Organ", "Reed Organ", "Accordion", "Harmonica",
    "Tango Accordion", "Nylon Guitar", "Steel Guitar", "Jazz Guitar", "Clean Electric Guitar",
    "Muted Electric Guitar", "Overdriven Guitar", "Distortion Guitar", "Guitar Harmonics",
    "Acoustic Bass", "Fingered Bass", "Picked Bass", "Fretless Bass", "Slap Bass 1",
    "Slap Bass 2", "Synth Bass 1", "Synth Bass 2", "Violin", "Viola", "Cello", "Contrabass",
    "Tremolo Strings", "Pizzicato Strings", "Harp", "Timpani", "String Ensemble 1",
    "String Ensemble 2", "Synth Strings 1", "Synth Strings 2", "Choir Aahs", "Voice Oohs",
    "Synth Voice", "Orchestra Hit", "Trumpet", "Trombone", "Tuba", "Muted Trumpet",
    "French Horn", "Brass Section", "Synth Brass 1", "Synth Brass 2", "Soprano Sax", "Alto Sax",
    "Tenor Sax", "Baritone Sax", "Oboe", "English Horn", "Bassoon", "Clarinet", "Piccolo",
    "Flute", "Recorder", "Pan Flute", "Blown Bottle", "Shakuhachi", "Whistle", "Ocarina",
    "Square Lead", "Sawtooth Lead", "Calliope Lead", "Chiff Lead", "Charang Lead", "Voice Lead",
    "Fifths Lead", "Bass Lead", "New Age Pad", "Warm Pad", "Polysynth Pad", "Choir Pad",
    "Bowed Pad", "Metallic Pad", "Halo Pad", "Sweep Pad", "Rain", "Soundtrack", "Crystal",
    "Atmosphere", "Brightness", "Goblins", "Echoes", "Sci-fi", "Sitar", "Banjo", "Shamisen",
    "Koto", "Kalimba", "Bagpipe", "Fiddle", "Shanai", "Tinkle Bell", "Agogo", "Steel Drums",
    "Woodblock", "Taiko Drum", "Melodic Tom", "Synth Drum", "Reverse Cymbal",
    "Guitar Fret Noise", "Breath Noise", "Seashore", "Bird Tweet", "Telephone Ring",
    "Helicopter", "Applause", "Gunshot",
)
assert len(GM_NAMES) == 128

# Keyboard programs (pianos 0-7, organs 16-23): one player, so a file's separate hands, staves
# or manuals with the same program are one instrument. Two violins are two players and stay two.
KEYBOARD_PROGRAMS = frozenset(range(0, 8)) | frozenset(range(16, 24))

DEFAULT_TEMPO = 120.0  # MIDI's tempo when a file sets none


@dataclass(frozen=True, order=True)
class Note:
    start: float  # quarters from the beginning
    pitch: int  # MIDI number
    duration: float  # quarters
    velocity: int = 80


@dataclass
class Track:
    """One instrument. ``program`` is the General MIDI program (0 piano, 40 violin)."""

    name: str
    program: int = 0
    notes: list[Note] = field(default_factory=list)
    is_drum: bool = False


@dataclass
class Piece:
    tracks: list[Track] = field(default_factory=list)
    tempos: list[tuple[float, float]] = field(default_factory=lambda: [(0.0, 120.0)])  # (quarter, qpm)
    time_signatures: list[tuple[float, int, int]] = field(default_factory=lambda: [(0.0, 4, 4)])
    name: str = ""
    # (quarter, fifths, minor): fifths > 0 sharps, < 0 flats; minor 1 for a minor key
    key_signatures: list[tuple[float, int, int]] = field(default_factory=list)

    @property
    def notes(self) -> list[Note]:
        return sorted(n for t in self.tracks for n in t.notes)

    @property
    def end(self) -> float:
        return max((n.start + n.duration for t in self.tracks for n in t.notes), default=0.0)

    def transpose(self, semitones: int) -> "Piece":
        """A copy ``semitones`` higher (negative: lower). Pitches pushed past MIDI's 0-127 move
        back by octaves; drum tracks keep their pitches (they name drums, not notes); key
        signatures follow, spelled with at most six sharps or flats."""
        tracks = []
        for t in self.tracks:
            if t.is_drum:
                tracks.append(replace(t, notes=list(t.notes)))
                continue
            tracks.append(replace(t, notes=[replace(n, pitch=fold_pitch(n.pitch + semitones, 0, 128)) for n in t.notes]))
        keys = [(q, (f + 7 * semitones + 6) % 12 - 6, m) for q, f, m in self.key_signatures]
        return replace(self, tracks=tracks, tempos=list(self.tempos), time_signatures=list(self.time_signatures), key_signatures=keys)

    def slice(self, start_q: float, end_q: float) -> "Piece":
        """The notes that start in [start_q, end_q), moved so start_q becomes 0 and cut at end_q;
        the tempo, time and key signature in force at start_q carry over to the new beginning."""
        length = end_q - start_q
        tracks = []
        for t in self.tracks:
            notes = [
                replace(n, start=n.start - start_q, duration=min(n.duration, end_q - n.start))
                for n in t.notes
                if start_q <= n.start < end_q
            ]
            tracks.append(replace(t, notes=notes))
        return replace(
            self,
            tracks=tracks,
            tempos=_slice_map(self.tempos, start_q, length) or [(0.0, DEFAULT_TEMPO)],
            time_signatures=_slice_map(self.time_signatures, start_q, length) or [(0.0, 4, 4)],
            key_signatures=_slice_map(self.key_signatures, start_q, length),
        )


def _slice_map(events: list, start: float, length: float) -> list:
    """Events (quarter, ...) re-timed for a slice: the last one at or before ``start`` moves to 0."""
    before = [e for e in events if e[0] <= start]
    out = [(0.0, *before[-1][1:])] if before else []
    out += [(e[0] - start, *e[1:]) for e in events if start < e[0] < start + length]
    return out


def fold_pitch(pitch: int, low: int, size: int) -> int:
    """``pitch`` moved by whole octaves into [low, low + size) (size >= 12), so the pitch class
    survives when a range is too small for a note."""
    while pitch < low:
        pitch += 12
    while pitch >= low + size:
        pitch -= 12
    return pitch


# --------------------------------------------------------------------------------------------
# MIDI files


def read_midi(path: Path | str) -> Piece:
    """A MIDI file as a :class:`Piece`, times in quarters.

    * tempo changes, time and key signatures, track names and programs are kept;
    * keyboard tracks (pianos, organs) with the same program merge into one track: files split
      a pianist's hands onto two tracks, but the hands are one instrument;
    * drum tracks (channel 10) are dropped: their pitches name drums, not notes;
    * tracks with no notes (conductor tracks) are dropped.

    Raises :class:`CadenzaError` ``"<path>: <problem>"`` for a missing, empty, non-MIDI or
    corrupt file.
    """
    import numpy as np
    from symusic import Score

    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CadenzaError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if not data:
        raise CadenzaError(f"{path}: empty file")
    if not data.startswith(b"MThd"):
        raise CadenzaError(f"{path}: not a MIDI file (no MThd header)")
    try:
        score = Score.from_midi(data)
    except Exception as exc:  # symusic raises RuntimeError with its own wording
        raise CadenzaError(f"{path}: corrupt MIDI ({_one_line(exc)})") from None
    tpq = score.ticks_per_quarter
    if tpq <= 0:
        raise CadenzaError(f"{path}: SMPTE (frames per second) timing is not supported")

    # per instrument: arrays of (ticks, duration ticks, pitch, velocity), keyboards merged
    parts: list[tuple[str, int, list[dict]]] = []
    keyboard: dict[int, int] = {}  # program -> index in parts
    for tr in score.tracks:
        if tr.is_drum or len(tr.notes) == 0:
            continue
        program = int(tr.program)
        name = tr.name.strip()
        if program in keyboard:
            part = parts[keyboard[program]]
            part[2].append(tr.notes.numpy())
            parts[keyboard[program]] = (_common_name([part[0], name]), program, part[2])
            continue
        if program in KEYBOARD_PROGRAMS:
            keyboard[program] = len(parts)
        parts.append((name, program, [tr.notes.numpy()]))
    tracks = []
    for name, program, arrays in parts:
        a = {k: np.concatenate([x[k] for x in arrays]) for k in ("time", "duration", "pitch", "velocity")}
        order = np.lexsort((a["velocity"], a["duration"], a["pitch"], a["time"]))  # Note's order
        notes = list(map(Note, (a["time"][order] / tpq).tolist(), a["pitch"][order].tolist(), (a["duration"][order] / tpq).tolist(), a["velocity"][order].tolist()))
        tracks.append(Track(name or GM_NAMES[program], program, notes))

    # a tempo of 0 microseconds a quarter or a metre over 0 is damage, not music: skip those
    tempos = _dedupe([(t.time / tpq, round(float(t.qpm), 3)) for t in score.tempos if t.mspq > 0])
    if not tempos or tempos[0][0] > 0:
        tempos.insert(0, (0.0, DEFAULT_TEMPO))
    sigs = _dedupe([(t.time / tpq, int(t.numerator), int(t.denominator)) for t in score.time_signatures if t.numerator > 0 and t.denominator > 0])
    if not sigs or sigs[0][0] > 0:
        sigs.insert(0, (0.0, 4, 4))
    keys = _dedupe([(k.time / tpq, int(k.key), int(k.tonality)) for k in score.key_signatures])
    return Piece(tracks, tempos, sigs, path.stem, keys)


def write_midi(piece: Piece, path: Path | str, ticks_per_quarter: int = 480) -> Path:
    """Write ``piece`` as a standard MIDI file (one track per instrument). 480 ticks per quarter
    holds both the 4- and 12-step grids exactly. Raises :class:`CadenzaError` if it cannot."""
    import numpy as np
    from symusic import KeySignature, Score, TimeSignature
    from symusic import Note as SNote
    from symusic import Tempo
    from symusic import Track as STrack

    path = Path(path)
    tpq = ticks_per_quarter

    def tick(q: float) -> int:
        return max(0, int(round(q * tpq)))

    try:
        score = Score(tpq)
        for q, qpm in piece.tempos:
            score.tempos.append(Tempo(tick(q), qpm=float(qpm)))
        for q, num, den in piece.time_signatures:
            score.time_signatures.append(TimeSignature(tick(q), int(num), int(den)))
        for q, fifths, minor in piece.key_signatures:
            score.key_signatures.append(KeySignature(tick(q), int(fifths), int(minor)))
        for t in piece.tracks:
            track = STrack(t.name, int(t.program), bool(t.is_drum))
            if t.notes:
                ns = sorted(t.notes, key=attrgetter("start", "pitch"))
                starts = np.array([tick(n.start) for n in ns], dtype=np.int64)
                ends = np.array([tick(n.start + n.duration) for n in ns], dtype=np.int64)
                if ends.max() >= 2**31:
                    raise ValueError(f"a note ends {ends.max() / tpq:.0f} quarters in, past what MIDI can time")
                track.notes = SNote.from_numpy(
                    starts.astype(np.int32),
                    np.maximum(ends - starts, 1).astype(np.int32),
                    np.array([min(max(n.pitch, 0), 127) for n in ns], dtype=np.int8),
                    np.array([min(max(n.velocity, 1), 127) for n in ns], dtype=np.int8),
                )
            score.tracks.append(track)
        if not path.parent.is_dir():
            raise FileNotFoundError(f"no folder {path.parent}")
        score.dump_midi(path)
    except Exception as exc:  # symusic's own errors, a missing folder, an impossible tempo
        raise CadenzaError(f"{path}: cannot write MIDI ({_one_line(exc)})") from None
    return path


def _dedupe(events: list[tuple]) -> list[tuple]:
    """Events sorted by time; of several at the same moment the last wins (as a player hears)."""
    out: list[tuple] = []
    for e in sorted(events, key=lambda e: e[0]):
        if out and out[-1][0] == e[0]:
            out[-1] = e
        else:
            out.append(e)
    return out


def _common_name(names: list[str]) -> str:
    """'Piano right' + 'Piano left' -> 'Piano'; 'Fuga 1' + 'Fuga 2' -> 'Fuga'."""
    prefix = os.path.commonprefix(names).rstrip(" -_.:0123456789")
    return prefix if len(prefix) >= 3 else ""


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200] or type(exc).__name__
