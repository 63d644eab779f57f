"""The bounded worker pool that runs generation off the event loop, and the progress table.

Sampling and rendering are CPU work: they run in a few threads (``workers``) with at most
``queue`` more waiting. A request beyond that is refused at once with 503 and a message rather
than left to hang, so a burst of requests is always answered. Torch runs one thread per worker:
a small recurrent model gains nothing from intra-op threads, and the pool is the parallelism.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, Callable, Iterator, TypeVar

T = TypeVar("T")


class Busy(Exception):
    """The pool and its queue are full."""


def _one_torch_thread(nice: int = 0) -> None:
    import torch

    torch.set_num_threads(1)
    if nice and hasattr(os, "setpriority"):  # Linux: a thread id names one thread, so only this worker yields
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)
        except OSError:
            pass


class JamFirst:
    """Jam replies before generations (issue #23: with 6 generations running, a reply's first
    note came 684 ms after the pause at p95). While a reply is being sampled, a generation waits
    at its next progress step (at most ``longest`` seconds), and generation workers run at a
    lower CPU priority (``nice``), so the reply's thread gets the cores when it needs them."""

    def __init__(self, longest: float = 2.0):
        self.longest = longest
        self._replies = 0
        self._cond = threading.Condition()

    @contextmanager
    def reply(self) -> Iterator[None]:
        with self._cond:
            self._replies += 1
        try:
            yield
        finally:
            with self._cond:
                self._replies -= 1
                self._cond.notify_all()

    def wait(self) -> None:
        """Called by generations between steps: returns when no reply is being sampled."""
        with self._cond:
            self._cond.wait_for(lambda: self._replies == 0, timeout=self.longest)


class WorkerPool:
    """``await pool.run(fn, *args)`` runs ``fn`` in a worker thread, or raises :class:`Busy`."""

    def __init__(self, workers: int = 2, queue: int = 8, name: str = "cadenza-web", nice: int = 0):
        self.workers, self.queue = workers, queue
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name, initializer=_one_torch_thread, initargs=(nice,))
        self._lock = threading.Lock()
        self._taken = 0  # running + waiting

    @property
    def load(self) -> dict[str, int]:
        with self._lock:
            return {"running": min(self._taken, self.workers), "waiting": max(0, self._taken - self.workers), "workers": self.workers, "queue": self.queue}

    def _take(self) -> int:
        with self._lock:
            if self._taken >= self.workers + self.queue:
                raise Busy(f"the server is busy ({self._taken} requests in hand); try again in a few seconds")
            self._taken += 1
            return self._taken

    def _give(self, *_: Any) -> None:
        with self._lock:
            self._taken -= 1

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        self._take()
        try:
            future = self._executor.submit(fn, *args)
        except BaseException:
            self._give()
            raise
        # the slot is freed when the work ends, even if the client has gone away meanwhile
        future.add_done_callback(self._give)
        return await asyncio.wrap_future(future)

    def submit(self, fn: Callable[..., T], *args: Any):
        """Start ``fn`` now (or raise :class:`Busy`); returns a concurrent future."""
        self._take()
        future = self._executor.submit(fn, *args)
        future.add_done_callback(self._give)
        return future

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


class ProgressTable:
    """What each job is doing, by the id the page chose, for the page to poll; the oldest
    entries are forgotten past ``keep``."""

    def __init__(self, keep: int = 500):
        self.keep = keep
        self._jobs: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def update(self, job: str | None, stage: str, done: int = 0, total: int = 0, **extra: Any) -> None:
        if not job:
            return
        with self._lock:
            self._jobs[job] = {"stage": stage, "done": done, "total": total, "updated": time.time(), **extra}
            self._jobs.move_to_end(job)
            while len(self._jobs) > self.keep:
                self._jobs.popitem(last=False)

    def get(self, job: str) -> dict[str, Any] | None:
        with self._lock:
            got = self._jobs.get(job)
            return dict(got) if got else None


class RenderPool:
    """Engraving and synthesis in their own processes (``workers``, at CPU priority ``nice``):
    verovio, matplotlib and the SoundFont synthesiser hold the interpreter lock for hundreds of
    milliseconds a call, and in a worker thread that held up jam replies and every other request
    (issue #23: first note 452 ms late at p95 with 6 generations running). ``pool.call(fn,
    *args)`` runs ``fn`` in a render process and waits for it, releasing the lock meanwhile."""

    def __init__(self, workers: int = 2, nice: int = 10):
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        self._executor = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"), initializer=_lower, initargs=(nice,))
        self.workers = workers

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return self._executor.submit(fn, *args, **kwargs).result()

    def warm(self, fn: Callable[[], Any]) -> None:
        """Start every process and run ``fn`` (imports) in each before the first request."""
        for f in [self._executor.submit(fn) for _ in range(self.workers)]:
            f.result()

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


def _lower(nice: int) -> None:
    if nice and hasattr(os, "nice"):
        os.nice(nice)
