"""The bounded worker pool that runs generation off the event loop, and the progress table.

Sampling and rendering are CPU work: they run in a few threads (``workers``) with at most
``queue`` more waiting. A request beyond that is refused at once with 503 and a message rather
than left to hang, so a burst of requests is always answered. Torch runs one thread per worker:
a small recurrent model gains nothing from intra-op threads, and the pool is the parallelism.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, TypeVar

T = TypeVar("T")


class Busy(Exception):
    """The pool and its queue are full."""


def _one_torch_thread() -> None:
    import torch

    torch.set_num_threads(1)


class WorkerPool:
    """``await pool.run(fn, *args)`` runs ``fn`` in a worker thread, or raises :class:`Busy`."""

    def __init__(self, workers: int = 2, queue: int = 8, name: str = "cadenza-web"):
        self.workers, self.queue = workers, queue
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name, initializer=_one_torch_thread)
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
