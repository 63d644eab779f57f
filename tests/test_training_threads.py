"""Training's CPU threads (issue #24): one for a small model unless asked, OpenMP workers that
sleep soon, and torch's own count given back when training returns."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import torch

from cadenza.training import TrainConfig, train
from cadenza.training.threads import SMALL, training_threads


def test_a_small_model_on_a_cpu_trains_on_one_thread_unless_asked():
    cpu, gpu = torch.device("cpu"), torch.device("cuda")
    default = torch.get_num_threads()
    assert training_threads(0, 416_077, cpu) == 1  # the default LSTM 3x128
    assert training_threads(3, 416_077, cpu) == 3  # --threads 3
    assert training_threads(0, SMALL, cpu) == default  # a larger model keeps torch's count
    assert training_threads(0, 416_077, gpu) == default  # on a GPU the CPU threads are torch's


def test_training_uses_one_thread_and_gives_torch_its_count_back(tmp_path, palestrina_dataset):
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        train(palestrina_dataset, tmp_path / "r", TrainConfig(rnn_size=32, num_layers=2, seq_length=32, batch_size=8, max_steps=2, eval_every=2, eval_batches=2))
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
    log = [json.loads(line) for line in (tmp_path / "r" / "log.jsonl").read_text().splitlines()]
    assert [h["threads"] for h in log] == [1]


def test_cadenza_train_asks_openmp_to_spin_briefly_before_torch_loads():
    """libgomp reads GOMP_SPINCOUNT once, when torch loads: the command line must not load torch
    before ``cadenza.training`` sets it. A policy the user chose is kept."""
    code = "import sys, os, cadenza.cli; loaded = 'torch' in sys.modules; import cadenza.training; print(loaded, os.environ.get('GOMP_SPINCOUNT'))"
    env = {k: v for k, v in os.environ.items() if k not in ("GOMP_SPINCOUNT", "OMP_WAIT_POLICY")}

    def run(**extra: str) -> list[str]:
        return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=dict(env, **extra), timeout=120, check=True).stdout.split()

    assert run() == ["False", "1000"]
    assert run(GOMP_SPINCOUNT="50") == ["False", "50"]
    assert run(OMP_WAIT_POLICY="ACTIVE") == ["False", "None"]
