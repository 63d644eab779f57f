"""Audio: MIDI -> a SoundFont synthesiser -> WAV (and FLAC/MP3 through ffmpeg when it is there).

The synthesiser is TinySoundFont (``pip install --no-deps tinysoundfont``; its declared
``pyaudio`` dependency is for live playback, which we never use, and needs portaudio headers to
build). It renders ~100x faster than real time. The default SoundFont is the 6 MB General MIDI
``TimGM6mb.sf2`` shipped inside pretty_midi's wheel, so a plain pip install brings a complete
instrument set. symusic 0.6's own ``Synthesizer.render`` was tried first and fails converting its
result (nanobind Eigen return type) with numpy 2.3 and 2.4 alike; FluidSynth needs a system
library.
"""

from __future__ import annotations

import io
import os
import subprocess
import wave
from pathlib import Path
from typing import Any

import numpy as np

from cadenza import CadenzaError
from cadenza.files import one_line

SAMPLE_RATE = 44100
PEAK_DBFS = -1.0
RELEASE_TAIL_S = 1.0  # longest release kept after the last MIDI event
SOUNDFONT_ENV = "CADENZA_SOUNDFONT"


def default_soundfont() -> Path:
    """``$CADENZA_SOUNDFONT`` if set, else the General MIDI SoundFont inside pretty_midi's wheel
    (found without importing pretty_midi)."""
    env = os.environ.get(SOUNDFONT_ENV)
    if env:
        return Path(env)
    import importlib.util

    spec = importlib.util.find_spec("pretty_midi")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        sf = Path(folder) / "TimGM6mb.sf2"
        if sf.is_file():
            return sf
    raise CadenzaError(f"no SoundFont: pip install pretty_midi (it ships TimGM6mb.sf2), set ${SOUNDFONT_ENV}, or pass soundfont=PATH")


