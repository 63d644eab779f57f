"""Make every piece viewable and audible: engraved score (SVG, PDF), audio (WAV), piano roll (PNG).

Routes, and why each was chosen:

* **Engraving** goes through verovio, which reads **kern and MusicXML natively (no music21
  round trip, ~2 s for a 100-bar sonata movement) and engraves as well as a notation program.
  MIDI carries no notation, so a MIDI file goes MIDI -> music21 (quantised) -> MusicXML first;
  that step is music21's pace (~0.5 s for a short generated piece, ~25 s for a 2,700-note
  movement). Kern from MusicXML is verovio's musicxml2hum, in a child process because it can
  crash (it does on music21's MusicXML of piano-midi.de files: then a CadenzaError).
* **PDF**: verovio writes only SVG. Its pages go to one PDF through cairosvg, on the cairo library
  that Debian's python images already carry (libcairo2); nothing else is needed from the system.
  svglib + reportlab (pure Python) were tried and rejected: 2x slower and they drop
  ``text-anchor``, so centred titles land off the page. See :func:`pdf_from_svgs`.
* **Audio**: a SoundFont synthesiser, TinySoundFont (``pip install --no-deps tinysoundfont``; its
  declared ``pyaudio`` dependency is for live playback, which we never use, and needs portaudio
  headers to build). It renders ~100x faster than real time. The default SoundFont is the 6 MB
  General MIDI ``TimGM6mb.sf2`` shipped inside pretty_midi's wheel, so a plain pip install brings
  a complete instrument set. symusic 0.6's own ``Synthesizer.render`` was tried first and fails
  converting its result (nanobind Eigen return type) with numpy 2.3 and 2.4 alike; FluidSynth
  needs a system library. See :func:`wav_from_midi`.
* **Piano roll**: matplotlib's Agg canvas directly (no pyplot state), fixed size, so it is
  deterministic and thread-safe.
"""

from __future__ import annotations

import base64
import copy
import io
import os
import shutil
import subprocess
import tempfile
import warnings
import wave
import zipfile
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import numpy as np

from cadenza import CadenzaError
from cadenza.music import Piece, read_midi

FORMATS = ("midi", "musicxml", "krn", "svg", "pdf", "wav", "png")
AUDIO_EXTRA = ("flac", "mp3")  # written only when ffmpeg is on PATH
SUFFIXES = {
    ".krn": "krn",
    ".mid": "midi",
    ".midi": "midi",
    ".musicxml": "musicxml",
    ".xml": "musicxml",
    ".mxl": "musicxml",
}
SAMPLE_RATE = 44100
PEAK_DBFS = -1.0
RELEASE_TAIL_S = 1.0  # longest release kept after the last MIDI event
SOUNDFONT_ENV = "CADENZA_SOUNDFONT"

# A4 in verovio units (tenths of a mm) at 40% scale -> 840 x 1188 px pages, ~7 systems of piano.
VEROVIO_OPTIONS = {
    "pageWidth": 2100,
    "pageHeight": 2970,
    "scale": 40,
    "header": "auto",
    "footer": "none",
    "breaks": "auto",
    "svgFormatRaw": True,
}
PAGE_WIDTH_MM = 210.0


# ----------------------------------------------------------------------------------------------
# The one entry point


