"""Bad input of every kind, through the real command line: one line on stderr, never a traceback
or a hang. Also the limits that keep memory bounded, the music21 cache that is never read, and
the files and folders Cadenza must not take silently (shadowing models, overwriting files)."""

from __future__ import annotations

import io
import json
import os
import random
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from cadenza import CadenzaError
from conftest import shared

MOZART = ("midi", "piano-midi", "Mozart", "mz_545_1.mid")
CHORALE = ("corpora", "bach-370-chorales", "chor001.krn")


def _flip(data: bytes, rng: random.Random, n: int = 30) -> bytes:
    b = bytearray(data)
    for _ in range(n):
        i = rng.randrange(len(b))
        b[i] ^= 1 << rng.randrange(8)
    return bytes(b)


def make_bad_files(folder: Path) -> dict[str, Path]:
    """One file of each kind of damage, made from real files: empty, truncated, random bytes,
    bit-flipped, mis-named (kern called .mid and MIDI called .krn), ragged kern (a column too
    many), Latin-1 kern (with a record before ``!!!!SEGMENT``, which once crashed verovio), a
    broken and a zip-bomb .mxl, and a MIDI file whose one note sounds ten hours in."""
    import mido

    rng = random.Random(12)
    mid = shared(*MOZART).read_bytes()
    krn = shared(*CHORALE).read_bytes()
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "empty.mid": b"",
        "empty.krn": b"",
        "truncated.mid": mid[: len(mid) // 3],
        "truncated.krn": krn[: len(krn) // 3],
        "binary.mid": bytes(rng.randrange(256) for _ in range(4000)),
        "binary.krn": bytes(rng.randrange(256) for _ in range(4000)),
        "flipped.mid": _flip(mid, rng),
        "flipped.krn": _flip(krn, rng),
        "misnamed.mid": krn,
        "misnamed.krn": mid,
        "latin1.krn": "!!!COM: Dvořák été\n".encode("latin-1", "replace") + krn,
        "broken.mxl": b"PK\x03\x04" + bytes(rng.randrange(256) for _ in range(300)),
    }
    lines = krn.decode().splitlines()
    files["ragged.krn"] = ("\n".join(ln + ("\t4c" if i % 7 == 3 and not ln.startswith(("*", "!", "=")) else "") for i, ln in enumerate(lines)) + "\n").encode()
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("score.musicxml", b"<" + b" " * (65 << 20))
    files["bomb.mxl"] = bomb.getvalue()
    stray = mido.MidiFile(ticks_per_beat=96)
    track = mido.MidiTrack([mido.Message("note_on", note=60, velocity=80, time=72000 * 96), mido.Message("note_off", note=60, time=96)])
    stray.tracks.append(track)
    out = {}
    for name, data in files.items():
        (folder / name).write_bytes(data)
        out[name] = folder / name
    stray.save(folder / "stray.mid")
    out["stray.mid"] = folder / "stray.mid"
    return out


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory) -> dict[str, Path]:
    return make_bad_files(tmp_path_factory.mktemp("bad") / "in")


