"""Start-up (issue #21): whole commands timed as the user waits for them, from process start to exit.

* ``cadenza generate --model mozart-kern --length 15000 -n 1 --formats krn,mid`` (target <= 2 s);
* ``cadenza compose --seed 1`` (every format: krn, musicxml, mid, svg, pdf, wav, png; target <= 4 s);
* reported beside them: ``generate`` with the default formats (MusicXML through music21) and
  ``cadenza --help`` (the interpreter and the command line alone);
* the anchor of each: char-rnn's naive loop as a whole process (a fresh interpreter imports torch,
  loads the mozart-kern network, samples 15,000 characters one ``nn.LSTM`` step at a time with
  ``torch.multinomial`` on one thread, as a PyTorch port of ``sample.lua`` does, and writes them).

Each command runs ``--repeat`` times, the commands in turn (so a busy machine's load falls on all
alike); a row is the median wall clock, with the median CPU seconds (user + system of the
process and its children) beside it: on an idle machine a single-threaded command's wall clock
is its CPU time, on a busy one the CPU time is the better estimate of it (``met`` judges the wall
clock, ``met_in_cpu_seconds`` the CPU time). The load average before and after goes into the JSON. Prints a table; writes benchmarks/results/startup.json (or
``--json PATH``; benchmarks/bench.py merges the rows into its table).

    python benchmarks/startup.py [--repeat 5] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
MODEL, LENGTH = "mozart-kern", 15000
NAIVE = "char-rnn's naive loop as a whole process (import torch, load the network, nn.LSTM one step at a time, torch.multinomial)"


def naive_process(out: Path) -> None:
    """The anchor, run in its own interpreter by ``--naive OUT``."""
    import torch

    sys.path.insert(0, str(HERE))
    from sample_speed import naive_loop

    from cadenza.generation import open_run

    run = open_run(MODEL)
    torch.set_num_threads(1)
    prime = [run.vocab.index(c) for c in run.codec.default_prime(run.vocab)]
    out.write_text("".join(run.vocab[i] for i in naive_loop(run.model, prime, LENGTH, 0)), encoding="utf-8")


def cadenza_command() -> list[str]:
    """The ``cadenza`` script beside this interpreter (what the user types), else ``-m cadenza``."""
    script = Path(sys.executable).parent / "cadenza"
    return [str(script)] if script.exists() else [sys.executable, "-m", "cadenza"]


def cases(work: Path) -> dict[str, tuple[list[str], str, float | None]]:
    """name -> (command with ``{out}`` for a fresh folder, its figure, target seconds or None)."""
    cli = cadenza_command()
    gen = [*cli, "generate", "--model", MODEL, "--length", str(LENGTH), "-n", "1", "-o", "{out}"]
    return {
        "naive": ([sys.executable, str(Path(__file__).resolve()), "--naive", "{out}.txt"], f"start-up anchor: {NAIVE}, seconds", None),
        "generate": ([*gen, "--formats", "krn,mid"], f"start-up: cadenza generate --model {MODEL} --length {LENGTH} -n 1 --formats krn,mid, whole process, seconds", 2.0),
        "compose": ([*cli, "compose", "--seed", "1", "-o", "{out}"], "start-up: cadenza compose (krn, musicxml, mid, svg, pdf, wav, png), whole process, seconds", 4.0),
        "generate-default": (gen, f"start-up: cadenza generate --model {MODEL} --length {LENGTH} -n 1 (krn, mid, musicxml), whole process, seconds", None),
        "help": ([*cli, "--help"], "start-up: cadenza --help (the interpreter and the command line), whole process, seconds", None),
    }


def timed(cmd: list[str], out: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the process and its children) of one run of ``cmd``."""
    argv = [a.replace("{out}", str(out)) for a in cmd]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    p = subprocess.run(argv, cwd=out.parent, capture_output=True, text=True, env=dict(os.environ, COLUMNS="120"))
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode:
        raise RuntimeError(f"{shlex.join(argv)} failed ({p.returncode}): {(p.stderr or p.stdout).strip()[-800:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def measure(repeat: int, work: Path) -> dict[str, dict]:
    got: dict[str, dict] = {}
    todo = cases(work)
    for r in range(repeat):
        for name, (cmd, _, _) in todo.items():
            wall, cpu = timed(cmd, work / f"{name}-{r}")
            got.setdefault(name, {"wall": [], "cpu": [], "command": shlex.join(cmd).replace(str(work), "TMP")})
            got[name]["wall"].append(round(wall, 3))
            got[name]["cpu"].append(round(cpu, 3))
            print(f"  {name:<17} run {r + 1}: {wall:6.2f} s wall, {cpu:6.2f} s CPU", flush=True)
    return got


def rows(got: dict[str, dict], work: Path) -> list[dict]:
    anchor = statistics.median(got["naive"]["wall"])
    out = []
    for name, (_, figure, target) in cases(work).items():
        wall, cpu = statistics.median(got[name]["wall"]), statistics.median(got[name]["cpu"])
        is_anchor = name == "naive"
        out.append({"figure": figure, "value": round(wall, 3), "anchor": None if is_anchor else round(anchor, 3),
                    "ratio": None if is_anchor else round(wall / anchor, 3), "target": f"<= {target:g} s" if target else "reported",
                    "met": (wall <= target) if target else None, "cpu_seconds": round(cpu, 3), "met_in_cpu_seconds": (cpu <= target) if target else None,
                    **({} if is_anchor else {"anchor_is": NAIVE}),
                    "runs_wall": got[name]["wall"], "runs_cpu": got[name]["cpu"], "command": got[name]["command"]})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5, help="runs of each command (the median is reported)")
    ap.add_argument("--json", type=Path, help="write here (default benchmarks/results/startup.json)")
    ap.add_argument("--naive", type=Path, help=argparse.SUPPRESS)  # the anchor's own process
    args = ap.parse_args()
    if args.naive:
        naive_process(args.naive)
        return
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="cadenza-startup-") as tmp:
        work = Path(tmp)
        got = measure(args.repeat, work)
        table = rows(got, work)
    result = {"date": time.strftime("%Y-%m-%d"), "repeat": args.repeat,
              "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "python": platform.python_version(),
                          "load_average_before": load_before, "load_average_after": os.getloadavg()},
              "rows": table}
    print(f"{'figure':<112} {'wall':>6} {'cpu':>6} {'anchor':>6} {'ratio':>6} {'target':>9} met (wall, cpu)")
    for r in table:
        anchor, ratio = "" if r["anchor"] is None else f"{r['anchor']:.2f}", "" if r["ratio"] is None else f"{r['ratio']:.2f}"
        met = "" if r["met"] is None else ", ".join("yes" if m else "NO" for m in (r["met"], r["met_in_cpu_seconds"]))
        print(f"{r['figure'][:112]:<112} {r['value']:>6.2f} {r['cpu_seconds']:>6.2f} {anchor:>6} {ratio:>6} {r['target']:>9} {met}")
    out = args.json or HERE / "results" / "startup.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {out} (load average {load_before[0]:.2f} before, {result['machine']['load_average_after'][0]:.2f} after)")


if __name__ == "__main__":
    main()