def render(
    path: Path,
    formats: list[str],
    out_dir: Path | None = None,
    title: str | None = None,
    soundfont: Path | None = None,
    *,
    composer: str | None = None,
    prompt_end: float | None = None,
) -> dict[str, list[Path]]:
    """Write ``path`` (.krn, .mid/.midi, .musicxml/.xml/.mxl) in each of ``formats`` to ``out_dir``
    (default: beside the input) as ``<stem>.<ext>``; SVG gives one file a page, ``<stem>-1.svg``.

    ``title`` (and ``composer``) replace the score's own in the engraved header and in the kern
    and MusicXML written; ``prompt_end``
    (quarters) shades the prompt in the piano roll. Returns ``{format: [paths]}``; "flac"/"mp3"
    are skipped with a warning when ffmpeg is absent. Conversions are done once and shared
    (a MIDI file's MusicXML serves SVG, PDF and kern alike).
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
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = out_dir / path.stem
    job = _Job(path, kind, title, composer)
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
                    dest.write_text(_musicxml_with_header(job.notation("musicxml"), title, composer), encoding="utf-8")
                out[fmt] = [dest]
            elif fmt == "krn":
                dest = _named(stem, ".krn")
                if dest.resolve() != path.resolve():
                    dest.write_text(_kern_with_header(job.notation("krn"), title, composer), encoding="utf-8")
                out[fmt] = [dest]
            elif fmt == "png":
                out[fmt] = [pianoroll_png(job.piece(), _named(stem, ".png"), prompt_end, title or None)]
            elif fmt == "wav":
                out[fmt] = [job.wav(_named(stem, ".wav"), soundfont)]
            else:  # flac, mp3
                ffmpeg = shutil.which("ffmpeg")
                if ffmpeg is None:
                    warnings.warn(f"{path}: {fmt} skipped: ffmpeg is not installed", stacklevel=2)
                    continue
                wav = job.wav(job.tmp / "audio.wav", soundfont) if "wav" not in out else out["wav"][0]
                out[fmt] = [_encode_audio(ffmpeg, wav, _named(stem, "." + fmt))]
    return out


class _Job:
    """One input and the intermediate forms derived from it, each made at most once."""

    def __init__(self, path: Path, kind: str, title: str | None, composer: str | None):
        self.path, self.kind, self.title, self.composer = path, kind, title, composer
        self.tmp = Path(".")
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
            text = _read_text(self.path)
        elif self.kind == "musicxml" and fmt == "musicxml":
            text = _read_musicxml(self.path)
        elif fmt == "musicxml" and self.kind == "krn":
            text = _music21_musicxml(self.path, self.notation("krn"), "humdrum")
        elif fmt == "musicxml":  # MIDI: music21 quantises and spells it
            text = _music21_musicxml(self.path, self.path, "midi", self.title or self.path.stem)
        else:  # kern from MusicXML (or MIDI via MusicXML): verovio's musicxml2hum
            text = _humdrum_from_musicxml(self.notation("musicxml"), self.path)
        self._text[fmt] = text
        return text

    def toolkit(self):
        if self._tk is None:
            fmt = "krn" if self.kind == "krn" else "musicxml"
            try:
                self._tk = _loaded_toolkit(self.notation(fmt), fmt, self.title, self.composer)
            except CadenzaError as exc:
                raise CadenzaError(f"{self.path}: {exc}") from None
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


def _named(stem: Path, suffix: str) -> Path:
    """``stem`` + ``suffix``; unlike ``with_suffix``, keeps dots in names such as ``bwv66.6``."""
    return stem.parent / (stem.name + suffix)


def _copy(src: Path, dest: Path) -> Path:
    if Path(src).resolve() != Path(dest).resolve():
        shutil.copyfile(src, dest)
    return dest


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CadenzaError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if not data.strip():
        raise CadenzaError(f"{path}: empty file")
    for enc in ("utf-8", "latin-1"):  # older kern files are Latin-1
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes any bytes")


def _read_musicxml(path: Path) -> str:
    """MusicXML text from .musicxml/.xml, or from the root file inside a compressed .mxl."""
    if path.suffix.lower() != ".mxl":
        return _read_text(path)
    try:
        with zipfile.ZipFile(path) as z:
            names = [n for n in z.namelist() if not n.startswith("META-INF/")]
            root = None
            if "META-INF/container.xml" in z.namelist():
                container = ET.fromstring(z.read("META-INF/container.xml"))
                found = container.find(".//{*}rootfile")
                root = found.get("full-path") if found is not None else None
            root = root or next((n for n in names if n.lower().endswith((".xml", ".musicxml"))), None)
            if root is None:
                raise CadenzaError(f"{path}: no MusicXML inside the .mxl archive")
            return z.read(root).decode("utf-8")
    except (zipfile.BadZipFile, KeyError, ET.ParseError, UnicodeDecodeError, OSError) as exc:
        raise CadenzaError(f"{path}: not a readable .mxl archive ({_one_line(exc)})") from None


def _music21_musicxml(path: Path, source: Any, fmt: str, title: str | None = None) -> str:
    """MusicXML written by music21 from kern text or a MIDI file (quantised to 16ths/triplets)."""
    from music21 import converter, metadata
    from music21.musicxml.m21ToXml import GeneralObjectExporter

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if fmt == "midi":
                score = converter.parse(str(source), format="midi", quantizePost=True)
                _tidy_midi_score(score)
            else:
                score = converter.parse(source, format=fmt)
            if title:
                score.metadata = score.metadata or metadata.Metadata()
                score.metadata.title = title
            data = GeneralObjectExporter(score).parse()
    except Exception as exc:  # music21 raises many kinds, all meaning "cannot read this"
        raise CadenzaError(f"{path}: music21 cannot convert it to MusicXML ({_one_line(exc)})") from None
    return data.decode("utf-8")


def _tidy_midi_score(score: Any) -> None:
    """Notation from a performance: drop the tempo marks (a MIDI file may change tempo every
    beat, and each would be printed) and brace a keyboard's two hands into one grand staff."""
    from music21 import layout, tempo

    for mark in list(score.recurse().getElementsByClass(tempo.MetronomeMark)):
        mark.activeSite.remove(mark)
    parts = list(score.parts)
    names = [(p.partName or "").lower() for p in parts]
    if len(parts) == 2 and all(("piano" in n or "keyboard" in n) for n in names):
        score.insert(0, layout.StaffGroup(parts, symbol="brace", barTogether=True))