def cadenza(*args: str, cwd: Path, timeout: float = 180) -> subprocess.CompletedProcess:
    env = dict(os.environ, COLUMNS="80")  # a narrow terminal: errors must still be one line
    env.pop("CADENZA_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "cadenza.cli", *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)


def assert_one_line_error(res: subprocess.CompletedProcess, name: str) -> None:
    assert res.returncode == 2, (res.returncode, res.stderr[-2000:])
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and name in lines[0], res.stderr[-2000:]
    assert "Traceback" not in res.stderr and "a bug in Cadenza" not in res.stderr


def test_render_gives_one_line_per_bad_file(tmp_path, bad_files):
    """Every damaged file is one line naming it and what is wrong; nothing is left half written."""
    names = sorted(bad_files)
    res = cadenza("render", *[str(bad_files[n]) for n in names], "--to", "svg,wav,png", "-o", str(tmp_path / "out"), cwd=tmp_path)
    assert "Traceback" not in res.stderr and "a bug in Cadenza" not in res.stderr, res.stderr
    errors = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert all(ln.startswith("error: ") for ln in errors), errors
    failed = {n for n in names if any(str(bad_files[n]) + ":" in ln for ln in errors)}
    # the Latin-1 chorale renders (verovio used to crash on its record order); the rest fail
    assert failed == set(names) - {"latin1.krn"}, (failed, res.stderr)
    assert len(errors) == len(failed)
    assert res.returncode == 2
    assert (tmp_path / "out" / "latin1.wav").stat().st_size > 100_000
    messages = " | ".join(errors)
    for expect in ("empty.mid: empty file", "binary.mid: not a MIDI file", "misnamed.mid: not a MIDI file", "binary.krn: binary data", "inflates to more than 64 MB",
                   "ragged.krn: kern:25: 5 columns where 4 spines are active", "stray.mid: its last note ends 72,001 quarter notes (10.0 hours) in"):
        assert expect in messages, (expect, messages)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["empty.mid", "truncated.mid", "binary.mid", "flipped.mid", "misnamed.mid", "empty.krn", "binary.krn", "flipped.krn",
                                  "misnamed.krn", "ragged.krn", "broken.mxl", "bomb.mxl"])
def test_generate_prompt_bad_file_is_one_line(tmp_path, bad_files, name):
    res = cadenza("generate", "--model", "piano-notewise", "--prompt", str(bad_files[name]), "-o", str(tmp_path / "out"), "--length", "20", cwd=tmp_path)
    assert_one_line_error(res, name)


@pytest.mark.parametrize("name", ["latin1.krn", "stray.mid"])
def test_generate_prompt_odd_but_readable_file_is_continued(tmp_path, bad_files, name):
    """A Latin-1 kern file is read as Latin-1; a MIDI file whose one note sounds hours in is
    continued from its last bars (that note), not from hours of silence."""
    from cadenza.music import read_midi

    res = cadenza("generate", "--model", "piano-notewise", "--prompt", str(bad_files[name]), "-o", str(tmp_path / "out"), "--length", "40", cwd=tmp_path)
    assert res.returncode == 0 and not res.stderr.strip(), res.stderr
    assert read_midi(tmp_path / "out" / f"{Path(name).stem}-01.mid").end < 100


@pytest.mark.parametrize("codec", ["kern", "notewise"])
def test_prepare_skips_each_bad_file_with_its_reason(tmp_path, bad_files, codec):
    folder = next(iter(bad_files.values())).parent
    res = cadenza("prepare", str(folder), "-o", str(tmp_path / "ds"), "--codec", codec, "--workers", "2", cwd=tmp_path)
    assert res.returncode == 0 and "Traceback" not in res.stderr, res.stderr[-3000:]
    sources = {Path(s["path"]).name: s for s in json.loads((tmp_path / "ds" / "manifest.json").read_text())["sources"]}
    assert set(sources) == set(bad_files)
    used = {n for n, s in sources.items() if s["status"] == "used"}
    # kern is checked line by line; music21 (the MIDI codecs' reader of kern) reads a file cut short
    assert used == ({"latin1.krn"} if codec == "kern" else {"latin1.krn", "truncated.krn"}), sources
    for n, s in sources.items():
        if n not in used:
            assert s["reason"] and "\n" not in s["reason"] and "Traceback" not in s["reason"], s
    if codec == "notewise":
        assert "inflates to more than 64 MB" in sources["bomb.mxl"]["reason"]
        assert "lasts 72001 quarter notes" in sources["stray.mid"]["reason"]


# --- prepare: a reader that crashes or hangs costs only its file ---------------------------

