"""The server's output folder: one sub-folder per job, bounded in count and size, and the only
place files are served from.

A file is named by ``/files/<job>/<name>``; both parts must be plain names (letters, digits,
``.``, ``_``, ``-``; no leading dot) and the resolved path must lie inside the folder, so no
path, encoded or not, reaches anything else.
"""

from __future__ import annotations

import re
import secrets
import shutil
import tempfile
import threading
import time
from pathlib import Path

NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}")


class ResultStore:
    """``root``: the output folder (a fresh temporary folder when None, removed on close).
    Past ``keep`` jobs or ``max_bytes`` in all, the oldest finished jobs are removed."""

    def __init__(self, root: Path | None = None, keep: int = 200, max_bytes: int = 1 << 30):
        self._own = root is None
        self.root = Path(tempfile.mkdtemp(prefix="cadenza-web-")) if root is None else Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.root = self.root.resolve()
        self.keep, self.max_bytes = keep, max_bytes
        self._active: set[str] = set()
        self._lock = threading.Lock()

    def new_job(self) -> tuple[str, Path]:
        """A fresh job id (time-ordered) and its empty folder; older jobs are pruned first."""
        job = f"{time.time_ns() // 1_000_000:x}-{secrets.token_hex(4)}"
        with self._lock:
            self._active.add(job)
            self._prune()
        folder = self.root / job
        folder.mkdir()
        return job, folder

    def finish(self, job: str) -> None:
        with self._lock:
            self._active.discard(job)

    def _prune(self) -> None:
        jobs = sorted((p for p in self.root.iterdir() if p.is_dir()), key=lambda p: p.name)
        done = [p for p in jobs if p.name not in self._active]
        sizes = {p: sum(f.stat().st_size for f in p.rglob("*") if f.is_file()) for p in done}
        total = sum(sizes.values())
        # room for the job about to start: keep - 1 others
        while done and (len(jobs) >= self.keep or total > self.max_bytes):
            old = done.pop(0)
            jobs.remove(old)
            total -= sizes[old]
            shutil.rmtree(old, ignore_errors=True)

    def path(self, job: str, name: str) -> Path | None:
        """The file ``name`` of ``job`` if both are plain names and it lies inside the folder."""
        if not (NAME.fullmatch(job) and NAME.fullmatch(name)) or ".." in name:
            return None
        p = (self.root / job / name).resolve()
        if not p.is_relative_to(self.root) or p.parent.parent != self.root:
            return None
        return p

    def url(self, path: Path) -> str:
        rel = Path(path).resolve().relative_to(self.root)
        return "/files/" + "/".join(rel.parts)

    def close(self) -> None:
        if self._own:
            shutil.rmtree(self.root, ignore_errors=True)