def _humdrum_from_musicxml(text: str, path: Path) -> str:
    """Kern via verovio's musicxml2hum, run in a child process: verovio 6.4 crashes (SIGSEGV)
    on some music21-written MusicXML, and a crash must not take the caller (a server) down."""
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool
    import multiprocessing

    try:
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
            kern = pool.submit(_humdrum_worker, text).result()
    except BrokenProcessPool:
        kern = None
    if not kern:
        raise CadenzaError(f"{path}: verovio cannot convert it to kern")
    return kern


def _humdrum_worker(text: str) -> str | None:
    import verovio

    verovio.enableLog(verovio.LOG_OFF)
    tk = verovio.toolkit()
    tk.setInputFrom("musicxml-hum")
    return tk.getHumdrumBuffer() if tk.loadData(text) else None


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200] or type(exc).__name__


# ----------------------------------------------------------------------------------------------
# Engraving: verovio -> SVG pages -> PDF


def svg_pages(text: str, fmt: str, title: str | None = None, composer: str | None = None) -> list[str]:
    """Engrave kern (``fmt`` "krn"/"kern") or MusicXML ("musicxml") text as SVG pages (A4, one
    string a page). ``title``/``composer`` replace the score's own header lines.
    Raises :class:`CadenzaError` if verovio cannot read the text."""
    tk = _loaded_toolkit(text, fmt, title, composer)
    return [tk.renderToSVG(i) for i in range(1, tk.getPageCount() + 1)]


def _loaded_toolkit(text: str, fmt: str, title: str | None, composer: str | None):
    import verovio

    # verovio prints rhythm warnings about model output to stderr; the score still engraves
    verovio.enableLog(verovio.LOG_OFF)

    fmt = {"kern": "krn", "humdrum": "krn", "xml": "musicxml", "mxl": "musicxml"}.get(fmt, fmt)
    # verovio "loads" anything (even "hello") as an empty page, so check the kind first.
    if fmt == "krn":
        if "**kern" not in text:
            raise CadenzaError("not kern (no **kern spine)")
        # verovio aborts the whole process on some malformed kern (a column count that does not
        # match the spines): check the spine structure first, which raises a CadenzaError
        from cadenza.codecs.kern import clean

        clean(text, "kern")
        text = _kern_with_header(text, title, composer)
        input_from = "humdrum"
    elif fmt == "musicxml":
        if not title and not composer:  # else _musicxml_with_header parses it anyway
            _musicxml_root(text)
        text = _musicxml_with_header(text, title, composer)
        input_from = "musicxml"
    else:
        raise CadenzaError(f"cannot engrave {fmt!r} text (use 'krn' or 'musicxml')")
    verovio.enableLog(verovio.LOG_OFF)  # its warnings about kern expansion lists are noise here
    tk = verovio.toolkit()  # a fresh one per score (6 ms): no state shared between threads
    tk.setOptions(VEROVIO_OPTIONS)
    tk.setInputFrom(input_from)
    if not tk.loadData(text) or tk.getPageCount() < 1:
        raise CadenzaError(f"verovio cannot read it as {'kern' if fmt == 'krn' else 'MusicXML'}")
    first = tk.renderToSVG(1)
    if not any(f'class="{c}' in first for c in ("note", "rest", "mRest", "chord")):
        raise CadenzaError("verovio found no notes or rests in it")
    return tk