def _register_trap_codec():
    """A notewise codec whose reader crashes (SIGSEGV) on files named crash.* and hangs on
    hang.*: what a parser bug or a pathological file does to a worker."""
    from cadenza.codecs import register
    from cadenza.codecs.notewise import NotewiseCodec

    @register
    class TrapCodec(NotewiseCodec):
        name = "trap-notewise"

        def encode(self, path):
            import signal
            import time

            if Path(path).stem == "crash":
                import faulthandler

                faulthandler.disable()  # pytest's dump of this deliberate crash is noise
                os.kill(os.getpid(), signal.SIGSEGV)
            if Path(path).stem == "hang":
                time.sleep(600)
            if Path(path).stem == "spin":
                while True:
                    pass
            return super().encode(path)

    return TrapCodec.name


@pytest.mark.parametrize("workers", [1, 2])
def test_prepare_survives_a_crashing_and_a_hanging_reader(tmp_path, workers):
    from cadenza.data.prepare import prepare

    codec = _register_trap_codec()
    src = tmp_path / "src"
    src.mkdir()
    for f in sorted(shared("midi", "piano-midi", "Mozart").glob("mz_3*.mid"))[:3]:
        shutil.copy(f, src / f.name)
    shutil.copy(shared(*MOZART), src / "crash.mid")
    shutil.copy(shared(*MOZART), src / "hang.mid")
    shutil.copy(shared(*MOZART), src / "spin.mid")
    rep = prepare([src], tmp_path / "ds", codec, {"steps_per_quarter": 4}, workers=workers, file_timeout=3, val_fraction=0, test_fraction=0)
    reasons = dict((Path(p).name, r) for p, r in rep.skipped_reasons)
    assert rep.used == 3
    assert "crashed" in reasons["crash.mid"] and "SIGSEGV" in reasons["crash.mid"]
    from cadenza.data.workers import WAIT_FACTOR, cpu_seconds

    if cpu_seconds(os.getpid()) is not None:  # the limit is CPU time: a reader that computes is stopped after 3 s of it,
        assert reasons["spin.mid"].startswith("took more than 3 s of CPU time")
        assert reasons["hang.mid"].startswith(f"took longer than {3 * WAIT_FACTOR} s without finishing")  # one that waits, after 4x in wall time
    else:
        assert reasons["spin.mid"].startswith("took longer than 3 s") and reasons["hang.mid"].startswith("took longer than 3 s")


# --- memory: long pieces are refused or streamed ------------------------------------------

def test_chordwise_of_a_long_piece_is_built_in_blocks(monkeypatch):
    """Words built a block at a time are the words built at once."""
    import cadenza.codecs.chordwise as chordwise
    from cadenza.codecs import get_codec
    from cadenza.codecs.grid import to_grid
    from cadenza.codecs.midi import read_piece

    codec = get_codec("chordwise", {"steps_per_quarter": 12, "note_range": 88})
    grid = to_grid(read_piece(shared(*MOZART)), 12, 88)
    whole = codec.words(grid)
    monkeypatch.setattr(chordwise, "BLOCK_STEPS", 37)
    assert codec.words(grid) == whole
    notes, stats = codec.parse(" ".join(whole))
    assert stats["dropped"] == stats["repaired"] == 0 and {k: sorted(v) for k, v in notes.items()} == {k: sorted(v) for k, v in grid.notes.items()}


def test_wav_of_a_long_piece_streams(tmp_path, monkeypatch):
    """A piece synthesised in small blocks sounds as one made in 10 s blocks (the synthesiser's
    envelopes step per call, so a few least significant bits may differ, no more)."""
    import wave

    import numpy as np

    import cadenza.render.audio as audio

    mid = shared(*MOZART)

    def samples(p: Path) -> np.ndarray:
        with wave.open(str(p)) as w:
            return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(float)

    audio.wav_from_midi(mid, tmp_path / "one.wav")
    monkeypatch.setattr(audio, "BLOCK_FRAMES", 12_345)
    audio.wav_from_midi(mid, tmp_path / "blocks.wav")
    a, b = samples(tmp_path / "one.wav"), samples(tmp_path / "blocks.wav")
    assert len(a) == len(b) > 44100 * 2 * 60
    assert np.abs(a).max() == pytest.approx(32767 * 10 ** (-1 / 20), abs=2)
    assert np.sqrt(np.mean((a - b) ** 2)) < 1e-3 * np.sqrt(np.mean(a**2)) and np.abs(a - b).max() < 64


