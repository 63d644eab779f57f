"""How soon the page answers a continuation of a long upload (issue #23: "a continuation of a
200-bar upload returns in under 3 s"): the 210-bar first movement of Mozart's sonata K. 545
(shared corpora, ``sonata16-1.krn``) sent to ``POST /api/continue`` over HTTP exactly as the page
sends it (multipart, ``mozart-kern``, 4 new bars, 1 variation), timed from sending to the answer
with its excerpt engraved and synthesised. One warm-up request first, not counted.

    python benchmarks/page_speed.py [--repeats 5] [--model mozart-kern] [--bars 4]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from jam_latency import local_server  # noqa: E402  (the same local server)


ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "page_speed.json"
UPLOAD = ROOT.parent / "shared" / "corpora" / "mozart-piano-sonatas" / "sonata16-1.krn"
TARGET_S = 3.0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--model", default="mozart-kern")
    ap.add_argument("--bars", type=int, default=4)
    ap.add_argument("--upload", type=Path, default=UPLOAD, help="the long file continued (default: the shared corpus's K. 545 first movement)")
    args = ap.parse_args()
    if not args.upload.is_file():
        raise SystemExit(f"{args.upload}: not found (the shared corpora; --upload FILE)")
    body = args.upload.read_bytes()
    server, port, thread = local_server(args.model)
    times, bars = [], None
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as c:
        bars = c.post("/api/notes", files={"file": (args.upload.name, body, "text/plain")}).json()["bars"]
        for k in range(args.repeats + 1):
            t = time.perf_counter()
            r = c.post("/api/continue", data={"model": args.model, "bars": str(args.bars), "variations": "1", "seed": str(k)},
                       files={"file": (args.upload.name, body, "text/plain")})
            took = time.perf_counter() - t
            if r.status_code != 200:
                raise SystemExit(f"the continuation failed: {r.status_code} {r.text}")
            if k:
                times.append(took)
    server.should_exit = True
    thread.join(10)
    row = {"what": f"POST /api/continue of a {bars}-bar upload ({args.upload.name}), {args.bars} new bars, 1 variation, its excerpt engraved and synthesised; seconds from sending to the answer",
           "model": args.model, "upload_bars": bars, "repeats": len(times), "seconds": [round(x, 2) for x in times],
           "p50_s": round(statistics.median(times), 2), "max_s": round(max(times), 2), "target_s": TARGET_S, "under_target": max(times) < TARGET_S,
           "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}", "load_average": [round(x, 2) for x in os.getloadavg()],
           "date": time.strftime("%Y-%m-%d"), "command": " ".join(["python", "benchmarks/page_speed.py", *sys.argv[1:]])}
    print(f"continuation of a {bars}-bar upload ({args.model}, {args.bars} new bars): p50 {row['p50_s']} s, max {row['max_s']} s over {len(times)} "
          f"(target under {TARGET_S:g} s; load average {row['load_average'][0]})")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(row, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
