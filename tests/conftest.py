"""Shared fixtures: real data from music21's corpus and, when present, ../shared."""

from __future__ import annotations

import socket
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


def shared(*parts: str) -> Path:
    """A path under ../shared, or skip the test cleanly when it is absent."""
    p = SHARED.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"{p} not present")
    return p


@pytest.fixture(scope="session")
def palestrina_paths() -> list[Path]:
    from music21 import corpus

    return [Path(p) for p in corpus.getComposer("palestrina")]


@pytest.fixture(scope="session")
def palestrina_dataset(tmp_path_factory, palestrina_paths) -> Path:
    """A small kern dataset of 4-voice Palestrina movements (music21's own corpus, no licence
    restriction), prepared once per test session."""
    from cadenza.data.prepare import prepare

    out = tmp_path_factory.mktemp("ds") / "palestrina"
    prepare([str(p) for p in palestrina_paths[:80]], out, "kern", {"spines": 4}, workers=1, seed=1)
    return out


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory, palestrina_dataset) -> Path:
    """A briefly trained small LSTM: enough to exercise sampling and export, not to sound good."""
    from cadenza.training import train, TrainConfig

    run = tmp_path_factory.mktemp("runs") / "tiny"
    train(palestrina_dataset, run, TrainConfig(rnn_size=48, num_layers=2, seq_length=50, batch_size=16, max_steps=150, eval_every=50, eval_batches=2, seed=3))
    return run


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def live_server(app: Any, port: int) -> Iterator[str]:
    """Serve ``app`` with uvicorn on 127.0.0.1:``port`` in a thread; yields its base URL."""
    import uvicorn

    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not srv.started and time.time() < deadline:
        time.sleep(0.05)
    assert srv.started, "server did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(10)
