"""--max-minutes across sessions: the checkpoint keeps the training seconds, so a resumed run goes
on with the cosine over time where it was and the limit counts the time of every session."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import pytest

from cadenza.training import TrainConfig, checkpoint, loop, train

# a cosine over a 40-second budget, 1,000 steps away: time, not steps, sets the learning rate
TIMED = dict(arch="transformer", rnn_size=32, num_layers=2, n_head=2, seq_length=32, batch_size=8, eval_every=4, eval_batches=2, threads=1, seed=5,
             schedule="cosine", warmup_steps=2, max_steps=1000, max_minutes=40 / 60)


class Killed(Exception):
    """Stands for a kill: training stops where it is, without a checkpoint."""


def _log(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines() if line]


@pytest.fixture
def ticking(monkeypatch):
    """The training clock moves one second each time it is read (once per step, once per
    checkpoint): time then depends only on the work done, the same in every run."""
    def install() -> None:
        ticks = itertools.count()
        monkeypatch.setattr(loop, "clock", lambda: float(next(ticks)))
    return install


def test_a_stopped_and_resumed_run_counts_time_as_an_uninterrupted_one(tmp_path, palestrina_dataset, ticking):
    ticking()
    straight = train(palestrina_dataset, tmp_path / "straight", TrainConfig(**TIMED))
    assert straight.step < 1000 and straight.elapsed >= 40  # stopped by the time limit

    run = tmp_path / "killed"

    def kill(s: dict) -> None:
        if s["step"] == 14:  # two steps past the checkpoint at 12, which a kill throws away
            raise Killed

    ticking()
    with pytest.raises(Killed):
        train(palestrina_dataset, run, TrainConfig(**TIMED), progress=kill)
    state = json.loads((run / "last.state.json").read_text())
    assert state["step"] == 12 and 12 < state["elapsed"] < 40
    ticking()  # a new session: the clock starts again from nothing, the checkpoint carries the time
    second = train(palestrina_dataset, run, TrainConfig(**TIMED))
    assert second.resumed_from == 12 and second.step == straight.step
    assert second.elapsed == straight.elapsed

    a, b = _log(tmp_path / "straight"), _log(run)
    assert [h["step"] for h in b] == [h["step"] for h in a]
    assert [h["elapsed"] for h in b] == [h["elapsed"] for h in a]
    assert [h["lr"] for h in b] == pytest.approx([h["lr"] for h in a], rel=1e-12)  # the cosine went on where it was
    assert [h["train_loss"] for h in b] == pytest.approx([h["train_loss"] for h in a], rel=1e-6)
    assert b[-1]["lr"] < 0.2 * TIMED.get("learning_rate", 2e-3)  # near the cosine's floor: the end of the budget


def test_a_run_whose_time_is_spent_adds_nothing_when_run_again(tmp_path, palestrina_dataset, ticking):
    ticking()
    done = train(palestrina_dataset, tmp_path / "r", TrainConfig(**TIMED))
    lines = len(_log(tmp_path / "r"))
    ticking()
    again = train(palestrina_dataset, tmp_path / "r", TrainConfig(**TIMED))
    assert again.resumed_from == again.step == done.step
    assert len(_log(tmp_path / "r")) == lines
    ticking()
    more = train(palestrina_dataset, tmp_path / "r", TrainConfig(**{**TIMED, "max_minutes": 50 / 60}))  # a longer limit goes on
    assert more.step > done.step and more.elapsed >= 50


def test_a_run_saved_before_the_clock_was_kept_resumes_with_its_logged_time(tmp_path, palestrina_dataset, ticking):
    """Checkpoints without ``elapsed`` (older runs) still resume; their time is read from the
    log, whose ``seconds`` restart from 0 in each session."""
    assert checkpoint.elapsed({"step": 9}, [{"step": 3, "seconds": 5.0}, {"step": 6, "seconds": 9.0}, {"step": 9, "seconds": 4.0}]) == 13.0
    assert checkpoint.elapsed({"step": 9, "elapsed": 2.5}, [{"step": 9, "seconds": 4.0}]) == 2.5
    assert checkpoint.elapsed({"step": 0}, []) == 0.0

    run = tmp_path / "old"
    ticking()
    train(palestrina_dataset, run, TrainConfig(**{**TIMED, "max_steps": 8}))
    for path in [run / "last.state.json", *run.glob("checkpoints/*/state.json")]:  # as an older version wrote them
        state = json.loads(path.read_text())
        del state["elapsed"]
        path.write_text(json.dumps(state))
    old = [{k: v for k, v in h.items() if k != "elapsed"} | {"seconds": s} for h, s in zip(_log(run), (12.0, 30.0))]
    (run / "log.jsonl").write_text("".join(json.dumps(h) + "\n" for h in old))
    ticking()
    res = train(palestrina_dataset, run, TrainConfig(**{**TIMED, "max_steps": 12}))
    assert res.resumed_from == 8 and res.step == 12
    assert _log(run)[-1]["elapsed"] == 30.0 + 5  # the logged 30 s, then four steps and an evaluation of one tick each


def test_the_lstm_rate_anneals_over_the_last_quarter_of_the_time():
    """char-rnn's schedule under --max-minutes (issue #20): full rate for three quarters of the
    time, then down linearly to a tenth at the limit; without a limit, char-rnn's per-epoch decay."""
    cfg = TrainConfig().resolved()
    assert cfg.learning_rate == 3e-3 and TrainConfig(arch="transformer").resolved().learning_rate == 2e-3
    assert [loop.lr_at(cfg, 5, 100, 10**7, f) for f in (0.0, 0.75, 0.875, 1.0, 1.5)] == pytest.approx([3e-3, 3e-3, 1.65e-3, 3e-4, 3e-4])
    assert loop.lr_at(cfg, 1500, 100, 10**7) == pytest.approx(3e-3 * 0.97**6)  # epoch 15: six decays after the tenth
    assert loop.lr_at(cfg, 1500, 100, 10**7, 0.875) == pytest.approx(3e-3 * 0.97**6 * 0.55)


def test_a_timed_cosine_run_warms_up_within_a_twentieth_of_its_time():
    """A fine-tune under --max-minutes with the automatic 500 warm-up steps that only has time for
    460 (adapt of kern-base, 10 CPU minutes): the warm-up ends after 5% of the time, the rate
    peaks and anneals to a tenth by the limit. Without a time limit, the warm-up is in steps."""
    timed = TrainConfig(schedule="cosine", learning_rate=1e-3, max_minutes=10).resolved()
    untimed = TrainConfig(schedule="cosine", learning_rate=1e-3).resolved()
    assert loop.lr_at(timed, 10, 100, 10**6, 0.025) == pytest.approx(0.5e-3)  # half the warm-up time: half the rate
    assert loop.lr_at(timed, 23, 100, 10**6, 0.05) == pytest.approx(1e-3 * (0.1 + 0.45 * (1 + math.cos(math.pi * 0.05))))  # warm after 5% of the time, on the cosine
    assert loop.lr_at(timed, 230, 100, 10**6, 0.5) == pytest.approx(1e-3 * (0.1 + 0.45), rel=1e-3)  # cosine midway by time
    assert loop.lr_at(timed, 459, 100, 10**6, 1.0) == pytest.approx(1e-4)
    assert loop.lr_at(untimed, 249, 100, 10**6, 0.0) == pytest.approx(0.5e-3)  # step 250 of 500 warm-up steps
