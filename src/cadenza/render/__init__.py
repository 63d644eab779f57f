"""Make every piece viewable and audible: engraved score (SVG, PDF), audio (WAV), piano roll (PNG).

What lives here, one route a file (each file's docstring says why its route was chosen):

* ``convert``: :func:`render`, the one entry point: a .krn/.mid/.musicxml/.mxl file in, the
  formats asked for out, each intermediate form made at most once.
* ``notation``: the input as kern or MusicXML text (music21 for MIDI and kern -> MusicXML,
  verovio's musicxml2hum for MusicXML -> kern).
* ``score``: engraving with verovio: SVG pages, and the title/composer put into kern and
  MusicXML headers.
* ``pdf``: SVG pages -> one PDF through cairosvg.
* ``audio``: MIDI -> WAV with a SoundFont (TinySoundFont); FLAC/MP3 through ffmpeg.
* ``pianoroll``: a piano-roll PNG drawn with matplotlib (the prompt or all but rewritten bars shaded).
* ``hands``: keyboard music from a MIDI file as a grand staff (hands split by register, clefs
  and ottavas that follow it) through the kern writer, which is how a MIDI file is engraved.
* ``excerpt``: the bars a continuation or rewrite added, with a few bars of context.
* ``tokens``: a sample's token text -> a music file, through the codec of the run that wrote it.

Floor 8 (beside ``evaluation/``): may import ``cadenza.files``, ``music/``, ``codecs/`` and
``generation/``; never ``cli/``.
"""

from __future__ import annotations

from cadenza.render.audio import SAMPLE_RATE, SOUNDFONT_ENV, default_soundfont, wav_from_midi
from cadenza.render.convert import AUDIO_EXTRA, FORMATS, SUFFIXES, render
from cadenza.render.pdf import pdf_from_svgs
from cadenza.render.pianoroll import note_name, pianoroll_png
from cadenza.render.score import VEROVIO_OPTIONS, svg_pages
from cadenza.render.tokens import tokens_to_file

__all__ = [
    "AUDIO_EXTRA",
    "FORMATS",
    "SAMPLE_RATE",
    "SOUNDFONT_ENV",
    "SUFFIXES",
    "VEROVIO_OPTIONS",
    "default_soundfont",
    "note_name",
    "pdf_from_svgs",
    "pianoroll_png",
    "render",
    "svg_pages",
    "tokens_to_file",
    "wav_from_midi",
]
