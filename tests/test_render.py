"""Rendering: engraved SVG/PDF, synthesised WAV and piano-roll PNG from real scores.

Inputs are music21's bundled corpus (Palestrina kern, a Bach chorale .mxl) and, when present,
../shared (a Mozart sonata movement in kern, a piano-midi.de MIDI file).
"""

from __future__ import annotations

import re
import shutil
import struct
import wave
from pathlib import Path
from xml.etree import ElementTree as ET

import mido
import numpy as np
import pytest

from cadenza import CadenzaError
from cadenza.music import Note, Piece, Track, read_midi, write_midi
from cadenza.render import pianoroll_png, render, svg_pages, wav_from_midi

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
TITLE = "Cadenza (test-model, seed 7)"


def shared(*parts: str) -> Path:
    p = SHARED.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"{p} not present")
    return p


@pytest.fixture(scope="module")
def palestrina_krn() -> Path:
    """The shortest Palestrina movement in music21's corpus (native **kern)."""
    from music21 import corpus

    return min((Path(p) for p in corpus.getComposer("palestrina") if str(p).endswith(".krn")), key=lambda p: p.stat().st_size)


@pytest.fixture(scope="module")
def chorale_mxl() -> Path:
    from music21 import corpus

    return Path(corpus.getWork("bach/bwv66.6"))


# ---------------------------------------------------------------------------------------------
# helpers that read the outputs back


def svg_notes(path: Path) -> int:
    root = ET.parse(path).getroot()  # valid XML or this raises
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    return sum(1 for el in root.iter() if "note" in (el.get("class") or "").split())


def svg_text(path: Path) -> str:
    return " ".join(t for t in ET.parse(path).getroot().itertext() if t.strip())


def pdf_pages(path: Path) -> int:
    data = path.read_bytes()
    assert data.startswith(b"%PDF")
    return len(re.findall(rb"/Type\s*/Page\b(?!s)", data))


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path)) as w:
        assert (w.getnchannels(), w.getsampwidth()) == (2, 2)
        frames = np.frombuffer(w.readframes(w.getnframes()), "<i2").reshape(-1, 2)
        return frames.astype(np.float64) / 32768.0, w.getframerate()


def check_audio(path: Path, expected_s: float) -> np.ndarray:
    audio, rate = read_wav(path)
    assert rate == 44100
    seconds = len(audio) / rate
    assert expected_s - 0.05 <= seconds <= expected_s + 1.05, (seconds, expected_s)
    peak = np.abs(audio).max()
    assert 0.85 <= peak <= 1.0  # normalised to -1 dBFS, never clipped
    assert np.sqrt((audio**2).mean()) > 1e-3
    return audio


def two_hands(bars: int = 4) -> Piece:
    """A C-major figure over a bass, 120 bpm, so 1 bar = 2 s."""
    right = [Note(q * 0.5, 60 + (0, 4, 7, 12)[int(q) % 4], 0.5, 90) for q in range(bars * 8)]
    left = [Note(float(q * 4), 36 + 7 * (q % 2), 4.0, 70) for q in range(bars)]
    return Piece([Track("Right", 0, right), Track("Left", 32, left)], name="two hands")


# ---------------------------------------------------------------------------------------------
# engraving


def test_kern_to_svg_and_pdf_with_title(tmp_path, palestrina_krn):
    out = render(palestrina_krn, ["svg", "pdf"], tmp_path, title=TITLE)
    svgs = out["svg"]
    assert svgs and all(p.name == f"{palestrina_krn.stem}-{i}.svg" for i, p in enumerate(svgs, 1))
    assert sum(svg_notes(p) for p in svgs) > 20
    assert TITLE in svg_text(svgs[0])
    assert pdf_pages(out["pdf"][0]) == len(svgs)


def test_svg_pages_from_text_sets_title_and_composer():
    kern = "!!!OTL: Old title\n**kern\n*M4/4\n=1\n4c\n4e\n4g\n4cc\n==\n*-\n"
    pages = svg_pages(kern, "krn", title="New title", composer="Nobody")
    assert len(pages) == 1
    root = ET.fromstring(pages[0])
    assert sum(1 for el in root.iter() if el.get("class") == "note") == 4
    text = " ".join(root.itertext())
    assert "New title" in text and "Nobody" in text and "Old title" not in text


