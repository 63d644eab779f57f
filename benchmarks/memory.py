"""Peak memory of the commands that once grew without bound, on real data and damaged files.

Each case runs the real ``cadenza`` command in a child process while a sampler adds up the
resident memory (VmRSS) of it and every process it starts (prepare's workers) every 20 ms; the
peak of that sum is what the machine must hold. Inputs are built in a temporary folder, never in
the repository: a ~60 MB kern corpus made of copies of ../shared/corpora, a MIDI file with one
note ten hours in (47 bytes), a zip bomb .mxl, and piano-midi.de encoded chordwise at 12 steps a
quarter on 88 keys (the largest arrays the MIDI codecs build). Prints a table and writes
benchmarks/results/memory.json.

    python benchmarks/memory.py [--kern-mb 60] [--workers 2]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


def tree_rss(pid: int) -> int:
    """Resident bytes of ``pid`` and all its descendants (Linux /proc)."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/status") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
                        break
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    todo += [int(c) for c in fh.read().split()]
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return total


def measure(args: list[str], cwd: Path, timeout: float = 1800) -> dict:
    """Run ``cadenza ARGS``; its exit code, seconds, peak memory of its process tree, and the
    last line it printed on stderr."""
    t0 = time.time()
    proc = subprocess.Popen([sys.executable, "-m", "cadenza.cli", *args], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = [0]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], tree_rss(proc.pid))
            stop.wait(0.02)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    try:
        _, err = proc.communicate(timeout=timeout)
    finally:
        stop.set()
        th.join()
    lines = [ln for ln in err.splitlines() if ln.strip()]
    return {"exit": proc.returncode, "seconds": round(time.time() - t0, 1), "peak_mb": round(peak[0] / 2**20), "stderr": lines[-1][:160] if lines else ""}


def kern_corpus(dest: Path, mb: float) -> tuple[int, int]:
    """Copies of every kern file under ../shared/corpora until ``mb`` MB, each copy in its own
    folder (so names stay unique; exact duplicates are found and dropped after encoding, which
    is where the memory goes). Returns (files, bytes)."""
    files = sorted(p for p in (SHARED / "corpora").rglob("*.krn"))
    size = sum(p.stat().st_size for p in files)
    copies = max(1, int(mb * 1e6 // size) + (mb * 1e6 % size > 0))
    n = total = 0
    for k in range(copies):
        for p in files:
            if total >= mb * 1e6:
                return n, total
            out = dest / f"copy{k}" / p.relative_to(SHARED / "corpora")
            out.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(p, out)
            n += 1
            total += p.stat().st_size
    return n, total


def damaged_files(dest: Path) -> dict[str, Path]:
    import mido

    stray = mido.MidiFile(ticks_per_beat=96)
    stray.tracks.append(mido.MidiTrack([mido.Message("note_on", note=60, velocity=80, time=72000 * 96), mido.Message("note_off", note=60, time=96)]))
    stray.save(dest / "stray.mid")
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("score.musicxml", b"<" + b" " * (1 << 30))  # 1 GB of spaces, ~1 MB zipped
    (dest / "bomb.mxl").write_bytes(bomb.getvalue())
    return {"stray": dest / "stray.mid", "bomb": dest / "bomb.mxl"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kern-mb", type=float, default=60.0)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    if not (SHARED / "corpora").is_dir():
        sys.exit(f"{SHARED / 'corpora'} is not here: nothing to measure")
    rows = []
    with tempfile.TemporaryDirectory(prefix="cadenza-memory-") as tmp:
        tmp = Path(tmp)
        n, size = kern_corpus(tmp / "kern", args.kern_mb)
        bad = damaged_files(tmp)
        longest = max((SHARED / "midi" / "piano-midi").rglob("*.mid"), key=lambda p: p.stat().st_size)
        w = str(args.workers)
        cases = [
            (f"prepare kern, {n} files, {size / 1e6:.0f} MB", ["prepare", str(tmp / "kern"), "-o", str(tmp / "ds-kern"), "--codec", "kern", "--workers", w]),
            ("prepare kern, ../shared/corpora, --transpose all", ["prepare", str(SHARED / "corpora"), "-o", str(tmp / "ds-kern12"), "--codec", "kern", "--transpose", "all", "--workers", w]),
            ("prepare chordwise, piano-midi.de, 12 steps/quarter, 88 keys", ["prepare", str(SHARED / "midi" / "piano-midi"), "-o", str(tmp / "ds-cw"), "--codec", "chordwise",
                                                                            "--steps-per-quarter", "12", "--note-range", "88", "--workers", w]),
            ("render --to wav, one note 10 hours in (47 bytes)", ["render", str(bad["stray"]), "--to", "wav", "-o", str(tmp / "r1")]),
            (f"render --to wav, {longest.name} (longest piano-midi.de file)", ["render", str(longest), "--to", "wav", "-o", str(tmp / "r2")]),
            ("render --to svg, zip bomb .mxl (1 GB inflated)", ["render", str(bad["bomb"]), "--to", "svg", "-o", str(tmp / "r3")]),
            ("prepare notewise, zip bomb .mxl + stray MIDI", ["prepare", str(bad["bomb"]), str(bad["stray"]), "-o", str(tmp / "ds-bad"), "--codec", "notewise"]),
        ]
        for name, cmd in cases:
            r = measure(cmd, tmp)
            r["case"] = name
            rows.append(r)
            print(f"{name:62s} exit {r['exit']}  {r['seconds']:7.1f} s  peak {r['peak_mb']:6d} MB  {r['stderr'][:70]}", flush=True)
    print()
    print("| case | exit | seconds | peak memory (MB, all processes) |")
    print("|---|---|---|---|")
    for r in rows:
        print(f"| {r['case']} | {r['exit']} | {r['seconds']} | {r['peak_mb']:,} |")
    out = ROOT / "benchmarks" / "results" / "memory.json"
    out.write_text(json.dumps({"machine": platform.platform(), "cpus": os.cpu_count(), "workers": args.workers, "rows": rows}, indent=1) + "\n")
    print(f"\nwritten {out}")


if __name__ == "__main__":
    main()