def test_audio_refuses_hours_of_silence(tmp_path, bad_files):
    from cadenza.render.audio import wav_from_midi

    with pytest.raises(CadenzaError, match=r"stray.mid: lasts 10:00:0\d, longer than audio is made for \(1:00:00\)"):
        wav_from_midi(bad_files["stray.mid"], tmp_path / "x.wav")
    assert not (tmp_path / "x.wav").exists()


# --- music21 never unpickles from its shared cache ------------------------------------------

def test_music21_cache_is_never_read_or_written(tmp_path, monkeypatch):
    """A parse planted in music21's scratch folder would be unpickled by ``converter.parse``;
    Cadenza parses text (or, for MIDI, with forceSource), so it reads and writes no pickle."""
    from music21 import converter, environment

    from cadenza.music import read_piece_file
    from cadenza.render.notation import music21_musicxml

    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(environment.Environment, "getRootTempDir", lambda self: scratch)
    krn = tmp_path / "chorale.krn"
    shutil.copy(shared(*CHORALE), krn)
    # what an attacker would plant: the pickle music21 looks for, made to blow up when loaded
    planted = converter.PickleFilter(krn).getPickleFp(scratch, zipType="gz")
    planted.write_bytes(b"not a pickle, and loading it would run code")
    os.utime(planted, (krn.stat().st_mtime + 100,) * 2)
    thawed = []
    monkeypatch.setattr(converter, "thaw", lambda *a, **k: thawed.append(1))
    piece = read_piece_file(krn)
    assert piece.notes and not thawed
    music21_musicxml(tmp_path / "x.mid", shared(*MOZART), "midi")
    assert sorted(p.name for p in scratch.iterdir()) == [planted.name]  # nothing written beside it


# --- what must not be taken silently --------------------------------------------------------

def test_a_local_folder_does_not_shadow_a_bundled_model(tmp_path, monkeypatch):
    from cadenza.models.pretrained import ROOT, resolve

    monkeypatch.chdir(tmp_path)
    (tmp_path / "piano-notewise").mkdir()  # e.g. a folder of samples: not a run
    assert resolve("piano-notewise") == ROOT / "piano-notewise"
    (tmp_path / "piano-notewise" / "config.json").write_text("{}")  # a run folder: ambiguous
    with pytest.raises(CadenzaError, match=r"both a bundled model and a run folder here; write \./piano-notewise"):
        resolve("piano-notewise")
    assert resolve("./piano-notewise") == Path("./piano-notewise")


def test_render_does_not_overwrite_without_force(tmp_path):
    mid = tmp_path / "mz.mid"
    shutil.copy(shared(*MOZART), mid)
    (tmp_path / "mz.png").write_bytes(b"mine")
    res = cadenza("render", str(mid), "--to", "png,wav", cwd=tmp_path)
    assert_one_line_error(res, "mz.png exists")
    assert (tmp_path / "mz.png").read_bytes() == b"mine" and not (tmp_path / "mz.wav").exists()
    res = cadenza("render", str(mid), "--to", "png", "--force", cwd=tmp_path)
    assert res.returncode == 0 and (tmp_path / "mz.png").read_bytes().startswith(b"\x89PNG")


