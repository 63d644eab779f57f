"""Training beside busy programs (issue #24): tokens/s of ``cadenza train`` with its default
options alone, against the same while busy processes (``python -c "while True: pass"``) share
the cores. Target: with two busy processes, default training keeps at least 40% of its idle
throughput.

    python benchmarks/contention.py [DATASET] [--steps 300] [--busy 2] [--rounds 2] [--json PATH]

Without DATASET it prepares Scott Joplin's rags (../shared/corpora/joplin, the corpus of the
issue's figures) into a temporary folder. Each figure is one ``cadenza train`` process (LSTM 3x128,
batch 50 x 50: the defaults) for ``--steps`` steps; its tokens/s are steps x batch x sequence over
the seconds its log gives for the loop (start-up left out, evaluations counted). Rounds alternate
idle and busy; each figure is the median of its rounds. ``before`` runs what the default was
before issue #24 (torch's thread count, one per core, and libgomp's own waiting: torch loaded
before Cadenza could ask for short spinning); ``threads`` as many threads, their idle workers
sleeping soon (a larger model's default now). ``--max-minutes`` only caps a run that collapses.

"Idle" means no busy process of ours: the script measures how many cores other programs kept busy
just before each figure (``background_cores``), so a machine that was not quiet shows in the
results. Run it on a quiet machine for the figures the target speaks of. On a shared machine,
``--boost`` (root, Linux) runs training and the busy processes each in its own scheduling group at
the highest priority, so the other programs get ~1% of the cores while a figure is measured: close
to a quiet machine for the figures, hard on the other programs meanwhile (keep ``--steps`` small).
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
RESULTS = ROOT / "benchmarks" / "results" / "contention.json"
BUSY = "while True: pass"
# the command line with torch loaded first: Cadenza can then no longer ask OpenMP to spin briefly
TORCH_FIRST = "import sys, torch; from cadenza.cli import app; sys.argv[0] = 'cadenza'; app()"


def busy_cores(seconds: float = 1.0) -> float | None:
    """Cores kept busy by the machine's other programs over ``seconds`` (Linux /proc/stat)."""
    def sample() -> tuple[int, int]:
        with open("/proc/stat", encoding="ascii") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        return sum(v[:8]), v[3] + v[4]  # all, idle + iowait

    try:
        t0, i0 = sample()
        time.sleep(seconds)
        t1, i1 = sample()
    except OSError:
        return None
    return round((1 - (i1 - i0) / max(1, t1 - t0)) * (os.cpu_count() or 1), 2)


def boosted() -> None:
    """In the child before it runs: a session (and so a scheduling autogroup) of its own, at the
    highest priority, so the machine's other programs take almost none of the cores from it."""
    os.setsid()
    try:
        with open("/proc/self/autogroup", "w", encoding="ascii") as f:
            f.write("-20")
    except OSError:  # no autogroups: the process's own priority is what counts
        pass
    try:
        os.nice(-20)
    except OSError:  # not root: measured as it comes
        pass


def settings(cores: int) -> dict[str, list[str]]:
    """The command (after ``python``) of each setting; the dataset and run folder are appended."""
    return {"default": ["-m", "cadenza", "train"], "threads": ["-m", "cadenza", "train", "--threads", str(cores)],
            "before": ["-c", TORCH_FIRST, "train", "--threads", str(cores)]}


def tokens_per_second(command: list[str], dataset: Path, steps: int, cap_minutes: float, env: dict[str, str], boost: bool = False) -> dict:
    """One ``cadenza train`` run in a fresh folder: its tokens/s, steps and the threads it used."""
    with tempfile.TemporaryDirectory(prefix="cadenza-contention-") as tmp:
        run = Path(tmp) / "run"
        args = [sys.executable, *command, str(dataset), "-o", str(run), "--max-steps", str(steps), "--max-minutes", str(cap_minutes)]
        t0 = time.time()
        res = subprocess.run(args, capture_output=True, text=True, env=env, preexec_fn=boosted if boost else None)
        wall = time.time() - t0
        if res.returncode != 0:
            raise SystemExit(f"{' '.join(args)} failed:\n{res.stderr[-2000:]}")
        log = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines() if line]
        train = json.loads((run / "config.json").read_text())["train"]
    last = log[-1]
    return {"tokens_per_second": round(last["step"] * train["batch_size"] * train["seq_length"] / last["seconds"]), "steps": last["step"],
            "seconds": last["seconds"], "wall_seconds": round(wall, 1), "threads": last.get("threads")}


