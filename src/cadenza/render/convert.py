"""The one entry point, :func:`render`: a music file in, the formats asked for out.

A :class:`_Job` holds one input and the forms derived from it (kern or MusicXML text, a verovio
toolkit, SVG pages, a MIDI performance, a :class:`~cadenza.music.Piece`, a WAV), each made at
most once and shared: a keyboard MIDI file's kern (``hands``) serves SVG, PDF and the kern file
alike; other MIDI goes through music21's MusicXML.
"""

from __future__ import annotations

import base64
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any

from cadenza import CadenzaError
from cadenza.files import read_text
from cadenza.music import Piece, read_midi
from cadenza.render.audio import MAX_AUDIO_SECONDS, encode_audio, wav_from_midi
from cadenza.render.hands import is_keyboard, piano_kern
from cadenza.render.notation import humdrum_from_musicxml, music21_musicxml, read_musicxml
from cadenza.render.pdf import pdf_from_svgs
from cadenza.render.pianoroll import pianoroll_png
from cadenza.render.score import kern_with_header, loaded_toolkit, musicxml_with_header

FORMATS = ("midi", "musicxml", "krn", "svg", "pdf", "wav", "png")
MAX_RENDER_QUARTERS = 50_000  # as the MIDI codecs' limit: longer is a damaged file, not a score
AUDIO_EXTRA = ("flac", "mp3")  # written only when ffmpeg is on PATH
SUFFIXES = {
    ".krn": "krn",
    ".mid": "midi",
    ".midi": "midi",
    ".musicxml": "musicxml",
    ".xml": "musicxml",
    ".mxl": "musicxml",
}


def render(
    path: Path,
    formats: list[str],
    out_dir: Path | None = None,
    title: str | None = None,
    soundfont: Path | None = None,
    *,
    composer: str | None = None,
    prompt_end: float | None = None,
    new: tuple[float, float] | None = None,
    first_bar: int = 1,
    overwrite: bool = True,
) -> dict[str, list[Path]]:
    """Write ``path`` (.krn, .mid/.midi, .musicxml/.xml/.mxl) in each of ``formats`` to ``out_dir``
    (default: beside the input) as ``<stem>.<ext>``; SVG gives one file a page, ``<stem>-1.svg``.

    ``title`` (and ``composer``) replace the score's own in the engraved header and in the kern
    and MusicXML written; ``prompt_end``
    (quarters) shades the prompt in the piano roll, ``new`` (start, end quarters) all but those
    bars (bars rewritten), and ``first_bar`` numbers its bars from there (an excerpt). ``overwrite=False`` refuses (before writing
    anything) when a file it would write exists. A MIDI file lasting more than
    :data:`MAX_RENDER_QUARTERS` or :data:`~cadenza.render.audio.MAX_AUDIO_SECONDS` (a stray
    event hours past the music) is refused rather than engraved or synthesised. Returns ``{format: [paths]}``; "flac"/"mp3"
    are skipped with a warning when ffmpeg is absent. Conversions are done once and shared
    (a keyboard MIDI file's grand-staff kern serves SVG, PDF and kern alike).
    """
    path = Path(path)
    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise CadenzaError(f"{path}: cannot render {path.suffix or 'a file without suffix'} (use .krn, .mid, .midi, .musicxml, .xml or .mxl)")
    unknown = [f for f in formats if f not in FORMATS + AUDIO_EXTRA]
    if unknown:
        raise CadenzaError(f"{path}: unknown format(s) {', '.join(unknown)} (choose from {', '.join(FORMATS + AUDIO_EXTRA)})")
    if not path.is_file():
        raise CadenzaError(f"{path}: no such file")
    out_dir = Path(out_dir) if out_dir is not None else path.parent
    stem = out_dir / path.stem
    if not overwrite:
        taken = [p for p in destinations(stem, formats) if p.exists() and p.resolve() != path.resolve()]
        if taken:
            raise CadenzaError(f"{path}: {taken[0]} exists{f' (and {len(taken) - 1} more)' if len(taken) > 1 else ''}; pass --force to replace, or -o another folder")
    job = _Job(path, kind, title, composer)
    job.first_bar = first_bar
    if kind == "midi":  # read it first: a damaged file fails here with its reason, in every format
        _check_length(path, job.piece())
    out_dir.mkdir(parents=True, exist_ok=True)
    out: dict[str, list[Path]] = {}
    with tempfile.TemporaryDirectory(prefix="cadenza-render-") as tmp:
        job.tmp = Path(tmp)
        for fmt in dict.fromkeys(formats):  # each once, in the order asked
            if fmt == "svg":
                out[fmt] = []
                for i, page in enumerate(job.svgs(), 1):
                    p = stem.parent / f"{stem.name}-{i}.svg"
                    p.write_text(page, encoding="utf-8")
                    out[fmt].append(p)
            elif fmt == "pdf":
                out[fmt] = [pdf_from_svgs(job.svgs(), _named(stem, ".pdf"))]
            elif fmt == "midi":
                out[fmt] = [_copy(job.midi(), _named(stem, ".mid"))]
            elif fmt == "musicxml":
                dest = _named(stem, ".musicxml")
                if dest.resolve() != path.resolve():
                    dest.write_text(musicxml_with_header(job.notation("musicxml"), title, composer), encoding="utf-8")
                out[fmt] = [dest]
            elif fmt == "krn":
                dest = _named(stem, ".krn")
                if dest.resolve() != path.resolve():
                    dest.write_text(kern_with_header(job.notation("krn"), title, composer), encoding="utf-8")
                out[fmt] = [dest]
            elif fmt == "png":
                out[fmt] = [pianoroll_png(job.piece(), _named(stem, ".png"), prompt_end, title or None, new=new, first_bar=first_bar)]
            elif fmt == "wav":
                out[fmt] = [job.wav(_named(stem, ".wav"), soundfont)]
            else:  # flac, mp3
                ffmpeg = shutil.which("ffmpeg")
                if ffmpeg is None:
                    warnings.warn(f"{path}: {fmt} skipped: ffmpeg is not installed", stacklevel=2)
                    continue
                wav = job.wav(job.tmp / "audio.wav", soundfont) if "wav" not in out else out["wav"][0]
                out[fmt] = [encode_audio(ffmpeg, wav, _named(stem, "." + fmt))]
    return out


