"""Continuing the user's own kern score: a Beethoven movement no Mozart model has seen goes on
in its own metre, key and clefs, and its bars are written back unchanged."""

from __future__ import annotations

import re

import pytest

from cadenza import CadenzaError
from cadenza.music.humdrum.to_piece import kern_to_piece
from cadenza.codecs.kern.prompt import KernPrompt, join_continuation
from cadenza.codecs.kern.header import Header
from cadenza.data.prepare import prepare
from cadenza.generation import continue_piece
from cadenza.training import TrainConfig, train
from conftest import shared

TINY = TrainConfig(rnn_size=48, num_layers=1, seq_length=64, batch_size=8, max_steps=40, eval_every=20, eval_batches=2, seed=2, threads=1)


@pytest.fixture(scope="module")
def mozart_run(tmp_path_factory):
    files = sorted(shared("corpora", "mozart-piano-sonatas").glob("sonata0[1-3]-*.krn"))
    root = tmp_path_factory.mktemp("mozart")
    prepare([str(f) for f in files], root / "ds", "kern", {"spines": 2}, workers=1, seed=1)
    train(root / "ds", root / "run", TINY)
    return root / "run"


def _user_part(path) -> list[str]:
    """The user's lines before the closing ``==`` / ``*-``."""
    lines = path.read_text().rstrip("\n").split("\n")
    end = max(i for i, x in enumerate(lines) if x.startswith("*-"))
    body = lines[:end]
    while body and (body[-1].startswith("!") or body[-1].startswith("==")):
        body.pop()
    return body


def test_a_beethoven_movement_is_continued_in_its_own_metre_and_key(tmp_path, mozart_run):
    from music21 import converter

    src = shared("corpora", "beethoven-piano-sonatas", "sonata01-1.krn")  # f minor, 2/2, **dynam
    samples = continue_piece(mozart_run, src, tmp_path, n=2, seed=1, prompt_bars=4, bars=4)
    user = _user_part(src)
    user_notes = sorted((n.start, n.pitch, n.duration) for t in kern_to_piece(src.read_text()).tracks for n in t.notes)
    end = kern_to_piece(src.read_text()).end
    for s in samples:
        out = s.files["krn"].read_text()
        lines = out.split("\n")
        assert lines[: len(user)] == user  # the user's bars, unchanged
        added = lines[len(user):]
        assert not [x for x in added if re.match(r"\*(M\d|k\[|[A-Ga-g][#-]?:)", x)]  # no other metre or key
        assert all(len(x.split("\t")) == 3 for x in added if x and not x.startswith("!"))  # **dynam kept
        notes = sorted((n.start, n.pitch, n.duration) for t in kern_to_piece(out).tracks for n in t.notes)
        assert [x for x in notes if x[0] < end - 1e-9] == [x for x in user_notes]  # ties into the continuation aside
        assert s.stats["bars"] == 4 and s.stats["metre"] == "2/2"
        score = converter.parse(out, format="humdrum")
        measures = list(score.parts[0].getElementsByClass("Measure"))
        assert [m.duration.quarterLength for m in measures[-4:]] == [4.0] * 4  # 2/2 bars, full


def test_continuation_goes_into_the_files_columns():
    user = ("**kern\t**kern\t**dynam\n*clefF4\t*clefG2\t*\n*M3/4\t*M3/4\t*\n=1\t=1\t=1\n2.C\t2.c\tp\n"
            "==\t==\t==\n*-\t*-\t*-\n!!!END: here\n")
    kp = KernPrompt("", "", Header(2, ["*clefF4", "*clefG2"], ["*k[]"] * 2, None, "*M3/4", None, None), user, 1)
    kern, stats = join_continuation(kp, "2.D\t4d\n*\t*^\n.\t4e\t4g\n*\t*v\t*v\n.\t4f\n@\n2.E\t2.e\n@\n")
    assert kern == ("**kern\t**kern\t**dynam\n*clefF4\t*clefG2\t*\n*M3/4\t*M3/4\t*\n=1\t=1\t=1\n2.C\t2.c\tp\n"
                    "=2\t=2\t=2\n2.D\t4d\t.\n*\t*^\t*\n.\t4e\t4g\t.\n*\t*v\t*v\t*\n.\t4f\t.\n=3\t=3\t=3\n2.E\t2.e\t.\n"
                    "==\t==\t==\n*-\t*-\t*-\n!!!END: here\n")
    assert stats["bars"] == 2


def test_a_kern_model_refuses_a_file_it_cannot_read(tmp_path, mozart_run):
    text = tmp_path / "notes.txt"
    text.write_text("not music", encoding="utf-8")
    with pytest.raises(CadenzaError, match="continues .krn, .mid"):
        continue_piece(mozart_run, text, tmp_path, n=1, bars=2)


def test_a_kern_model_refuses_prompt_seconds_instead_of_dropping_them(tmp_path, mozart_run):
    """It continues from whole bars of the file: ``--prompt-seconds`` is refused in one line, not ignored."""
    src = shared("corpora", "beethoven-piano-sonatas", "sonata01-1.krn")
    with pytest.raises(CadenzaError, match=r"^--prompt-seconds: a kern model continues from whole bars of the file; give --prompt-bars$"):
        continue_piece(mozart_run, src, tmp_path, n=1, bars=2, prompt_seconds=5.0)
