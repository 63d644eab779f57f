"""Jam mode's time to first note in a real browser: from the page detecting the player's pause to
the reply's first note scheduled, in headless Chromium (Debian's ``chromium`` under Playwright).

Runs ``tests/test_web_browser.py``'s jam test (5 phrases played on the on-screen keys, 1-bar
replies, the page's default model) with its artefacts in a temporary folder, and writes what it
recorded, with the command, to benchmarks/results/jam_browser.json. The HTTP-only figure (30
replies, p50 and p95) is ``jam_latency.py``'s.

    python benchmarks/jam_browser.py
"""

from __future__ import annotations

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


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="cadenza-jam-browser-") as tmp:
        load = [round(x, 2) for x in os.getloadavg()]
        done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", TEST], cwd=ROOT,
                              env=os.environ | {"CADENZA_ARTEFACTS": tmp})
        found = Path(tmp) / "jam_browser.json"
        if done.returncode or not found.exists():
            raise SystemExit(f"the browser jam test did not pass (exit {done.returncode}): nothing written")
        got = json.loads(found.read_text(encoding="utf-8"))
    ms = [round(x, 1) for x in got["ms"]]
    row = {
        "what": "time from the page detecting the pause to the reply's first note scheduled, headless Chromium, 1-bar replies",
        "replies": len(ms), "first_note_ms": ms, "p50_ms": round(statistics.median(ms), 1), "max_ms": round(max(ms), 1),
        "server_first_note_ms": got.get("server_ms"),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}", "load_average": load,
        "date": time.strftime("%Y-%m-%d"), "command": "python benchmarks/jam_browser.py (pytest " + TEST + ")",
    }
    RESULTS.write_text(json.dumps(row, indent=1) + "\n", encoding="utf-8")
    print(f"browser time to first note: p50 {row['p50_ms']:.0f} ms, max {row['max_ms']:.0f} ms over {len(ms)} replies; wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