def _musicxml_root(text: str) -> ET.Element:
    try:
        root = ET.fromstring(text.encode("utf-8"))
    except ET.ParseError as exc:
        raise CadenzaError(f"not well-formed MusicXML ({_one_line(exc)})") from None
    if root.tag not in ("score-partwise", "score-timewise"):
        raise CadenzaError(f"not MusicXML (root element <{root.tag}>)")
    return root


def _kern_with_header(text: str, title: str | None, composer: str | None) -> str:
    """Kern with ``!!!OTL``/``!!!COM`` reference records (verovio's title and composer) replaced.

    New records go after any leading ``!!!!`` (universal) records: verovio 6.4 crashes on a
    file whose ``!!!!SEGMENT`` line is not first."""
    lines = text.splitlines()
    head = []
    if title:
        lines = [ln for ln in lines if not ln.startswith("!!!OTL")]
        head.append(f"!!!OTL: {title}")
    if composer:
        lines = [ln for ln in lines if not ln.startswith("!!!COM")]
        head.append(f"!!!COM: {composer}")
    if not head:
        return text
    first = 0
    while first < len(lines) and lines[first].startswith("!!!!"):
        first += 1
    return "\n".join(lines[:first] + head + lines[first:]) + "\n"


def _musicxml_with_header(text: str, title: str | None, composer: str | None) -> str:
    """MusicXML with ``work-title`` and the composer ``creator`` set; page-layout ``credit``
    texts (which verovio prefers, and which would repeat the old title) are dropped."""
    if not title and not composer:
        return text
    root = _musicxml_root(text)
    if title:
        for el in root.findall("credit") + root.findall("movement-title"):
            root.remove(el)
        work = root.find("work")
        if work is None:
            work = ET.Element("work")
            root.insert(0, work)
        wt = work.find("work-title")
        if wt is None:
            wt = ET.SubElement(work, "work-title")
        wt.text = title
        mt = ET.Element("movement-title")
        mt.text = title
        root.insert(list(root).index(work) + 1, mt)
    if composer:
        ident = root.find("identification")
        if ident is None:
            ident = ET.Element("identification")
            anchor = root.find("movement-title") if root.find("movement-title") is not None else root.find("work")
            root.insert(list(root).index(anchor) + 1 if anchor is not None else 0, ident)
        for el in ident.findall("creator"):
            if el.get("type") == "composer":
                ident.remove(el)
        creator = ET.Element("creator", {"type": "composer"})
        creator.text = composer
        ident.insert(0, creator)
    return ET.tostring(root, encoding="unicode")


_SVG = "{http://www.w3.org/2000/svg}"
_XLINK = "{http://www.w3.org/1999/xlink}href"
_SHAPES = {_SVG + t for t in ("path", "polygon", "polyline", "ellipse", "rect", "line")}
_BOLD = {"ending", "fing", "reh", "tempo"}  # verovio's own stylesheet, applied as attributes
_ITALIC = {"dir", "dynam", "mNum"}
_SMUFL_FONTS = {"Leipzig", "Bravura", "Gootville", "Leland", "Petaluma"}
# SMuFL note glyphs -> Unicode: whole, half, quarter, 8th, 16th note; augmentation dot
_SMUFL_TEXT = {
    **dict(zip("\ueca2\ueca3\ueca5\ueca7\ueca9\uecb7", "\U0001d15d\U0001d15e\u2669\u266a\U0001d161.")),  # metNote*
    **dict(zip("\ue1d2\ue1d3\ue1d5\ue1d7\ue1d9\ue1e7", "\U0001d15d\U0001d15e\u2669\u266a\U0001d161.")),  # note*
}