def wav_from_midi(midi_path: Path, wav_path: Path, soundfont: Path | None = None) -> Path:
    """Synthesise ``midi_path`` to a 44.1 kHz 16-bit stereo WAV, peak-normalised to -1 dBFS.

    Events are fed to TinySoundFont by our own loop rather than its Sequencer (whose queue is
    rescanned on every step), which also lets us play the sustain pedal (CC64): TinySoundFont
    ignores it, so note-offs under a held pedal are delayed to the pedal's release here.
    SMPTE-timed files are not supported (mido raises).
    The file lasts as long as the MIDI file (mido's length) plus the release, at most 1 s more.
    Raises :class:`CadenzaError` for an unreadable file or one with no notes.
    """
    midi_path, wav_path = Path(midi_path), Path(wav_path)
    try:
        import tinysoundfont
    except ImportError:
        raise CadenzaError(f"{wav_path}: audio needs TinySoundFont: pip install --no-deps tinysoundfont") from None
    try:
        data = midi_path.read_bytes()
    except OSError as exc:
        raise CadenzaError(f"{midi_path}: cannot read ({exc.strerror or exc})") from None
    if not data.startswith(b"MThd"):
        raise CadenzaError(f"{midi_path}: not a MIDI file (no MThd header)")
    try:
        import mido

        midi = mido.MidiFile(file=io.BytesIO(data))
        timeline = _timeline(midi)
        length_s = float(midi.length)  # to the last event of any kind: a final rest counts
    except Exception as exc:  # mido raises OSError, EOFError, ValueError, KeyError...
        raise CadenzaError(f"{midi_path}: corrupt MIDI ({one_line(exc)})") from None
    if not any(kind == "on" for _, kind, *_ in timeline):
        raise CadenzaError(f"{midi_path}: no notes to play")

    sf = Path(soundfont) if soundfont is not None else default_soundfont()
    synth = tinysoundfont.Synth(samplerate=SAMPLE_RATE)
    try:
        sfid = synth.sfload(str(sf))
    except Exception as exc:
        raise CadenzaError(f"{sf}: not a usable SoundFont ({one_line(exc)})") from None
    for ch in range(16):  # piano everywhere, drum kit on channel 10, until a program change
        _program(synth, ch, 0, sfid)

    end_s = max(timeline[-1][0], length_s)
    total = int(np.ceil((end_s + RELEASE_TAIL_S) * SAMPLE_RATE)) + 1
    audio = np.zeros((total, 2), dtype=np.float32)
    raw = memoryview(audio).cast("B")
    frame_bytes = 2 * 4
    cursor = 0
    for t, kind, ch, a, b in timeline:
        at = min(int(round(t * SAMPLE_RATE)), total)
        if at > cursor:
            synth.generate_simple(at - cursor, buffer=raw[cursor * frame_bytes : at * frame_bytes])
            cursor = at
        if kind == "on":
            synth.noteon(ch, a, b)
        elif kind == "off":
            synth.noteoff(ch, a)
        elif kind == "cc":
            synth.control_change(ch, a, b)
        elif kind == "program":
            _program(synth, ch, a, sfid)
        elif kind == "bend":
            synth.pitchbend(ch, a)
    if total > cursor:
        synth.generate_simple(total - cursor, buffer=raw[cursor * frame_bytes :])

    peak = max(float(audio.max()), -float(audio.min()))
    if peak <= 0.0:
        raise CadenzaError(f"{midi_path}: no notes to play (the SoundFont gave silence)")
    # Cut the release where it falls below -80 dB of the peak (inaudible), never before the end.
    end_i = min(int(round(end_s * SAMPLE_RATE)), total)
    tail = np.maximum(np.abs(audio[end_i:, 0]), np.abs(audio[end_i:, 1]))
    loud = np.flatnonzero(tail > peak * 1e-4)
    audio = audio[: end_i + (int(loud[-1]) + 1 if loud.size else 0)]
    gain = 10 ** (PEAK_DBFS / 20) / peak
    pcm = np.clip(np.round(audio * (gain * 32767.0)), -32768, 32767).astype("<i2")
    wav_path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(wav_path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes(pcm.tobytes())
    return wav_path


def _program(synth: Any, ch: int, program: int, sfid: int) -> None:
    """Select a General MIDI program; a preset missing from the SoundFont falls back to piano."""
    drums = ch == 9
    try:
        synth.program_change(ch, program, drums)
    except Exception:
        try:
            synth.program_select(ch, sfid, 0, 128 if drums else 0)
        except Exception:
            pass


def _timeline(midi: Any) -> list[tuple[float, str, int, int, int]]:
    """A ``mido.MidiFile``'s channel events as (seconds, kind, channel, a, b), with the sustain
    pedal applied: a key released while CC64 is down sounds on until the pedal lifts.

    mido, not TinySoundFont's loader, does the timing: the latter rounds each tempo change to a
    millisecond and drifts (0.8 s over a piano-midi.de movement that changes tempo 1,680 times).
    Every note-on keeps exactly one note-off: TinySoundFont releases one instance of a key per
    note-off (the oldest), so a re-struck key under the pedal needs both of its offs."""
    out: list[tuple[float, str, int, int, int]] = []
    pedal: dict[int, bool] = {}
    pending: dict[int, list[int]] = {}
    t = 0.0
    for msg in midi:  # merged tracks, delta times in seconds through the tempo map
        t += msg.time
        kind = msg.type
        if kind == "note_on" and msg.velocity > 0:
            out.append((t, "on", msg.channel, msg.note, msg.velocity))
        elif kind in ("note_on", "note_off"):
            if pedal.get(msg.channel):
                pending.setdefault(msg.channel, []).append(msg.note)
            else:
                out.append((t, "off", msg.channel, msg.note, 0))
        elif kind == "control_change" and msg.control == 64:
            down = msg.value >= 64
            if pedal.get(msg.channel) and not down:
                out.extend((t, "off", msg.channel, key, 0) for key in pending.pop(msg.channel, []))
            pedal[msg.channel] = down
        elif kind == "control_change":
            out.append((t, "cc", msg.channel, msg.control, msg.value))
        elif kind == "program_change":
            out.append((t, "program", msg.channel, msg.program, 0))
        elif kind == "pitchwheel":
            out.append((t, "bend", msg.channel, msg.pitch + 8192, 0))
    t_end = out[-1][0] if out else 0.0
    for ch, keys in pending.items():  # pedal never lifted: let the notes go at the end
        out.extend((t_end, "off", ch, key, 0) for key in keys)
    return out


def encode_audio(ffmpeg: str, wav: Path, dest: Path) -> Path:
    """``wav`` as FLAC or MP3 (192 kbit/s), by ``dest``'s suffix."""
    cmd = [ffmpeg, "-v", "error", "-y", "-i", str(wav)]
    cmd += ["-b:a", "192k"] if dest.suffix == ".mp3" else []
    res = subprocess.run(cmd + [str(dest)], capture_output=True, text=True)
    if res.returncode != 0:
        raise CadenzaError(f"{dest}: ffmpeg failed ({one_line(Exception(res.stderr))})")
    return dest
