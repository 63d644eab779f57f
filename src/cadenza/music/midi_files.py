"""MIDI files <-> :class:`~cadenza.music.piece.Piece`, through symusic: the file format only
(the codecs that turn a Piece into a model's words are :mod:`cadenza.codecs.midi` and its kin).

symusic is a C++ parser (~0.2 ms a file) where music21 takes ~2.5 s a file: preparing a corpus
of thousands of MIDI files must take seconds, not hours.
"""

from __future__ import annotations

import os
from operator import attrgetter
from pathlib import Path

from cadenza import CadenzaError
from cadenza.files import one_line
from cadenza.music.chord_names import parse_chord
from cadenza.music.piece import DEFAULT_TEMPO, GM_NAMES, KEYBOARD_PROGRAMS, Note, Piece, Track


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
        raise CadenzaError(f"{path}: corrupt MIDI ({one_line(exc)})") from None
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
    tempos = _last_at_each_time([(t.time / tpq, round(float(t.qpm), 3)) for t in score.tempos if t.mspq > 0])
    if not tempos or tempos[0][0] > 0:
        tempos.insert(0, (0.0, DEFAULT_TEMPO))
    sigs = _last_at_each_time([(t.time / tpq, int(t.numerator), int(t.denominator)) for t in score.time_signatures if t.numerator > 0 and t.denominator > 0])
    if not sigs or sigs[0][0] > 0:
        sigs.insert(0, (0.0, 4, 4))
    keys = _last_at_each_time([(k.time / tpq, int(k.key), int(k.tonality)) for k in score.key_signatures])
    return Piece(tracks, tempos, sigs, path.stem, keys, _chords(score.markers, tpq))


def _chords(markers, tpq: int) -> list[tuple[float, str]]:
    """(quarter, name) of each marker that names a chord (``write_midi`` writes one a bar;
    a DAW's "Verse" is no chord and is left out)."""
    out = []
    for m in markers:
        try:
            parse_chord(m.text.strip())
        except CadenzaError:
            continue
        out.append((m.time / tpq, m.text.strip()))
    return out


def write_midi(piece: Piece, path: Path | str, ticks_per_quarter: int = 480) -> Path:
    """Write ``piece`` as a standard MIDI file (one track per instrument, more where notes of one
    key overlap: see :func:`_layers`). 480 ticks per quarter holds both the 4- and 12-step grids
    exactly. Raises :class:`CadenzaError` if it cannot."""
    from symusic import KeySignature, Score, Tempo, TextMeta, TimeSignature

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
        for q, name in piece.chords:  # a marker a bar, as a DAW shows them (none: the file as before)
            score.markers.append(TextMeta(tick(q), name))
        for t in piece.tracks:
            for ns in _layers(t.notes, tick) or [[]]:
                score.tracks.append(_track(t, ns, tick))
        if not path.parent.is_dir():
            raise FileNotFoundError(f"no folder {path.parent}")
        score.dump_midi(path)
    except Exception as exc:  # symusic's own errors, a missing folder, an impossible tempo
        raise CadenzaError(f"{path}: cannot write MIDI ({one_line(exc)})") from None
    return path


def _layers(notes: list[Note], tick) -> list[list[Note]]:
    """``notes`` by start, in as few layers as keep two notes of one pitch from overlapping in
    a layer. A MIDI track pairs a key's note-offs with its note-ons first in, first out, so a
    note held over a shorter one on the same key (both hands on one pitch) would come back
    with the lengths swapped; each layer is written as a track of its own, of the same
    instrument, and :func:`read_midi` merges a keyboard's tracks again."""
    layers: list[list[Note]] = []
    ends: list[dict[int, int]] = []  # per layer: pitch -> the tick its last note ends
    for n in sorted(notes, key=attrgetter("start", "pitch")):
        at = tick(n.start)
        k = next((k for k, e in enumerate(ends) if e.get(n.pitch, -1) <= at), len(layers))
        if k == len(layers):
            layers.append([])
            ends.append({})
        layers[k].append(n)
        ends[k][n.pitch] = max(tick(n.start + n.duration), at + 1)
    return layers


def _track(t: Track, ns: list[Note], tick):
    """One symusic track of ``t``'s instrument holding ``ns`` (sorted by start)."""
    import numpy as np
    from symusic import Note as SNote
    from symusic import Track as STrack

    track = STrack(t.name, int(t.program), bool(t.is_drum))
    if ns:
        starts = np.array([tick(n.start) for n in ns], dtype=np.int64)
        ends = np.array([tick(n.start + n.duration) for n in ns], dtype=np.int64)
        if ends.max() >= 2**31:
            raise ValueError(f"a note ends {max(n.start + n.duration for n in ns):.0f} quarters in, past what MIDI can time")
        track.notes = SNote.from_numpy(
            starts.astype(np.int32),
            np.maximum(ends - starts, 1).astype(np.int32),
            np.array([min(max(n.pitch, 0), 127) for n in ns], dtype=np.int8),
            np.array([min(max(n.velocity, 1), 127) for n in ns], dtype=np.int8),
        )
    return track


def _last_at_each_time(events: list[tuple]) -> list[tuple]:
    """Events sorted by time; of several at the same moment the last wins (as a player hears).

    Unlike :func:`cadenza.files.dedupe_events` a repeat of the value in force is KEPT: a file's
    redundant tempo or metre events survive a read/write round trip, so written MIDI files stay
    byte for byte what they were."""
    out: list[tuple] = []
    for e in sorted(events, key=lambda e: e[0]):
        if out and out[-1][0] == e[0]:
            out[-1] = e
        else:
            out.append(e)
    return out


def _common_name(names: list[str]) -> str:
    """'Piano right' + 'Piano left' -> 'Piano'; 'Fuga 1' + 'Fuga 2' -> 'Fuga'; one name
    throughout (the layers :func:`write_midi` splits a track into) stays that name."""
    if len(set(names)) == 1:
        return names[0]
    prefix = os.path.commonprefix(names).rstrip(" -_.:0123456789")
    return prefix if len(prefix) >= 3 else ""