def test_evaluate_passes_over_a_dataset_that_is_not_the_models(tmp_path):
    from cadenza.evaluation.heldout import find_dataset

    ds = tmp_path / "data" / "piano-nw"
    ds.mkdir(parents=True)
    (ds / "manifest.json").write_text(json.dumps({"codec": "notewise", "options": {"steps_per_quarter": 12, "note_range": 62, "max_wait": None}}))
    (ds / "vocab.json").write_text(json.dumps(["wait1", "p3"]))
    config = {"dataset": str(ds), "codec": "notewise", "codec_options": {"steps_per_quarter": 12, "note_range": 62, "max_wait": None}, "vocab": ["wait1", "p3"]}
    assert find_dataset(config, tmp_path / "run") == ds
    rejected: list[str] = []
    assert find_dataset(dict(config, vocab=["wait1", "p3", "p4"]), tmp_path / "run", rejected) is None
    assert "its vocabulary (2 tokens) is not the model's (3)" in rejected[0]
    assert find_dataset(dict(config, codec="chordwise"), tmp_path / "run", rejected) is None
    assert "a notewise dataset; the model is chordwise" in rejected[-1]


# --- damaged run and model files: one line each ---------------------------------------------

def _copy_model(tmp_path: Path) -> Path:
    from cadenza.models.pretrained import ROOT

    run = tmp_path / "run"
    shutil.copytree(ROOT / "piano-notewise", run)
    return run


@pytest.mark.parametrize("damage", ["config-json", "config-latin1", "no-config", "weights"])
def test_damaged_run_files_are_one_line(tmp_path, damage):
    run = _copy_model(tmp_path)
    if damage == "config-json":
        (run / "config.json").write_text('{"model": {"arch": ')
    elif damage == "config-latin1":
        (run / "config.json").write_bytes(b'{"x": "\xe9t\xe9"}')
    elif damage == "no-config":
        (run / "config.json").unlink()
    else:
        (run / "best.safetensors").write_bytes(b"\x00" * 100)
    res = cadenza("generate", str(run), "-o", str(tmp_path / "out"), "--length", "10", cwd=tmp_path)
    assert_one_line_error(res, str(run))


def test_damaged_dataset_vocab_is_one_line(tmp_path):
    from cadenza.data.prepare import prepare

    files = sorted(shared("midi", "piano-midi", "Mozart").glob("mz_3*.mid"))[:2]
    prepare(files, tmp_path / "ds", "notewise", {"steps_per_quarter": 4}, workers=1, val_fraction=0, test_fraction=0)
    (tmp_path / "ds" / "vocab.json").unlink()
    res = cadenza("train", str(tmp_path / "ds"), "-o", str(tmp_path / "run"), "--max-steps", "1", cwd=tmp_path)
    assert_one_line_error(res, "no vocab.json")


def test_render_tokens_needs_readable_text(tmp_path):
    (tmp_path / "latin.txt").write_bytes(b"wait12 p30 wait12 endp30 \xe9")
    res = cadenza("render", str(tmp_path / "missing.txt"), "--model", "piano-notewise", "--to", "midi", cwd=tmp_path)
    assert_one_line_error(res, "missing.txt: no such file")
    res = cadenza("render", str(tmp_path / "latin.txt"), "--model", "piano-notewise", "--to", "midi", cwd=tmp_path)
    assert res.returncode == 0 and (tmp_path / "latin.mid").exists(), res.stderr


def test_corrupt_model_json_leaves_models_listed(tmp_path, monkeypatch):
    import cadenza.models.pretrained as pretrained

    root = tmp_path / "pretrained"
    shutil.copytree(pretrained.ROOT / "piano-notewise", root / "piano-notewise")
    shutil.copytree(pretrained.ROOT / "bach-notewise", root / "bach-notewise")
    (root / "bach-notewise" / "MODEL.json").write_bytes(b"{\xff not json")
    monkeypatch.setattr(pretrained, "ROOT", root)
    found = pretrained.available()
    assert found["piano-notewise"]["codec"] == "notewise"
    assert "unreadable" in found["bach-notewise"]["error"]
    assert pretrained.resolve("bach-notewise") == root / "bach-notewise"
