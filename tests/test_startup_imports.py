"""Start-up is the user's wait (issue #21): ``cadenza generate`` with an LSTM, writing kern and
MIDI, imports neither torch nor music21 (2.8 s and ~0.5 s of a 6.3 s command before), and the
files it writes are the ones the torch network samples. Checked in a fresh interpreter, by what
is in ``sys.modules`` after the command, not by timing it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from cadenza.generation import generate
from cadenza.generation.run import loaded_run, open_run

RUN_CLI = """
import json, sys
from typer.testing import CliRunner
from cadenza.cli import app
res = CliRunner().invoke(app, sys.argv[1:], env={"COLUMNS": "200"})
print(json.dumps({"code": res.exit_code, "output": res.output, "loaded": sorted(m for m in ("torch", "music21") if m in sys.modules)}))
"""


def _cli(*args: str) -> dict:
    proc = subprocess.run([sys.executable, "-c", RUN_CLI, *args], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["code"] == 0, got["output"]
    return got


@pytest.mark.parametrize(("model", "formats"), [("mozart-kern", "krn,mid"), ("piano-notewise", "mid")])
def test_generate_with_an_lstm_loads_neither_torch_nor_music21(tmp_path, model, formats):
    got = _cli("generate", "--model", model, "-o", str(tmp_path / "cli"), "-n", "2", "--length", "300", "--seed", "5", "--formats", formats)
    assert got["loaded"] == []
    # the same files as sampling the torch network itself (its numpy twin, the torch generator's draws)
    run = open_run(model)
    net = loaded_run(run.model, run.config, run.path)
    ours = generate(net, tmp_path / "api", n=2, length=300, seed=5, formats=tuple(formats.split(",")))
    for s in ours:
        for fmt, path in s.files.items():
            assert (tmp_path / "cli" / path.name).read_bytes() == path.read_bytes(), (model, fmt)


def test_kern_without_musicxml_says_music21_did_not_read_it(tmp_path):
    got = _cli("generate", "--model", "mozart-kern", "-o", str(tmp_path), "-n", "1", "--length", "300", "--seed", "5", "--formats", "krn,mid")
    summary = json.loads((tmp_path / "summary.json").read_text())
    stats = summary["samples"][0]
    assert stats["parsed"] is None and stats["bars"] >= 1 and stats["notes"] > 0 and stats["quarters"] > 0
    said = " ".join(got["output"].split())  # as the terminal wrapped it
    assert "1 sample not parsed by music21" in said and "parse in music21" not in said


def test_compose_renders_every_format_without_torch(tmp_path):
    """compose needs music21 for its MusicXML, never torch."""
    got = _cli("compose", "--seed", "1", "--bars", "2", "-o", str(tmp_path))
    assert got["loaded"] == ["music21"]
    assert {p.suffix for p in tmp_path.iterdir()} >= {".krn", ".musicxml", ".mid", ".svg", ".pdf", ".wav", ".png"}
