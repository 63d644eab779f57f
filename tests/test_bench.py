"""The pieces of benchmarks/bench.py (issue #15) on tiny inputs: the 2015 and Clara baselines
train a few steps and score whole test pieces, the throughput harness times both loops, and the
table is written as JSON with the expected keys."""

from __future__ import annotations

import json
import math
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import bench  # noqa: E402
import charrnn_2015  # noqa: E402
import train_throughput  # noqa: E402


@pytest.mark.parametrize("recipe", [charrnn_2015.Recipe(rnn_size=16, num_layers=2, seq_length=20, batch_size=4, eval_every=3),
                                    charrnn_2015.Recipe("clara", rnn_size=16, num_layers=2, embed=8, seq_length=20, batch_size=4, eval_every=3, val_batches=2)])
def test_baseline_trains_and_scores_whole_test_pieces(palestrina_dataset, recipe, monkeypatch) -> None:
    import cadenza.evaluation.likelihood as likelihood
    from cadenza.evaluation.heldout import split_pieces
    from cadenza.training.data import Stream, load_vocab

    scored = []  # the model the test pieces are scored with
    real = likelihood.heldout_bits
    monkeypatch.setattr(likelihood, "heldout_bits", lambda model, *a, **kw: scored.append(model) or real(model, *a, **kw))
    res = charrnn_2015.train(palestrina_dataset, recipe, minutes=0, max_steps=6, log=lambda _: None)
    assert res["steps"] == 6 and [h["step"] for h in res["history"]] == [3, 6]
    test_chars = sum(len(text) for text, _ in split_pieces(palestrina_dataset, "test", "char"))
    assert res["test_pieces"] >= 1 and res["test_tokens"] == test_chars  # every character, after the separator
    vocab = len(json.loads((palestrina_dataset / "vocab.json").read_text()))
    assert 0 < res["test_bits_per_token"] < math.log2(vocab) + 1  # near uniform after 6 steps, not absurd
    # the best validation figure, recomputed here from the weights the test pieces were scored with
    # (so also: those are the best weights), over the validation split read as char-rnn reads it
    vids = Stream.load(palestrina_dataset, "val", "char", load_vocab(palestrina_dataset)).ids
    vx, vy = charrnn_2015.streams(vids, min(recipe.batch_size, max(1, (len(vids) - 1) // recipe.seq_length)), recipe.seq_length)
    (model,) = scored
    model.eval()
    state, nats, count = None, 0.0, 0
    with torch.no_grad():
        for k in range(min(vx.shape[1] // recipe.seq_length, recipe.val_batches or vx.shape[1])):
            cols = slice(k * recipe.seq_length, (k + 1) * recipe.seq_length)
            logits, state = model(vx[:, cols], state)
            nats += torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), vy[:, cols].reshape(-1), reduction="sum").item()
            count += vy[:, cols].numel()
    assert res["best_val_bits_per_token"] == pytest.approx(nats / count / math.log(2), abs=1e-3)
    assert res["best_val_bits_per_token"] == pytest.approx(min(h["val_loss"] for h in res["history"]) / math.log(2), abs=1e-3)


def test_charrnn_streams_carry_state_column_by_column() -> None:
    import numpy as np

    x, y = charrnn_2015.streams(np.arange(101), batch=2, seq=10)
    assert x.shape == (2, 50) and x[1, 0].item() == 50 and torch.equal(y, x + 1)  # two contiguous halves, as char-rnn's view(batch, -1)


def test_throughput_harness_times_both_loops(palestrina_dataset, monkeypatch) -> None:
    import time

    timed: dict[str, list[tuple[int, float]]] = {"cadenza": [], "minimal": []}  # (steps, the loop's own seconds) per call

    def clocked(name, loop):
        def run(dataset, cfg):
            t0 = time.time()
            secs = loop(dataset, cfg)
            outside = time.time() - t0
            assert 0.5 * outside <= secs <= outside, (name, secs, outside)  # the loop times the call, on this test's clock too (a busy machine adds to the outside)
            timed[name].append((cfg.max_steps, secs))
            return secs
        return run

    monkeypatch.setattr(train_throughput, "cadenza_loop", clocked("cadenza", train_throughput.cadenza_loop))
    monkeypatch.setattr(train_throughput, "minimal_loop", clocked("minimal", train_throughput.minimal_loop))
    threads = torch.get_num_threads()
    try:
        cfg = replace(train_throughput.config(4, eval_every=2), rnn_size=16, num_layers=1, batch_size=4, seq_length=20, eval_batches=1)
        res = train_throughput.measure(palestrina_dataset, cfg, rounds=2, log=lambda _: None)
    finally:
        torch.set_num_threads(threads)
    # each loop: one warm-up call of 2 steps (left out), then 2 timed rounds of 4 steps of 4 x 20 tokens
    rate = {}
    for name, calls in timed.items():
        assert [steps for steps, _ in calls] == [2, 4, 4], name
        rate[name] = 2 * 4 * 4 * 20 / sum(s for _, s in calls[1:])
    assert res["tokens_per_second"] == pytest.approx(rate, abs=0.5)
    assert res["ratio"] == pytest.approx(rate["cadenza"] / rate["minimal"], abs=5e-4)


def test_table_is_written_as_json_with_its_columns(tmp_path) -> None:
    rows = [bench.row("quality: x", 1.0, 1.25, 0.8, "<= 0.85", True), bench.row("memory: y", 512, None, None, "reported", None)]
    paths = bench.write({"date": "2026-01-02", "machine": bench.machine(), "commands": ["c"], "rows": rows}, tmp_path)
    assert [p.name for p in paths] == ["latest.json", "bench-2026-01-02.json"]
    data = json.loads(paths[0].read_text())
    assert data == json.loads(paths[1].read_text())
    assert all(set(bench.COLUMNS) <= set(r) for r in data["rows"]) and data["machine"]["torch"] == torch.__version__
    text = bench.table(rows)
    assert "| quality: x | 1 | 1.25 | 0.8 | <= 0.85 | yes |" in text and "| memory: y | 512 |" in text
