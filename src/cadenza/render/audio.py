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
import tempfile
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
MAX_AUDIO_SECONDS = 3600.0  # longer is a stray event far past the music, not a piece to hear
BLOCK_FRAMES = SAMPLE_RATE * 10  # synthesised and written 10 s at a time


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
    The file lasts as long as the MIDI file (mido's length) plus the release, at most 1 s more;
    a file lasting over :data:`MAX_AUDIO_SECONDS` is refused. Memory stays one 10 s block however
    long the piece: samples go to a temporary file and are normalised on the way back.
    Raises :class:`CadenzaError` for an unreadable file or one with no notes.
    """
    midi_path, wav_path = Path(midi_path), Path(wav_path)
    try:
        import tinysoundfont
    except ImportError:
        raise CadenzaError(f"{wav_path}: audio needs TinySoundFont: pip install --no-deps tinysoundfont==0.3.7") from None
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

    end_s = max(timeline[-1][0], length_s)
    if end_s > MAX_AUDIO_SECONDS:
        raise CadenzaError(f"{midi_path}: lasts {_clock(end_s)}, longer than audio is made for ({_clock(MAX_AUDIO_SECONDS)}): a stray event far past the music?")
    sf = Path(soundfont) if soundfont is not None else default_soundfont()
    synth = tinysoundfont.Synth(samplerate=SAMPLE_RATE)
    try:
        sfid = synth.sfload(str(sf))
    except Exception as exc:
        raise CadenzaError(f"{sf}: not a usable SoundFont ({one_line(exc)})") from None
    for ch in range(16):  # piano everywhere, drum kit on channel 10, until a program change
        _program(synth, ch, 0, sfid)

    end_i = int(round(end_s * SAMPLE_RATE))
    total = int(np.ceil((end_s + RELEASE_TAIL_S) * SAMPLE_RATE)) + 1
    with tempfile.TemporaryFile(prefix="cadenza-audio-") as body:
        sink = _Sink(synth, body, end_i, total)
        for t, kind, ch, a, b in timeline:
            sink.play_to(min(int(round(t * SAMPLE_RATE)), total))
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
        sink.play_to(total)
        peak = sink.peak
        if peak <= 0.0:
            raise CadenzaError(f"{midi_path}: no notes to play (the SoundFont gave silence)")
        # Cut the release where it falls below -80 dB of the peak (inaudible), never before the end.
        tail = sink.tail
        loud = np.flatnonzero(np.maximum(np.abs(tail[:, 0]), np.abs(tail[:, 1])) > peak * 1e-4)
        tail = tail[: int(loud[-1]) + 1 if loud.size else 0]
        gain = 10 ** (PEAK_DBFS / 20) / peak * 32767.0
        wav_path.parent.mkdir(parents=True, exist_ok=True)
        body.seek(0)
        with wave.open(str(wav_path), "wb") as w:
            w.setnchannels(2)
            w.setsampwidth(2)
            w.setframerate(SAMPLE_RATE)
            while True:  # the body back from disk a block at a time: memory stays one block
                block = np.frombuffer(body.read(BLOCK_FRAMES * 8), dtype=np.float32)
                if not block.size:
                    break
                w.writeframes(_pcm(block, gain))
            w.writeframes(_pcm(tail.reshape(-1), gain))
    return wav_path


class _Sink:
    """Where synthesised frames go: up to ``end_i`` (the last event) into the ``body`` file on
    disk, a block at a time, the release after it into memory (at most ``RELEASE_TAIL_S``). So a
    long piece needs one block of memory, not its whole length as floats, and the peak for
    normalising is known when the last frame is made."""

    def __init__(self, synth: Any, body: Any, end_i: int, total: int):
        self.synth, self.body, self.end_i, self.total = synth, body, end_i, total
        self.cursor = 0
        self.peak = 0.0
        self.block = np.zeros((BLOCK_FRAMES, 2), dtype=np.float32)
        self.tail = np.zeros((total - end_i, 2), dtype=np.float32)

    def play_to(self, at: int) -> None:
        while self.cursor < at:
            if self.cursor >= self.end_i:  # the release: straight into its buffer
                lo = self.cursor - self.end_i
                view = self.tail[lo : at - self.end_i]
                self.synth.generate_simple(len(view), buffer=memoryview(view).cast("B"))
                self.peak = max(self.peak, float(np.abs(view).max(initial=0.0)))
                self.cursor = at
                continue
            n = min(at, self.end_i, self.cursor + BLOCK_FRAMES) - self.cursor
            view = self.block[:n]
            view.fill(0.0)
            self.synth.generate_simple(n, buffer=memoryview(view).cast("B"))
            self.peak = max(self.peak, float(np.abs(view).max(initial=0.0)))
            self.body.write(view.tobytes())
            self.cursor += n


def _pcm(samples: np.ndarray, gain: float) -> bytes:
    return np.clip(np.round(samples * gain), -32768, 32767).astype("<i2").tobytes()


def _clock(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


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