def measure(dataset: Path, steps: int, busy: int, rounds: int, cap_minutes: float, boost: bool = False, log=print) -> dict:
    cores = os.cpu_count() or 1
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}  # the defaults, as a user has them
    runs: list[dict] = []
    for r in range(rounds):
        for load in ((0, busy) if r % 2 == 0 else (busy, 0)):
            background = busy_cores()  # before ours start
            procs = [subprocess.Popen([sys.executable, "-c", BUSY], preexec_fn=boosted if boost else None) for _ in range(load)]
            try:
                for name, command in settings(cores).items():
                    m = tokens_per_second(command, dataset, steps, cap_minutes, env, boost)
                    m.update(round=r + 1, setting=name, busy=load, background_cores=background)
                    runs.append(m)
                    log(f"round {r + 1}, {load} busy, {name}: {m['tokens_per_second']:,} tokens/s ({m['steps']} steps in {m['seconds']} s, "
                        f"{m['threads']} thread(s); other programs kept {m['background_cores']} cores busy)")
            finally:
                for p in procs:
                    p.terminate()
                for p in procs:
                    p.wait()
    table: dict[str, dict[str, float]] = {}
    for name in settings(cores):
        idle = statistics.median(m["tokens_per_second"] for m in runs if m["setting"] == name and m["busy"] == 0)
        loaded = statistics.median(m["tokens_per_second"] for m in runs if m["setting"] == name and m["busy"] == busy)
        table[name] = {"idle": round(idle), "busy": round(loaded), "kept": round(loaded / idle, 3)}
    return {"date": time.strftime("%Y-%m-%d"), "machine": {"cores": cores, "platform": platform.platform(), "python": platform.python_version()},
            "dataset": str(dataset), "steps": steps, "busy_processes": busy, "boost": boost, "busy_command": f'python -c "{BUSY}"', "rounds": rounds,
            "settings": {"default": "cadenza train DATASET -o RUN (default options)",
                         "threads": f"--threads {cores} (one per core), idle OpenMP workers sleeping soon (GOMP_SPINCOUNT=1000, as Cadenza now asks)",
                         "before": f"the default before issue #24: torch's threads (--threads {cores}) and libgomp's own waiting"},
            "tokens_per_second": table, "target": {"kept_at_least": 0.4, "met": table["default"]["kept"] >= 0.4},
            "background_cores": max((m["background_cores"] or 0.0) for m in runs), "runs": runs}


def joplin(tmp: Path) -> Path:
    """Scott Joplin's rags from ../shared, prepared with the defaults."""
    src = ROOT.parent / "shared" / "corpora" / "joplin"
    if not src.exists():
        raise SystemExit(f"{src} not found: give a dataset folder made by `cadenza prepare`")
    out = tmp / "joplin"
    subprocess.run([sys.executable, "-m", "cadenza", "prepare", str(src), "-o", str(out), "--seed", "0"], check=True, capture_output=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dataset", type=Path, nargs="?")
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--busy", type=int, default=2, help="busy processes beside training")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--cap-minutes", type=float, default=1.5, help="stop a run that collapses after this long")
    ap.add_argument("--boost", action="store_true", help="measure at the highest CPU priority (root, Linux): near a quiet machine on a shared one")
    ap.add_argument("--note", default="", help="conditions worth recording with the figures")
    ap.add_argument("--json", type=Path, default=RESULTS)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="cadenza-contention-") as tmp:
        dataset = args.dataset or joplin(Path(tmp))
        res = measure(dataset, args.steps, args.busy, args.rounds, args.cap_minutes, args.boost)
    if args.dataset is None:
        res["dataset"] = "../shared/corpora/joplin (cadenza prepare, defaults)"
    res["note"] = args.note
    print(f"\n{'setting':<10}{'idle tokens/s':>15}{f'{args.busy} busy tokens/s':>18}{'kept':>8}")
    for name, row in res["tokens_per_second"].items():
        print(f"{name:<10}{row['idle']:>15,}{row['busy']:>18,}{row['kept']:>8.2f}")
    print(f"target: default keeps >= 0.40 of its idle throughput: {'met' if res['target']['met'] else 'NOT met'}"
          f" (other programs kept up to {res['background_cores']} cores busy while measuring)")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(res, indent=1) + "\n")


if __name__ == "__main__":
    main()