class _Job:
    """One input and the intermediate forms derived from it, each made at most once."""

    def __init__(self, path: Path, kind: str, title: str | None, composer: str | None):
        self.path, self.kind, self.title, self.composer = path, kind, title, composer
        self.tmp = Path(".")
        self.first_bar = 1  # the number of the first bar engraved (an excerpt's)
        self._text: dict[str, str] = {}
        self._tk: Any = None
        self._svgs: list[str] | None = None
        self._midi: Path | None = None
        self._piece: Piece | None = None
        self._wav: Path | None = None

    def notation(self, fmt: str) -> str:
        """The input as kern or MusicXML text (converting if need be), without the new title."""
        if fmt in self._text:
            return self._text[fmt]
        if self.kind == "krn" and fmt == "krn":
            text = read_text(self.path, "kern")
        elif self.kind == "musicxml" and fmt == "musicxml":
            text = read_musicxml(self.path)
        elif fmt == "musicxml" and self.kind == "krn":
            text = music21_musicxml(self.path, self.notation("krn"), "humdrum")
        elif fmt == "musicxml":  # MIDI: music21 quantises and spells it
            text = music21_musicxml(self.path, self.path, "midi", self.title or self.path.stem)
        elif self.kind == "midi" and self.keyboard():  # a grand staff, hands split (hands.py)
            text = piano_kern(self.piece(), where=str(self.path), first_bar=self.first_bar)
        else:  # kern from MusicXML (or other MIDI via MusicXML): verovio's musicxml2hum
            text = humdrum_from_musicxml(self.notation("musicxml"), self.path)
        self._text[fmt] = text
        return text

    def toolkit(self):
        if self._tk is None:
            fmt = "krn" if self.kind == "krn" or (self.kind == "midi" and self.keyboard()) else "musicxml"
            try:
                self._tk = loaded_toolkit(self.notation(fmt), fmt, self.title, self.composer)
            except CadenzaError as exc:  # name the file once (reading it already may have)
                msg = str(exc)
                raise CadenzaError(msg if msg.startswith(f"{self.path}: ") else f"{self.path}: {msg}") from None
        return self._tk

    def svgs(self) -> list[str]:
        if self._svgs is None:
            tk = self.toolkit()
            self._svgs = [tk.renderToSVG(i) for i in range(1, tk.getPageCount() + 1)]
        return self._svgs

    def midi(self) -> Path:
        """A MIDI file: the input itself, or verovio's performance of the notation."""
        if self._midi is None:
            if self.kind == "midi":
                self._midi = self.path
            else:
                data = base64.b64decode(self.toolkit().renderToMIDI())
                self._midi = self.tmp / "performance.mid"
                self._midi.write_bytes(data)
        return self._midi

    def keyboard(self) -> bool:
        """Whether a MIDI input is keyboard music, engraved as a grand staff through kern."""
        return is_keyboard(self.piece())

    def piece(self) -> Piece:
        if self._piece is None:
            self._piece = read_midi(self.midi())
            if self.kind != "midi":
                self._piece.name = self.path.stem
        return self._piece

    def wav(self, dest: Path, soundfont: Path | None) -> Path:
        if self._wav is None:
            midi = self.midi()
            try:
                self._wav = wav_from_midi(midi, dest, soundfont)
            except CadenzaError as exc:  # name the user's file, not our temporary MIDI
                raise CadenzaError(str(exc).replace(str(midi), str(self.path))) from None
        elif self._wav != dest:
            _copy(self._wav, dest)
            return dest
        return self._wav


def destinations(stem: Path, formats: list[str]) -> list[Path]:
    """The files :func:`render` would write for ``formats`` (SVG: the first page's)."""
    suffix = {"midi": ".mid", "svg": "-1.svg"}
    return [_named(stem, suffix.get(f, "." + f)) for f in dict.fromkeys(formats)]


def _check_length(path: Path, piece: Piece) -> None:
    """Refuse a MIDI file whose music (or one stray event) lasts hours: engraving or synthesising
    it would fill the memory with empty bars or silence."""
    quarters = piece.end
    seconds = piece.seconds(quarters)
    if quarters > MAX_RENDER_QUARTERS or seconds > MAX_AUDIO_SECONDS:
        raise CadenzaError(f"{path}: its last note ends {quarters:,.0f} quarter notes ({seconds / 3600:.1f} hours) in, more than render takes "
                           f"({MAX_RENDER_QUARTERS:,} quarters, {MAX_AUDIO_SECONDS / 3600:.0f} hour): a stray event far past the music?")


def _named(stem: Path, suffix: str) -> Path:
    """``stem`` + ``suffix``; unlike ``with_suffix``, keeps dots in names such as ``bwv66.6``."""
    return stem.parent / (stem.name + suffix)


def _copy(src: Path, dest: Path) -> Path:
    if Path(src).resolve() != Path(dest).resolve():
        shutil.copyfile(src, dest)
    return dest
