"""Single piano notes from the SoundFont the WAVs are made with, for the page to play live.

The page's on-screen piano, jam replies and player sound through Web Audio; a few notes of the
SoundFont's piano (every :data:`STEP` semitones, held :data:`SECONDS`), pitch-shifted there by at
most a semitone, make them sound as the rendered WAV does rather than as oscillators (issue #23).
Each note is synthesised by TinySoundFont as :func:`cadenza.render.audio.wav_from_midi` does it,
at the SoundFont's own level (no per-note normalising: the registers keep their balance).
"""

from __future__ import annotations

import io
import wave
from functools import lru_cache
from pathlib import Path

import numpy as np

from cadenza import CadenzaError
from cadenza.files import one_line

RATE = 22050  # a piano note needs no more for a page; half the bytes of 44.1 kHz
SECONDS = 3.0  # held this long; the page releases it sooner with its own envelope
STEP = 3  # a sample every minor third: the page shifts a note at most a semitone
LOW, HIGH = 21, 108  # the piano's keys, A0 to C8
PITCHES = (*range(LOW + 1, HIGH, STEP), HIGH)  # 22, 25, ... 106, 108: every key is at most a semitone from one
FADE_S = 0.05  # the last moments faded out, so a note left to ring ends without a click
GAIN = 4.0  # TinySoundFont's piano peaks near -20 dBFS at velocity 100; one gain for every note


def nearest(pitch: int) -> int:
    """The sampled pitch a key is played from."""
    return min(PITCHES, key=lambda p: (abs(p - pitch), p))


@lru_cache(maxsize=None)
def piano_note(pitch: int, velocity: int = 100, soundfont: Path | None = None) -> bytes:
    """A WAV (mono, 16-bit, :data:`RATE` Hz) of the General MIDI piano striking ``pitch`` at
    ``velocity`` and holding it :data:`SECONDS`. Cached: each is made once per process.
    Raises :class:`CadenzaError` for a pitch outside the keyboard or no usable SoundFont."""
    from cadenza.render.audio import default_soundfont

    if not LOW <= pitch <= HIGH:
        raise CadenzaError(f"pitch {pitch}: a piano note is {LOW}-{HIGH}")
    try:
        import tinysoundfont
    except ImportError:
        raise CadenzaError("piano samples need TinySoundFont: pip install --no-deps tinysoundfont==0.3.7") from None
    sf = Path(soundfont) if soundfont is not None else default_soundfont()
    synth = tinysoundfont.Synth(samplerate=RATE)
    try:
        synth.program_select(0, synth.sfload(str(sf)), 0, 0)
    except Exception as exc:
        raise CadenzaError(f"{sf}: not a usable SoundFont ({one_line(exc)})") from None
    frames = np.zeros((int(SECONDS * RATE), 2), dtype=np.float32)
    synth.noteon(0, pitch, velocity)
    synth.generate_simple(len(frames), buffer=memoryview(frames).cast("B"))
    mono = frames.mean(axis=1)
    fade = int(FADE_S * RATE)
    mono[-fade:] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(np.clip(np.round(mono * GAIN * 32767), -32768, 32767).astype("<i2").tobytes())
    return out.getvalue()
