"""Jam mode's time to first note: how soon after the player's pause the reply's first note
reaches the page, and whether the reply keeps ahead of its own playback.

Starts ``cadenza serve``'s app on a free port (uvicorn, in this process), sends ``--trials``
phrases of 6-16 random notes to ``POST /api/jam`` over HTTP exactly as the page does, and times
each reply from sending the phrase to the first ``on`` line read back. (The page sends the
phrase when half the pause has passed, static/jam.js EARLY, and sounds the reply when the pause
runs out: this time is hidden in the pause's second half unless it is longer.) "Ahead" is the smallest margin, over every note of every reply,
between when a note is due in the reply's playback (its time after the first note) and when it
arrived. Measured idle, then again with ``--busy`` clients each generating without pause (issue
#23: jam replies must not wait behind generations); "from the last key up" adds the page's
default pause. Prints a table and writes benchmarks/results/jam_latency.json.

    python benchmarks/jam_latency.py [--model piano-notewise] [--trials 30] [--bars 2] [--busy 6]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import socket
import statistics
import sys
import threading
import time
from pathlib import Path

import httpx
import uvicorn

from cadenza.web import WebOptions, create_app

LOOKAHEAD_MS = 10  # static/jam.js: LOOKAHEAD, the page's scheduling margin
PAUSE_S = 0.8  # static/index.html: the page's default pause before a reply (from the last key up = this + from the pause)
RESULTS = Path(__file__).parent / "results" / "jam_latency.json"


def _quantile(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, int(round(q * len(xs) + 0.5)) - 1))]


def _phrase(rng: random.Random) -> list[dict]:
    t, notes = 0.0, []
    pitch = rng.randrange(55, 72)
    for _ in range(rng.randrange(6, 17)):
        d = rng.choice([0.15, 0.2, 0.3, 0.45])
        notes.append({"pitch": pitch, "start": round(t, 3), "duration": d * 0.9, "velocity": rng.randrange(60, 110)})
        t += d
        pitch = max(40, min(90, pitch + rng.choice([-4, -3, -2, -1, 1, 2, 3, 5])))
    return notes


def _measure(client: httpx.Client, args: argparse.Namespace, rng: random.Random) -> dict:
    """``args.trials`` replies (one more first, to warm, not counted): their latencies."""
    first, server_ms, ahead, notes, totals, lengths = [], [], [], [], [], []
    for trial in range(args.trials + 1):
        body = {"notes": _phrase(rng), "model": args.model, "bars": args.bars, "seed": trial}
        sent = time.perf_counter()
        t_first, worst = None, float("inf")
        with client.stream("POST", "/api/jam", json=body) as r:
            r.raise_for_status()
            for line in r.iter_lines():
                if not line:
                    continue
                ev, now = json.loads(line), time.perf_counter()
                if ev["type"] == "on":
                    if t_first is None:
                        t_first = now
                        lat, srv = (now - sent) * 1000, ev["server_ms"]
                    margin = ev["time"] - (now - t_first)  # due minus arrived, seconds
                    worst = min(worst, margin)
                elif ev["type"] == "end":
                    count, total, length = ev["notes"], ev["total_ms"], ev["seconds"]
                elif ev["type"] == "error":
                    raise SystemExit(ev["message"])
        if trial and t_first is not None:
            first.append(lat)
            server_ms.append(srv)
            ahead.append(worst * 1000)
            notes.append(count)
            totals.append(total)
            lengths.append(length)
    release = [x + 1000 * PAUSE_S for x in first]
    return {
        "trials": len(first),
        "first_note_ms": {"p50": round(statistics.median(first), 1), "p95": round(_quantile(first, 0.95), 1), "max": round(max(first), 1)},
        "from_release_ms": {"p50": round(statistics.median(release), 1), "p95": round(_quantile(release, 0.95), 1), "pause_s": PAUSE_S},
        "server_first_note_ms": {"p50": round(statistics.median(server_ms), 1), "p95": round(_quantile(server_ms, 0.95), 1)},
        "worst_margin_ahead_ms": round(min(ahead), 1), "page_lookahead_ms": LOOKAHEAD_MS, "late_replies": sum(a < -LOOKAHEAD_MS for a in ahead), "notes_per_reply": round(statistics.mean(notes), 1),
        "reply_generated_ms": {"p50": round(statistics.median(totals), 1)}, "reply_seconds": {"p50": round(statistics.median(lengths), 2)},
    }


def _generations(url: str, model: str, stop: threading.Event, done: list[float]) -> None:
    """One client generating without pause (8 bars, 3 variations, rendered) until ``stop``."""
    with httpx.Client(base_url=url, timeout=300) as c:
        k = 0
        while not stop.is_set():
            t = time.perf_counter()
            r = c.post("/api/generate", data={"model": model, "bars": "8", "variations": "3", "seed": str(k)})
            if r.status_code == 200:
                done.append(time.perf_counter() - t)
            k += 1


def local_server(model: str) -> tuple[uvicorn.Server, int, threading.Thread]:
    """``cadenza serve`` of ``model`` on a free local port, in a thread of this process, started;
    ``server.should_exit = True`` stops it (then join the thread)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(WebOptions(models=(model,), port=port)), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    return server, port, thread


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="piano-notewise")
    ap.add_argument("--trials", type=int, default=30)
    ap.add_argument("--bars", type=float, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--busy", type=int, default=6, help="generations kept running during the second measurement (0: idle only)")
    args = ap.parse_args()
    server, port, thread = local_server(args.model)
    rng = random.Random(args.seed)
    url = f"http://127.0.0.1:{port}"
    with httpx.Client(base_url=url, timeout=60) as client:
        row = {"model": args.model, "bars": args.bars, **_measure(client, args, rng)}
        if args.busy:
            stop, done = threading.Event(), []
            busy = [threading.Thread(target=_generations, args=(url, args.model, stop, done), daemon=True) for _ in range(args.busy)]
            for b in busy:
                b.start()
            time.sleep(3)  # every generation under way
            row["with_generations"] = {"running": args.busy, **_measure(client, args, rng)}
            stop.set()
            for b in busy:
                b.join(300)
            row["with_generations"]["generations_done"] = len(done)
            row["with_generations"]["generation_s_p50"] = round(statistics.median(done), 2) if done else None
    server.should_exit = True
    thread.join(10)
    row |= {
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}", "load_average": [round(x, 2) for x in os.getloadavg()],
        "date": time.strftime("%Y-%m-%d"), "command": " ".join(["python", "benchmarks/jam_latency.py", *sys.argv[1:]]),
    }
    print(f"jam time to first note ({args.model}, {row['trials']} replies of {args.bars:g} bars, over HTTP on this machine)")
    print(f"{'':36}{'p50':>8}{'p95':>8}{'max':>8}")
    for label, part in (("idle", row), (f"with {args.busy} generations running", row.get("with_generations"))):
        if part:
            f, s, r = part["first_note_ms"], part["server_first_note_ms"], part["from_release_ms"]
            print(f"{label + ': first note (ms)':36}{f['p50']:>8}{f['p95']:>8}{f['max']:>8}")
            print(f"{'  of which server (ms)':36}{s['p50']:>8}{s['p95']:>8}")
            print(f"{'  from the last key up (ms)':36}{r['p50']:>8}{r['p95']:>8}")
    print(f"worst margin ahead of playback (idle): {row['worst_margin_ahead_ms']} ms (a note arriving after its time; the page schedules "
          f"{LOOKAHEAD_MS} ms ahead, so it sounds late only below -{LOOKAHEAD_MS} ms)")
    print(f"a reply (p50): generated in {row['reply_generated_ms']['p50']:.0f} ms, {row['reply_seconds']['p50']:.1f} s to play")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(row, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
