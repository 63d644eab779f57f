"""Bundled models load and compose; `cadenza compose` and `cadenza render` work end to end."""

from __future__ import annotations

import json
import wave

import pytest
from safetensors.torch import load_file
from typer.testing import CliRunner

from cadenza.cli import app
from cadenza.models import ModelConfig, build_model
from cadenza.models.pretrained import available, resolve
from cadenza.generation import generate

runner = CliRunner()
MODELS = available()


def test_at_least_one_model_is_bundled_with_its_facts():
    assert MODELS, "no bundled models"
    for name, info in MODELS.items():
        for key in ("trained_on", "licence", "params", "test_bits_per_token", "codec", "command"):
            assert info.get(key) not in (None, ""), (name, key)
        assert info["size_mb"] < 20


@pytest.mark.parametrize("name", sorted(MODELS))
def test_bundled_model_config_matches_weights_and_generates(tmp_path, name):
    folder = resolve(name)
    config = json.loads((folder / "config.json").read_text())
    model = build_model(ModelConfig.from_dict(config["model"]))
    weights = load_file(str(folder / "best.safetensors"))
    assert set(weights) == set(model.state_dict())
    for k, v in model.state_dict().items():
        assert tuple(weights[k].shape) == tuple(v.shape), k
    assert config["model"]["vocab_size"] == len(config["vocab"])
    s = generate(name, tmp_path, n=2, length=400, seed=1)
    for x in s:
        assert x.stats.get("parsed", True), x.stats
        assert x.files.get("krn", x.files.get("mid")).exists()


def test_compose_end_to_end(tmp_path):
    out = tmp_path / "piece"
    res = runner.invoke(app, ["compose", "--seed", "3", "--bars", "4", "-o", str(out)])
    assert res.exit_code == 0, res.output
    files = {p.suffix for p in out.iterdir()}
    assert {".krn", ".mid", ".musicxml", ".svg", ".pdf", ".wav", ".png"} <= files
    with wave.open(str(next(out.glob("*.wav")))) as w:
        assert w.getnframes() > w.getframerate()  # at least a second of music
    assert "replay with --seed 3" in res.output


def test_models_command_lists_bundled_models():
    res = runner.invoke(app, ["models"])
    assert res.exit_code == 0
    for name in MODELS:
        assert name in res.output


def test_render_command_on_a_real_file(tmp_path, palestrina_paths):
    res = runner.invoke(app, ["render", str(palestrina_paths[0]), "--to", "svg,png,midi", "-o", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert list(tmp_path.glob("*.svg")) and list(tmp_path.glob("*.png")) and list(tmp_path.glob("*.mid"))
    bad = tmp_path / "broken.krn"
    bad.write_text("**kern\n4c\t4d\n")
    res = runner.invoke(app, ["render", str(bad), "--to", "svg"])
    assert res.exit_code == 2 and "broken.krn" in res.output.replace("\n", "")


def test_unknown_model_is_a_clear_error(tmp_path):
    res = runner.invoke(app, ["generate", "--model", "no-such-model", "-o", str(tmp_path)])
    assert res.exit_code == 2 and "no-such-model" in res.output


def test_bundled_piano_model_continues_real_pieces_reaching_past_62_keys(tmp_path):
    """The bundled piano model knows the 88 keys a piano has, so piano-midi.de pieces whose last
    bars go beyond Clara's 62 keys (A1..A#6) are continued with nothing folded, and the written
    file keeps the user's own notes. (Folding for narrower models: tests/test_continue.py.)"""
    from cadenza.codecs import get_codec
    from cadenza.generation import continue_piece, prompt_excerpt, read_prompt
    from cadenza.music import read_midi
    from conftest import shared

    config = json.loads((resolve("piano-notewise") / "config.json").read_text())
    assert config["codec_options"]["note_range"] == 88
    codec = get_codec("notewise", config["codec_options"])
    tried = 0
    for path in sorted(shared("midi", "piano-midi").glob("*/*.mid")):
        excerpt, _ = prompt_excerpt(read_prompt(path), bars=4)
        pitches = [n.pitch for n in excerpt.notes]
        if not pitches or excerpt.end > 40 or (min(pitches) >= 33 and max(pitches) <= 94):
            continue
        assert codec.encode_piece(excerpt).info["folded"] == 0
        samples = continue_piece("piano-notewise", path, tmp_path / path.stem, length=60, seed=1)
        full = read_midi(samples[0].files["mid"])
        boundary = samples[0].stats["prompt_quarters"]
        mine = sorted((round(n.start, 3), n.pitch) for n in excerpt.notes)
        kept = sorted((round(n.start, 3), n.pitch) for n in full.notes if n.start < boundary - 1e-6)
        assert kept == mine
        assert any(n.start >= boundary for n in full.notes)  # and it went on
        tried += 1
        if tried == 3:
            break
    assert tried == 3


def test_the_command_line_starts_without_torch():
    """`cadenza --help`, `cadenza models`: the CLI loads torch only where a model is built (it took
    ~1.7 s of every command's start-up)."""
    import subprocess
    import sys

    code = "import sys; from cadenza.cli import app; from cadenza.cli.info import models; models(); print('torch' in sys.modules)"
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip().endswith("False") and "mozart-kern" in res.stdout