def pdf_from_svgs(pages: list[str], pdf_path: Path) -> Path:
    """One A4 PDF page per verovio SVG page, drawn by cairosvg onto a single cairo PDF surface.

    Each page is first flattened: glyph ``<use>`` references are inlined and verovio's small
    stylesheet becomes attributes. cairosvg resolves every ``<use>`` by scanning the whole
    document, so this cuts a 6-page sonata from ~7 s to ~4 s with identical output.
    """
    try:
        import cairocffi
        from cairosvg.parser import Tree
        from cairosvg.surface import PDFSurface
    except (ImportError, OSError) as exc:  # OSError: the cairo C library itself is missing
        raise CadenzaError(f"{pdf_path}: PDF needs cairosvg and the cairo library (pip install cairosvg; Debian: apt-get install libcairo2) ({_one_line(exc)})") from None
    pdf_path = Path(pdf_path)
    if not pages:
        raise CadenzaError(f"{pdf_path}: no pages to write")
    buf = io.BytesIO()
    shared = cairocffi.PDFSurface(buf, 595.0, 842.0)

    class _Page(PDFSurface):  # draws onto the shared surface instead of opening a new file
        def _create_surface(self, width, height):
            shared.set_size(width, height)
            return shared, width, height

    try:  # a fixed date: the same score gives the same bytes (cairo >= 1.16)
        shared.set_metadata(cairocffi.PDF_METADATA_CREATE_DATE, "2000-01-01T00:00:00Z")
        shared.set_metadata(cairocffi.PDF_METADATA_CREATOR, "Cadenza (verovio, cairosvg)")
    except Exception:
        pass
    for svg in pages:
        tree, width_px = _flatten_svg(svg)
        dpi = width_px * 25.4 / PAGE_WIDTH_MM  # the page is A4 whatever verovio's pixel size
        page = _Page(Tree(bytestring=tree), None, dpi)
        page.context.show_page()
    shared.finish()
    pdf_path.write_bytes(buf.getvalue())
    return pdf_path


def _flatten_svg(svg: str) -> tuple[bytes, float]:
    root = ET.fromstring(svg.encode("utf-8"))
    defs = {}
    for d in root.iter(_SVG + "defs"):
        defs.update({g.get("id"): g for g in d})
    width_px = float((root.get("width") or "840").rstrip("px") or 840)

    def walk(el: ET.Element) -> list[ET.Element]:
        kept = []
        for ch in el:
            tag = ch.tag
            if tag in (_SVG + "style", _SVG + "defs", _SVG + "desc"):
                continue
            if tag == _SVG + "use":
                ref = defs.get((ch.get(_XLINK) or ch.get("href") or "").lstrip("#"))
                if ref is not None:
                    g = ET.Element(_SVG + "g", {"transform": ch.get("transform", "")})
                    g.extend(copy.deepcopy(list(ref)))
                    kept.append(g)
                continue
            classes = set((ch.get("class") or "").split())
            if "placeholder" in classes:
                continue
            if classes & _BOLD:
                ch.set("font-weight", "bold")
            if classes & _ITALIC:
                ch.set("font-style", "italic")
            if "label" in classes:
                ch.set("font-weight", "normal")
            ch.attrib.pop("class", None)
            ch.attrib.pop("id", None)
            if tag in _SHAPES and "stroke" not in ch.attrib:
                ch.set("stroke", "currentColor")  # verovio's CSS: shapes stroke in the text colour
            if tag == _SVG + "tspan" and ch.get("font-family") in _SMUFL_FONTS and ch.text:
                # music-font text (a metronome mark's note): cairo has no SMuFL font, so use
                # DejaVu's Unicode notes where they exist rather than print empty boxes
                ch.text = "".join(_SMUFL_TEXT.get(c, c) for c in ch.text)
                ch.set("font-family", "DejaVu Sans, sans-serif")
            children = walk(ch)
            if tag == _SVG + "g" and not ch.attrib:  # a bare group only costs cairosvg time
                kept.extend(children)
                continue
            ch[:] = children
            kept.append(ch)
        return kept

    root[:] = walk(root)
    return ET.tostring(root), width_px


