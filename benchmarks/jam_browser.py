"""Jam mode's time to first note in a real browser: from the page detecting the player's pause to
the reply's first note scheduled, in headless Chromium (Debian's ``chromium`` under Playwright).

Runs ``tests/test_web_browser.py``'s jam test (``--phrases`` phrases played on the on-screen keys, 1-bar
replies, the page's default model) with its artefacts in a temporary folder, idle and then with
``--busy`` generations running (issue #23), and writes what it recorded, with the command, to
benchmarks/results/jam_browser.json. The HTTP figure is ``jam_latency.py``'s.

    python benchmarks/jam_browser.py [--phrases 20] [--busy 6]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "jam_browser.json"
TEST = "tests/test_web_browser.py::test_jam_replies_and_records_time_to_first_note"


def _run(busy: int, phrases: int) -> dict:
    """The jam test once, with ``busy`` generations running; what it recorded."""
    with tempfile.TemporaryDirectory(prefix="cadenza-jam-browser-") as tmp:
        done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", TEST], cwd=ROOT,
                              env=os.environ | {"CADENZA_ARTEFACTS": tmp, "CADENZA_JAM_BUSY": str(busy), "CADENZA_JAM_PHRASES": str(phrases)})
        found = Path(tmp) / "jam_browser.json"
        if done.returncode or not found.exists():
            raise SystemExit(f"the browser jam test did not pass (exit {done.returncode}): nothing written")
        got = json.loads(found.read_text(encoding="utf-8"))
    ms = [round(x, 1) for x in got["ms"]]
    release = [round(x, 1) for x in got["from_release_ms"]]
    return {"replies": len(ms), "first_note_ms": ms, "p50_ms": round(statistics.median(ms), 1), "p95_ms": round(_quantile(ms, 0.95), 1), "max_ms": round(max(ms), 1),
            "from_release_ms": release, "from_release_p50_ms": round(statistics.median(release), 1), "from_release_p95_ms": round(_quantile(release, 0.95), 1),
            "pause_s": got["pause_s"], "server_first_note_ms": got.get("server_ms"),
            # where the time went: the server's wait before sampling, and the page's wait for the response to begin
            "server_wait_ms": got.get("server_wait_ms"), "response_begun_ms": [round(x, 1) for x in got.get("headers_ms") or []],
            "server_p50_ms": _p(got.get("server_ms"), 0.5), "server_p95_ms": _p(got.get("server_ms"), 0.95), "server_wait_p95_ms": _p(got.get("server_wait_ms"), 0.95)}


def _p(xs: list | None, q: float) -> float | None:
    xs = [x for x in xs or [] if x is not None]
    return round(_quantile(xs, q), 1) if xs else None


def _quantile(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, int(round(q * len(xs) + 0.5)) - 1))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--phrases", type=int, default=20)
    ap.add_argument("--busy", type=int, default=6, help="generations kept running during the second run (0: idle only)")
    args = ap.parse_args()
    load = [round(x, 2) for x in os.getloadavg()]
    row = {"what": "time from the page detecting the pause to the reply's first note scheduled, headless Chromium, 1-bar replies; "
                   "from_release: from the last key up, the pause setting included",
           **_run(0, args.phrases)}
    if args.busy:
        row["with_generations"] = {"running": args.busy, **_run(args.busy, args.phrases)}
    row |= {"machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}", "load_average": load,
            "date": time.strftime("%Y-%m-%d"), "command": "python benchmarks/jam_browser.py " + " ".join(sys.argv[1:]) + " (pytest " + TEST + ")"}
    RESULTS.write_text(json.dumps(row, indent=1) + "\n", encoding="utf-8")
    print(f"browser time to first note, idle: p50 {row['p50_ms']:.0f} ms, p95 {row['p95_ms']:.0f} ms over {row['replies']} replies")
    if args.busy:
        b = row["with_generations"]
        print(f"with {args.busy} generations running: p50 {b['p50_ms']:.0f} ms, p95 {b['p95_ms']:.0f} ms; from the last key up p95 {b['from_release_p95_ms']:.0f} ms")
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
