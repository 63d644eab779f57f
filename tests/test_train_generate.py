"""Training survives interruption exactly; generation is reproducible and yields valid files."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from cadenza import CadenzaError
from cadenza.generation import SamplingOptions, encode_prime, filter_logits, generate
from cadenza.music.m21 import parse_kern
from cadenza.training import load_run, train, TrainConfig

SMALL = dict(rnn_size=32, num_layers=2, seq_length=40, batch_size=8, eval_every=10, eval_batches=2, seed=11, dropout=0.1, threads=1)


def _log(run: Path) -> list[dict]:
    return [json.loads(l) for l in (run / "log.jsonl").read_text().splitlines()]


def test_resume_continues_at_the_same_step_with_the_same_loss(tmp_path, palestrina_dataset):
    straight = tmp_path / "straight"
    train(palestrina_dataset, straight, TrainConfig(max_steps=30, **SMALL))
    split = tmp_path / "split"
    r1 = train(palestrina_dataset, split, TrainConfig(max_steps=20, **SMALL))
    assert r1.step == 20
    r2 = train(palestrina_dataset, split, TrainConfig(max_steps=30, **SMALL))
    assert r2.resumed_from == 20 and r2.step == 30
    assert [h["train_loss"] for h in _log(split)] == [h["train_loss"] for h in _log(straight)]
    a, b = load_file(str(straight / "last.safetensors")), load_file(str(split / "last.safetensors"))
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_resume_after_kill_9(tmp_path, palestrina_dataset):
    """A training process killed without warning resumes from its last checkpoint."""
    run = tmp_path / "killed"
    cmd = [sys.executable, "-m", "cadenza.cli", "train", str(palestrina_dataset), "-o", str(run), "--rnn-size", "32", "--num-layers", "2",
           "--seq-length", "40", "--batch-size", "8", "--eval-every", "5", "--max-steps", "100000", "--threads", "1", "--seed", "11"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    state = run / "last.state.json"
    deadline = time.time() + 120
    while time.time() < deadline:
        if state.exists() and json.loads(state.read_text())["step"] >= 10:
            break
        time.sleep(0.2)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    saved = json.loads(state.read_text())["step"]
    assert saved >= 10
    # the checkpoint on disk is complete and loads
    load_run(run, "last")
    res = subprocess.run(cmd[:-8] + ["--max-steps", str(saved + 5), "--threads", "1", "--seed", "11"], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert f"resumed from step {saved}" in res.stdout
    assert json.loads(state.read_text())["step"] == saved + 5


def test_training_writes_checkpoints_and_loss_curve(tiny_run):
    for name in ("config.json", "best.safetensors", "last.safetensors", "log.jsonl", "loss.png"):
        assert (tiny_run / name).exists(), name
    cfg = json.loads((tiny_run / "config.json").read_text())
    assert cfg["codec"] == "kern" and cfg["model"]["arch"] == "lstm"
    log = _log(tiny_run)
    assert log[-1]["val_loss"] < log[0]["val_loss"]  # it learned something


def test_transformer_trains_through_the_same_interface(tmp_path, palestrina_dataset):
    run = tmp_path / "gpt"
    res = train(palestrina_dataset, run, TrainConfig(arch="transformer", rnn_size=32, num_layers=2, n_head=2, seq_length=32, batch_size=8, max_steps=20, eval_every=10, eval_batches=2))
    assert res.step == 20 and res.val_loss is not None
    samples = generate(run, tmp_path / "out", n=2, length=120, seed=1)
    assert len(samples) == 2 and all(s.files["krn"].exists() for s in samples)


def test_generated_files_parse_and_are_byte_identical_for_a_seed(tmp_path, tiny_run):
    a = generate(tiny_run, tmp_path / "a", n=3, length=600, seed=42, options=SamplingOptions(temperature=0.9))
    b = generate(tiny_run, tmp_path / "b", n=3, length=600, seed=42, options=SamplingOptions(temperature=0.9))
    c = generate(tiny_run, tmp_path / "c", n=3, length=600, seed=43, options=SamplingOptions(temperature=0.9))
    for sa, sb in zip(a, b):
        assert sa.stats["parsed"], sa.stats
        for fmt in ("krn", "mid", "musicxml"):
            assert sa.files[fmt].read_bytes() == sb.files[fmt].read_bytes(), fmt
        score = parse_kern(sa.files["krn"].read_text())
        assert len(list(score.recurse().notes)) > 0
        assert sa.files["krn"].read_text().rstrip().endswith("*-\t*-\t*-\t*-")
    assert a[0].text != c[0].text


def test_prime_with_unknown_characters_is_a_clear_error(tmp_path, tiny_run):
    with pytest.raises(CadenzaError, match="never saw: 'Z' at 2"):
        generate(tiny_run, tmp_path / "x", prime="@\nZ", length=10)
    s = generate(tiny_run, tmp_path / "y", prime="@\nZ4c", length=10, map_unknown=True)
    assert s[0].text.startswith("@\n4c")


def test_sampling_filters():
    logits = torch.tensor([[2.0, 1.0, 0.5, -1.0]])
    assert torch.isinf(filter_logits(logits, SamplingOptions(top_k=2))[0, 2:]).all()
    kept = ~torch.isinf(filter_logits(logits, SamplingOptions(top_p=0.7))[0])
    assert kept.tolist() == [True, True, False, False]
    kept = ~torch.isinf(filter_logits(logits, SamplingOptions(min_p=0.3))[0])
    assert kept.tolist() == [True, True, False, False]
    with pytest.raises(CadenzaError):
        SamplingOptions(temperature=0).validate()
    assert encode_prime("ab", ["a", "b"], "char") == [0, 1]


def test_beam_of_one_and_top_k_of_one_equal_greedy(tiny_run):
    from cadenza.generation import beam_search_ids, sample_ids

    model, config = load_run(tiny_run)
    prime = encode_prime("@\n", config["vocab"], "char")
    greedy = sample_ids(model, prime, 2, 80, SamplingOptions(random_freq=0.0, trunc=1), seed=0)
    topk1 = sample_ids(model, prime, 2, 80, SamplingOptions(top_k=1), seed=5)
    beam1 = beam_search_ids(model, prime, 2, 80, 1, SamplingOptions(), seed=9)
    assert greedy == topk1 == beam1
    beam4 = beam_search_ids(model, prime, 1, 80, 4, SamplingOptions(), seed=0)
    sampled = beam_search_ids(model, prime, 1, 80, 4, SamplingOptions(), seed=0, stochastic=True)
    assert len(beam4[0]) == len(sampled[0]) == 80


def test_beam_search_finds_a_likelier_sequence_than_greedy(tiny_run):
    from cadenza.generation import beam_search_ids, sample_ids

    model, config = load_run(tiny_run)
    prime = encode_prime("@\n", config["vocab"], "char")

    def logp(seq):
        ids = torch.tensor([prime + seq])
        logits, _ = model(ids[:, :-1])
        lp = logits.log_softmax(-1)[0, len(prime) - 1 :]
        return lp.gather(-1, ids[0, len(prime) :, None]).sum().item()

    greedy = sample_ids(model, prime, 1, 60, SamplingOptions(top_k=1), seed=0)[0]
    beam = beam_search_ids(model, prime, 1, 60, 6, SamplingOptions(), seed=0)[0]
    assert logp(beam) >= logp(greedy) - 1e-4


def test_form_aab_repeats_then_varies(tmp_path, tiny_run):
    from cadenza.generation import form_plan

    assert form_plan(list("AAB")) == [("new", "A"), ("repeat", "A"), ("vary", "A")]
    assert form_plan(list("ABA")) == [("new", "A"), ("new", "B"), ("repeat", "A")]
    assert form_plan(list("AABA")) == [("new", "A"), ("repeat", "A"), ("vary", "A"), ("repeat", "A")]
    s = generate(tiny_run, tmp_path / "form", n=2, seed=3, form="AAB", phrase_bars=2)
    for sample in s:
        import re

        body = sample.text[sample.text.index("@\n") + 2 :]  # after the prime: metre and key, "@"
        bars = re.split(r"(?<=\n)@\n", body)
        assert bars[0:2] == bars[2:4], "the second statement repeats the first exactly"
        assert bars[4] == bars[0], "the third statement starts like the first"
        assert [m["made"] for m in sample.stats["phrases"]] == ["new", "repeat", "vary"]
        krn = sample.files["krn"].read_text()
        assert "!!phrase A (repeat) bars 3-4" in krn
        assert sample.stats["parsed"]


def test_generate_writes_only_the_formats_asked_for(tmp_path):
    """`--formats krn,mid` skips music21's MusicXML (the slow part of a kern sample); an unknown
    format is one line and exit code 2."""
    from typer.testing import CliRunner

    from cadenza.cli import app

    res = CliRunner().invoke(app, ["generate", "--model", "mozart-kern", "-o", str(tmp_path / "a"), "--bars", "2", "--formats", "krn,mid"])
    assert res.exit_code == 0, res.output
    names = {p.suffix for p in (tmp_path / "a").glob("sample-01.*")}
    assert {".krn", ".mid"} <= names and ".musicxml" not in names
    res = CliRunner().invoke(app, ["generate", "--model", "mozart-kern", "-o", str(tmp_path / "b"), "--formats", "krn,pdf"])
    assert res.exit_code == 2 and "choose among krn, mid, musicxml" in res.output
