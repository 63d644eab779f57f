"""Worker processes that one bad file cannot take down: each file is a job with a time limit.

``ProcessPoolExecutor`` loses the whole run when one worker dies (``BrokenProcessPool``: a parser
that segfaults, or is killed for memory) and has no way to stop a job that hangs. Here each
worker reads one job at a time over its own pipe; a worker that dies costs only the file it was
reading, one that overruns the time limit is killed, and either is replaced by a fresh worker
for the files still to come.

The limit is CPU time where the system tells it (Linux: ``/proc``), so a busy or niced machine
skips no file a quiet one would read (wall-clock limits made a corpus depend on the load); a job
that waits without computing is stopped after :data:`WAIT_FACTOR` times the limit in wall time.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import time
from collections import deque
from multiprocessing.connection import wait
from typing import Any, Callable

FILE_TIMEOUT = 300.0  # CPU seconds one file may take; music21 reads a long score in well under a minute
WAIT_FACTOR = 4  # a job idle (not computing) for this many times the limit, in wall time, is stopped too


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds a process has used (Linux's /proc; None elsewhere)."""
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, AttributeError):
        return None


def run_isolated(
    func: Callable[[Any], Any],
    jobs: list[Any],
    workers: int,
    timeout: float | None,
    failed: Callable[[Any, str], Any],
    done: Callable[[int, Any], None],
) -> None:
    """``func(job)`` for every job in up to ``workers`` child processes; ``done(index, result)``
    is called in the parent as results arrive (in any order). A job whose worker crashes or runs
    past ``timeout`` seconds gets ``failed(job, reason)`` as its result instead. ``func`` must be
    a module-level function that returns, not raises."""
    ctx = multiprocessing.get_context("fork" if sys.platform.startswith("linux") else None)
    queue = deque(enumerate(jobs))
    pool: list[_Worker] = []
    try:
        while queue or any(w.busy for w in pool):
            while queue and (len(pool) < max(1, workers) or any(not w.busy for w in pool)):
                w = next((w for w in pool if not w.busy), None)
                if w is None:
                    w = _Worker(ctx, func)
                    pool.append(w)
                w.give(*queue.popleft())
            busy = [w for w in pool if w.busy]
            left = [timeout - (time.monotonic() - w.started) for w in busy] if timeout else []
            # past the wall-clock limit a job may still be within its CPU time: look again every half second
            wait([w.conn for w in busy] + [w.proc.sentinel for w in busy], timeout=(min(left) + 0.05 if min(left) > 0 else 0.5) if left else None)
            for w in busy:
                got = w.collect(timeout)
                if got is None:
                    continue
                index, result, reason = got
                if reason:
                    result = failed(jobs[index], reason)
                    pool.remove(w)  # its process is gone (or killed): a fresh one takes the next job
                    w.close()
                done(index, result)
    finally:
        for w in pool:
            w.close()


class _Worker:
    def __init__(self, ctx: Any, func: Callable[[Any], Any]):
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_serve, args=(child, func), daemon=True)
        self.proc.start()
        child.close()
        self.busy = False
        self.index = -1
        self.started = 0.0
        self.cpu_started: float | None = None

    def give(self, index: int, job: Any) -> None:
        self.conn.send(job)
        self.busy, self.index, self.started = True, index, time.monotonic()
        self.cpu_started = cpu_seconds(self.proc.pid)

    def collect(self, timeout: float | None) -> tuple[int, Any, str] | None:
        """``(index, result, "")`` when the job finished, ``(index, None, reason)`` when the worker
        died or ran out of time (and is then gone), or None while it is still working."""
        if self.conn.poll():
            try:
                result = self.conn.recv()
            except (EOFError, OSError):
                return self._gone()
            self.busy = False
            return self.index, result, ""
        if not self.proc.is_alive():
            return self._gone()
        if timeout:
            wall = time.monotonic() - self.started
            now = cpu_seconds(self.proc.pid) if self.cpu_started is not None else None
            if now is not None and now - self.cpu_started > timeout:
                why = f"took more than {timeout:g} s of CPU time"
            elif now is None and wall > timeout:
                why = f"took longer than {timeout:g} s"
            elif wall > WAIT_FACTOR * timeout:
                why = f"took longer than {WAIT_FACTOR * timeout:g} s without finishing"
            else:
                return None
            self.proc.kill()
            self.proc.join(5)
            self.busy = False
            return self.index, None, f"{why}; stopped (raise the limit with --file-timeout)"
        return None

    def _gone(self) -> tuple[int, Any, str]:
        self.proc.join(5)
        self.busy = False
        code = self.proc.exitcode
        if code is not None and code < 0:
            try:
                how = signal.Signals(-code).name
            except ValueError:
                how = f"signal {-code}"
            why = f"the reader crashed on it ({how}{', out of memory?' if how == 'SIGKILL' else ''})"
        else:
            why = f"the reader stopped on it (exit code {code})"
        return self.index, None, why

    def close(self) -> None:
        try:
            self.conn.send(None)
        except (OSError, ValueError):
            pass
        self.proc.join(1)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join(1)
        self.conn.close()


def _serve(conn: Any, func: Callable[[Any], Any]) -> None:
    """A worker: jobs in, results out, until told to stop (None) or the parent goes away."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError, KeyboardInterrupt):
            return
        if job is None:
            return
        conn.send(func(job))