# ----------------------------------------------------------------------------------------------
# Audio: MIDI -> TinySoundFont -> WAV


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
        raise CadenzaError(f"{midi_path}: corrupt MIDI ({_one_line(exc)})") from None
    if not any(kind == "on" for _, kind, *_ in timeline):
        raise CadenzaError(f"{midi_path}: no notes to play")

    sf = Path(soundfont) if soundfont is not None else default_soundfont()
    synth = tinysoundfont.Synth(samplerate=SAMPLE_RATE)
    try:
        sfid = synth.sfload(str(sf))
    except Exception as exc:
        raise CadenzaError(f"{sf}: not a usable SoundFont ({_one_line(exc)})") from None
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


def _encode_audio(ffmpeg: str, wav: Path, dest: Path) -> Path:
    cmd = [ffmpeg, "-v", "error", "-y", "-i", str(wav)]
    cmd += ["-b:a", "192k"] if dest.suffix == ".mp3" else []
    res = subprocess.run(cmd + [str(dest)], capture_output=True, text=True)
    if res.returncode != 0:
        raise CadenzaError(f"{dest}: ffmpeg failed ({_one_line(Exception(res.stderr))})")
    return dest


# ----------------------------------------------------------------------------------------------
# Piano roll


NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")


def note_name(pitch: int) -> str:
    """MIDI 60 -> 'C4' (scientific pitch notation)."""
    return f"{NOTE_NAMES[pitch % 12]}{pitch // 12 - 1}"