def test_musicxml_chorale_everything(tmp_path, chorale_mxl):
    out = render(chorale_mxl, ["svg", "midi", "krn", "png", "wav"], tmp_path, title=TITLE)
    assert svg_notes(out["svg"][0]) > 50 and TITLE in svg_text(out["svg"][0])
    assert out["krn"][0].name == "bwv66.6.krn"  # the dot in the name survives
    kern = out["krn"][0].read_text()
    assert kern.startswith(f"!!!OTL: {TITLE}\n**kern") and kern.count("**kern") == 4
    piece = read_midi(out["midi"][0])
    assert len(piece.notes) > 100
    assert png_size(out["png"][0]) == (1200, 500)
    check_audio(out["wav"][0], mido.MidiFile(out["midi"][0]).length)


def test_midi_input_is_engraved_via_musicxml(tmp_path):
    midi = write_midi(two_hands(), tmp_path / "hands.mid")
    out = render(midi, ["svg", "musicxml", "midi"], tmp_path / "out", title=TITLE)
    assert svg_notes(out["svg"][0]) >= 30
    assert TITLE in svg_text(out["svg"][0])
    assert "<score-partwise" in out["musicxml"][0].read_text()
    assert out["midi"][0].read_bytes() == midi.read_bytes()


def test_mozart_sonata_kern(tmp_path):
    krn = shared("corpora", "mozart-piano-sonatas", "sonata01-1.krn")
    out = render(krn, ["svg", "png"], tmp_path)
    assert len(out["svg"]) >= 3
    assert sum(svg_notes(p) for p in out["svg"]) > 1000
    assert "Piano Sonata No. 1" in svg_text(out["svg"][0])  # the file's own title, kept
    assert png_size(out["png"][0]) == (1200, 500)


# ---------------------------------------------------------------------------------------------
# audio


def test_wav_length_level_and_no_clipping(tmp_path):
    midi = write_midi(two_hands(bars=3), tmp_path / "hands.mid")
    wav = wav_from_midi(midi, tmp_path / "hands.wav")
    audio = check_audio(wav, 6.0)
    # both channels carry the music, and it is not silence padded: the first second sounds
    assert np.sqrt((audio[:44100] ** 2).mean()) > 1e-2


def test_sustain_pedal_holds_notes(tmp_path):
    """A note released at 0.25 s under a pedal held until 2 s keeps sounding until then."""

    def write(path: Path, pedal: bool) -> Path:
        mid = mido.MidiFile(ticks_per_beat=480)  # default 120 bpm: 960 ticks a second
        tr = mido.MidiTrack()
        mid.tracks.append(tr)
        tr.append(mido.Message("control_change", control=64, value=127 if pedal else 0, time=0))
        tr.append(mido.Message("note_on", note=60, velocity=100, time=0))
        tr.append(mido.Message("note_off", note=60, velocity=0, time=240))
        tr.append(mido.Message("control_change", control=64, value=0, time=1680))
        mid.save(path)
        return path

    def level(path: Path) -> float:
        audio, rate = read_wav(wav_from_midi(write(path, path.stem == "pedal"), path.with_suffix(".wav")))
        return float(np.sqrt((audio[int(1.0 * rate) : int(1.8 * rate)] ** 2).mean()))

    assert level(tmp_path / "pedal.mid") > 20 * level(tmp_path / "dry.mid")


def test_piano_midi_file(tmp_path):
    midi = shared("midi", "piano-midi", "Mozart", "mz_545_3.mid")
    out = render(midi, ["wav", "png"], tmp_path, prompt_end=16.0)
    check_audio(out["wav"][0], mido.MidiFile(midi).length)
    assert png_size(out["png"][0]) == (1200, 500)


def test_silent_midi_is_an_error(tmp_path):
    midi = write_midi(Piece([Track("Piano", 0, [])]), tmp_path / "silent.mid")
    with pytest.raises(CadenzaError, match=rf"^{re.escape(str(midi))}: no notes to play$"):
        wav_from_midi(midi, tmp_path / "silent.wav")
    with pytest.raises(CadenzaError, match="no notes to play"):
        render(midi, ["wav"], tmp_path)


def test_optional_compressed_audio(tmp_path):
    if shutil.which("ffmpeg") is None:
        with pytest.warns(UserWarning, match="ffmpeg"):
            out = render(write_midi(two_hands(1), tmp_path / "a.mid"), ["flac"], tmp_path)
        assert "flac" not in out
    else:
        out = render(write_midi(two_hands(1), tmp_path / "a.mid"), ["flac"], tmp_path)
        assert out["flac"][0].read_bytes()[:4] == b"fLaC"


