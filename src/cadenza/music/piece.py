"""The note model every codec meets in the middle: :class:`Piece` -> :class:`Track` -> :class:`Note`.

Times are in quarter notes (floats), so grids of 4 or 12 steps per quarter are exact and tempo
lives in one place (``Piece.tempos``), as in a score rather than in seconds as in a recording.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from cadenza.music.chord_names import Chord, parse_chord

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
    # (quarter, chord name such as "Am"): the chord asked for each bar, written as MIDI markers
    chords: list[tuple[float, str]] = field(default_factory=list)

    @property
    def notes(self) -> list[Note]:
        return sorted(n for t in self.tracks for n in t.notes)

    @property
    def end(self) -> float:
        return max((n.start + n.duration for t in self.tracks for n in t.notes), default=0.0)

    def seconds(self, quarters: float) -> float:
        """How many seconds into the piece ``quarters`` is, through its tempo map."""
        out, at, qpm = 0.0, 0.0, DEFAULT_TEMPO
        for q, t in sorted(self.tempos):
            if q >= quarters:
                break
            out += (q - at) * 60.0 / qpm
            at, qpm = q, t if t > 0 else qpm
        return out + (quarters - at) * 60.0 / qpm

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
        chords = [(q, transposed_name(name, semitones)) for q, name in self.chords]
        return replace(self, tracks=tracks, tempos=list(self.tempos), time_signatures=list(self.time_signatures), key_signatures=keys, chords=chords)

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
            chords=[(q - start_q, name) for q, name in self.chords if start_q <= q < end_q],
        )


def transposed_name(name: str, semitones: int) -> str:
    """A chord name ``semitones`` higher (``"Am"`` up 2: ``"Bm"``)."""
    chord = parse_chord(name)
    return name if chord.root is None else Chord((chord.root + semitones) % 12, chord.quality).name


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