def pianoroll_png(
    piece: Piece,
    path: Path,
    prompt_end: float | None = None,
    title: str | None = None,
    size: tuple[float, float] = (12.0, 5.0),
    dpi: int = 100,
) -> Path:
    """Draw ``piece`` as a piano roll PNG of exactly ``size`` x ``dpi`` pixels (1200 x 500).

    Bars along the bottom (from the time signatures), seconds along the top (from the tempo
    map), note names up the side, one colour per track, velocity as opacity. With
    ``prompt_end`` (quarters) the prompt is shaded grey and its notes paled, so what the model
    wrote stands out. Same piece, same bytes.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.collections import PolyCollection
    from matplotlib.colors import to_rgb
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    path = Path(path)
    fig = Figure(figsize=size, dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.07, 0.12, 0.91, 0.74))
    notes = [(n, i) for i, t in enumerate(piece.tracks) for n in t.notes]
    end = max(piece.end, prompt_end or 0.0, 1.0)
    if notes:
        pitches = [n.pitch for n, _ in notes]
        lo, hi = min(pitches), max(pitches)
        pad = max(2, (24 - (hi - lo)) // 2)  # show at least two octaves
        lo, hi = max(lo - pad, 0), min(hi + pad, 127)
    else:
        lo, hi = 48, 72
        ax.text(0.5, 0.5, "no notes", transform=ax.transAxes, ha="center", va="center", color="0.5")

    palette = [to_rgb(f"C{i}") for i in range(10)]
    handles: list[Patch] = []
    for i, track in enumerate(piece.tracks):
        if not track.notes:
            continue
        base = np.array((0.35, 0.35, 0.35) if track.is_drum else palette[i % len(palette)])
        starts = np.array([n.start for n in track.notes])
        durs = np.maximum(np.array([n.duration for n in track.notes]), 0.05)
        ys = np.array([n.pitch for n in track.notes], dtype=float)
        vel = np.clip(np.array([n.velocity for n in track.notes]) / 127.0, 0, 1)
        x0, x1, y0, y1 = starts, starts + durs, ys - 0.42, ys + 0.42
        verts = np.stack([np.stack([x0, y0], 1), np.stack([x1, y0], 1), np.stack([x1, y1], 1), np.stack([x0, y1], 1)], 1)
        rgba = np.empty((len(starts), 4))
        in_prompt = starts < prompt_end if prompt_end is not None else np.zeros(len(starts), bool)
        rgba[:, :3] = np.where(in_prompt[:, None], 0.45 * base + 0.55, base)  # prompt notes paled
        rgba[:, 3] = 0.45 + 0.55 * vel
        ax.add_collection(PolyCollection(verts, facecolors=rgba, edgecolors="none"))
        handles.append(Patch(color=base, label=track.name or f"track {i + 1}"))

    if prompt_end is not None and prompt_end > 0:
        ax.axvspan(0, prompt_end, color="0.9", zorder=0, lw=0)
        ax.axvline(prompt_end, color="0.25", ls="--", lw=1)
        label = {"transform": ax.get_xaxis_transform(), "va": "top", "fontsize": 8, "color": "0.3"}
        ax.text(prompt_end * 0.01, 0.985, " prompt", ha="left", **label)
        if prompt_end < end:
            ax.text(prompt_end, 0.985, " continuation", ha="left", **label)

    ax.set_xlim(0, end)
    ax.set_ylim(lo - 0.5, hi + 0.5)
    bars = _bar_starts(piece, end)
    step = next(s for s in (1, 2, 4, 5, 8, 10, 16, 20, 25, 50, 100, 200, 500, 1000) if len(bars) / s <= 16)
    ax.set_xticks([q for i, q in enumerate(bars) if i % step == 0], [str(i + 1) for i in range(0, len(bars), step)])
    if len(bars) <= 400:  # one LineCollection: per-bar minor ticks cost matplotlib ~1 s
        ax.vlines(bars[1:], 0, 1, transform=ax.get_xaxis_transform(), colors="0.82", lw=0.5, zorder=0.5)
    ax.set_xlabel("bar")
    cs = [p for p in range(lo, hi + 1) if p % 12 == 0]
    labelled = cs if len(cs) >= 2 else [p for p in range(lo, hi + 1) if p % 12 in (0, 4, 7)]
    ax.set_yticks(labelled, [note_name(p) for p in labelled])
    for p in cs:
        ax.axhline(p - 0.5, color="0.8", lw=0.6, zorder=0.5)
    ax.set_ylabel("pitch")

    q_knots, s_knots = _tempo_knots(piece, end)
    top = ax.secondary_xaxis("top", functions=(lambda q: np.interp(q, q_knots, s_knots), lambda s: np.interp(s, s_knots, q_knots)))
    top.set_xlabel("seconds", fontsize=8)
    top.tick_params(labelsize=8)
    if handles:
        ax.legend(handles=handles, loc="upper right", fontsize=8, framealpha=0.85, ncol=min(4, len(handles)))
    heading = title if title is not None else piece.name
    if heading:
        fig.suptitle(heading, fontsize=11, y=0.985)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi, format="png", metadata={"Software": None})
    return path


def _bar_starts(piece: Piece, end: float) -> list[float]:
    """Where each bar begins, in quarters; a new time signature starts a new bar."""
    sigs = sorted(piece.time_signatures) or [(0.0, 4, 4)]
    if sigs[0][0] > 0:
        sigs.insert(0, (0.0, 4, 4))
    bars, q = [], 0.0
    for i, (at, num, den) in enumerate(sigs):
        q = max(q, at)
        nxt = sigs[i + 1][0] if i + 1 < len(sigs) else float("inf")
        length = num * 4.0 / den if num > 0 and den > 0 else 4.0
        while q < min(nxt, end) - 1e-9:
            bars.append(q)
            q += length
        q = min(q, nxt) if nxt < float("inf") else q
    return bars or [0.0]


def _tempo_knots(piece: Piece, end: float) -> tuple[np.ndarray, np.ndarray]:
    """Quarters and seconds at each tempo change (and beyond the end), for interpolation."""
    tempos = sorted(piece.tempos) or [(0.0, 120.0)]
    if tempos[0][0] > 0:
        tempos.insert(0, (0.0, 120.0))
    qs, ss = [0.0], [0.0]
    for i, (at, qpm) in enumerate(tempos):
        nxt = tempos[i + 1][0] if i + 1 < len(tempos) else max(end, at) * 2 + 16
        if nxt > qs[-1]:
            ss.append(ss[-1] + (nxt - max(at, qs[-1])) * 60.0 / max(qpm, 1e-3))
            qs.append(nxt)
    return np.array(qs), np.array(ss)