# ---------------------------------------------------------------------------------------------
# piano roll


def test_pianoroll_size_and_determinism(tmp_path):
    piece = two_hands(bars=8)
    a = pianoroll_png(piece, tmp_path / "a.png", prompt_end=8.0, title=TITLE)
    b = pianoroll_png(piece, tmp_path / "b.png", prompt_end=8.0, title=TITLE)
    assert png_size(a) == (1200, 500)
    assert a.read_bytes() == b.read_bytes()
    # the prompt is shaded: its background (left edge of the plot) is grey, the rest white
    from matplotlib.image import imread

    img = imread(a)
    assert img.shape == (500, 1200, 4)
    row = img[int(500 * 0.2)]  # a pitch row well above the notes
    left, right = row[int(1200 * 0.09)][:3], row[int(1200 * 0.95)][:3]
    assert left.mean() < 0.95 < right.mean()
    # empty pieces still draw
    assert png_size(pianoroll_png(Piece(), tmp_path / "empty.png")) == (1200, 500)


# ---------------------------------------------------------------------------------------------
# bad input


@pytest.mark.parametrize(
    "name, data, match",
    [
        ("missing.krn", None, "no such file"),
        ("junk.mid", b"not midi at all", "not a MIDI file"),
        ("junk.krn", b"hello world\n", "not kern"),
        ("junk.musicxml", b"<score-partwise><oops", "not well-formed"),
        ("junk.mxl", b"PK but not a zip", "not a readable .mxl"),
        ("notes.txt", b"x", "cannot render .txt"),
    ],
)
def test_unreadable_input_names_the_file(tmp_path, name, data, match):
    path = tmp_path / name
    if data is not None:
        path.write_bytes(data)
    fmt = "png" if name.endswith(".mid") else "svg"
    with pytest.raises(CadenzaError) as info:
        render(path, [fmt], tmp_path / "out")
    msg = str(info.value)
    assert msg.startswith(str(path)) and match in msg and "\n" not in msg


def test_unknown_format(tmp_path, palestrina_krn):
    with pytest.raises(CadenzaError, match="unknown format"):
        render(palestrina_krn, ["svg", "jpeg"], tmp_path)


def test_a_samples_token_text_is_decoded_by_its_runs_codec(tmp_path):
    """`cadenza render sample.txt --model M` and render.tokens_to_file: the text read by the
    model's codec (notewise at 12 steps a quarter, p0 = A0), the notes exactly as written."""
    from cadenza.music.midi_files import read_midi
    from cadenza.render import tokens_to_file

    text = tmp_path / "s.txt"
    text.write_text("p39 wait12 endp39 p43 p46 wait24 endp43 endp46")  # C4 a quarter, then E4+G4 a half
    made = tokens_to_file(text, "piano-notewise")
    assert made == tmp_path / "s.mid"
    assert [(n.pitch, n.start, n.duration) for n in read_midi(made).notes] == [(60, 0.0, 1.0), (64, 1.0, 2.0), (67, 1.0, 2.0)]
    with pytest.raises(CadenzaError, match="s.mid exists; pass --force"):
        tokens_to_file(text, "piano-notewise")
    with pytest.raises(CadenzaError, match="needs --run"):
        tokens_to_file(text, None)


@pytest.mark.parametrize("spines", [10_000, 65])
def test_a_score_too_wide_for_verovio_is_one_line_not_a_hang(tmp_path, spines):
    """10,000 spines hung verovio deaf to Ctrl-C, 1,500-3,000 aborted the process (issue #24):
    the width is checked before verovio sees the text, for the command and for the web page."""
    from cadenza.render import render

    wide = tmp_path / "wide.krn"
    wide.write_text("\t".join(["**kern"] * spines) + "\n" + "\t".join(["4c"] * spines) + "\n" + "\t".join(["*-"] * spines) + "\n")
    with pytest.raises(CadenzaError, match=rf"wide.krn.*{spines} spines side by side \(at most 64\)"):
        render(wide, ["svg"], out_dir=tmp_path / "out")


def test_a_score_as_wide_as_the_bound_still_engraves(tmp_path):
    from cadenza.render import render

    ok = tmp_path / "choir.krn"
    ok.write_text("\t".join(["**kern"] * 64) + "\n" + "\t".join(["4c"] * 64) + "\n" + "\t".join(["*-"] * 64) + "\n")
    assert render(ok, ["svg"], out_dir=tmp_path / "out")["svg"]
