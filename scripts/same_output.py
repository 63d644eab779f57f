"""Same seeds, same files: run generate, compose, continue, infill, forms, beam and prepare through
the real command line for every bundled model, and hash every file they write.

    python scripts/same_output.py --out /tmp/same --json /tmp/same-before.json   # before a change
    python scripts/same_output.py --out /tmp/same --compare /tmp/same-before.json  # after it

The command line run is ``python -m cadenza`` of this interpreter: to compare two trees side by
side, run each tree's copy of this script with ``PYTHONPATH=TREE/src`` (and ``CADENZA_SHARED``
naming ``../shared`` where the tree has none beside it).

Prompts come from music21's own corpus (a Bach chorale as MusicXML), so the cases run on any
machine with Cadenza installed; cases that read ``../shared`` run only where it is present.
Paths that depend on where things lie (the output folder, the package, music21's corpus,
``../shared``) are replaced by placeholders before hashing, so the hashes can be compared across
machines. ``tests/test_same_output.py`` compares against ``tests/data/same_output.json``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("CADENZA_SHARED") or ROOT.parent / "shared")
MODELS = ("mozart-kern", "beethoven-kern", "piano-notewise", "bach-notewise")
KERN = {"mozart-kern", "beethoven-kern"}
# what a rendering writes may differ by library version or fonts: hashed, but compared only
# where --strict asks (the score, MIDI and text files are always compared)
RENDERED = (".svg", ".pdf", ".wav", ".png")


def _m21(name: str) -> str:
    from music21 import corpus

    return str(corpus.getWork(name))


def _m21_root() -> str:
    import music21

    return str(Path(music21.__file__).parent / "corpus")


def cases() -> list[tuple[str, list[str], Path | None]]:
    """(name, arguments after ``cadenza``, a path the case needs or None). ``{out}`` is the case's
    own output folder."""
    chorale = _m21("bach/bwv66.6")  # MusicXML: every model continues it (kern writes it as kern first)
    out: list[tuple[str, list[str], Path | None]] = []
    for m in MODELS:
        gen = ["generate", "--model", m, "-o", "{out}", "--seed", "3"]
        out.append((f"{m}/generate", [*gen, "-n", "2", "--length", "300"], None))
        out.append((f"{m}/generate-bars", [*gen, "-n", "2", "--length", "100", "--bars", "3"], None))
        out.append((f"{m}/continue", [*gen, "--prompt", chorale, "-n", "2", "--length", "200", "--prompt-bars", "2", "--bars", "2"], None))
        out.append((f"{m}/infill", ["infill", chorale, "--bars", "3-4", "--model", m, "-o", "{out}", "-n", "2", "--seed", "3"], None))
        out.append((f"{m}/form", [*gen, "--form", "AABA", "--phrase-bars", "1", "-n", "1"], None))
        out.append((f"{m}/beam", [*gen, "--beam", "3", "--length", "150", "-n", "2"], None))
        # compose's own default temperature was 0.9 before issue #21 gave every command one set of defaults
        out.append((f"{m}/compose", ["compose", "--model", m, "-o", "{out}", "--seed", "3", "--bars", "3", "--length", "150", "--temperature", "0.9"], None))
        if m in KERN:
            out.append((f"{m}/generate-metre-key", [*gen, "-n", "1", "--length", "200", "--metre", "3/4", "--key", "F", "--top-p", "0.9", "--temperature", "0.8"], None))
            out.append((f"{m}/generate-prime", [*gen, "-n", "1", "--length", "200", "--prime", "@\\n", "--no-constrained", "--formats", "krn,mid"], None))
            sonata = SHARED / "corpora" / ("mozart-piano-sonatas" if m.startswith("mozart") else "beethoven-piano-sonatas")
            krn = sorted(sonata.rglob("*.krn"))[0] if sonata.is_dir() else sonata / "missing.krn"
            out.append((f"{m}/continue-krn", [*gen, "--prompt", str(krn), "-n", "1", "--length", "200", "--prompt-bars", "2", "--bars", "2"], krn))
            out.append((f"{m}/infill-krn", ["infill", str(krn), "--bars", "2-3", "--model", m, "-o", "{out}", "-n", "1", "--seed", "5"], krn))
        else:
            out.append((f"{m}/generate-seconds", [*gen, "-n", "2", "--length", "100", "--seconds", "3", "--top-k", "20", "--min-p", "0.05"], None))
            out.append((f"{m}/generate-clara", [*gen, "-n", "1", "--length", "200", "--random-freq", "0.5", "--trunc", "5"], None))
            midi = SHARED / "midi" / "piano-midi" / "Mozart" / "mz_545_1.mid"
            out.append((f"{m}/continue-mid", [*gen, "--prompt", str(midi), "-n", "1", "--length", "200", "--prompt-seconds", "3", "--seconds", "3"], midi))
    out.append(("piano-notewise/generate-composer", ["generate", "--model", "piano-notewise", "-o", "{out}", "--seed", "3", "-n", "1", "--length", "200", "--composer", "Chopin"], None))
    out.append(("prepare/kern", ["prepare", "music21:palestrina", "--codec", "kern", "--spines", "4", "-o", "{out}", "--seed", "2", "--workers", "1", "--transpose", "2"], None))
    chorales = [_m21(f"bach/bwv{n}") for n in ("66.6", "7.7", "10.7", "11.6", "14.5", "17.7", "20.11", "24.6", "25.6", "26.6")]
    out.append(("prepare/notewise", ["prepare", *chorales, "--codec", "notewise", "--note-range", "62", "--steps-per-quarter", "4", "-o", "{out}", "--seed", "2", "--workers", "1"], None))
    out.append(("prepare/chordwise", ["prepare", *chorales, "--codec", "chordwise", "-o", "{out}", "--seed", "2", "--workers", "1"], None))
    return out


def _placeholders(out: Path) -> list[tuple[bytes, bytes]]:
    pairs = [(str(out.resolve()), "<OUT>"), (str(out), "<OUT>"), (str(ROOT / "src"), "<SRC>"), (_m21_root(), "<M21>"), (str(SHARED.resolve()), "<SHARED>"), (str(SHARED), "<SHARED>")]
    return [(a.encode(), b.encode()) for a, b in sorted(pairs, key=lambda p: -len(p[0]))]


def digest(path: Path, subs: list[tuple[bytes, bytes]]) -> str:
    data = path.read_bytes()
    for a, b in subs:
        data = data.replace(a, b)
    return hashlib.sha256(data).hexdigest()


def versions() -> dict[str, str]:
    """What the hashes depend on beyond Cadenza: the libraries that write the files and do the sums."""
    import platform
    from importlib.metadata import version

    return {"python": platform.python_version(), "machine": platform.machine(), **{p: version(p) for p in ("torch", "numpy", "music21", "symusic")}}


def _in_process(argv: list[str]) -> tuple[int, str]:
    """``cadenza ARGV`` in this process (no interpreter start-up per case): exit code, output."""
    from typer.testing import CliRunner

    from cadenza.cli import app

    res = CliRunner().invoke(app, argv, env={"COLUMNS": "200", "NO_COLOR": "1"})
    return res.exit_code, res.output


def run_cases(out: Path, only: list[str] | None = None, quiet: bool = False, in_process: bool = False) -> dict:
    cli = [sys.executable, "-m", "cadenza"]
    env = dict(os.environ, COLUMNS="200", NO_COLOR="1")
    result: dict = {"versions": versions(), "cases": {}, "skipped": [], "failed": {}}
    for name, args, needs in cases():
        if only and not any(name.startswith(o) for o in only):
            continue
        if needs is not None and not Path(needs).exists():
            result["skipped"].append(name)
            continue
        folder = out / name
        shutil.rmtree(folder, ignore_errors=True)
        folder.parent.mkdir(parents=True, exist_ok=True)
        argv = [a.replace("{out}", str(folder)) for a in args]
        t0 = time.perf_counter()
        if in_process:
            code, said = _in_process(argv)
        else:
            proc = subprocess.run(cli + argv, capture_output=True, text=True, env=env, cwd=str(out))
            code, said = proc.returncode, proc.stderr or proc.stdout
        took = time.perf_counter() - t0
        if code != 0:
            result["failed"][name] = said.strip().splitlines()[-1:]
            if not quiet:
                print(f"FAILED {name} ({took:.1f} s): {result['failed'][name]}", flush=True)
            continue
        subs = _placeholders(folder)
        files = {str(p.relative_to(folder)): digest(p, subs) for p in sorted(folder.rglob("*")) if p.is_file()}
        result["cases"][name] = files
        if not quiet:
            print(f"{name}: {len(files)} files, {took:.1f} s", flush=True)
    return result


def compare(before: dict, after: dict, strict: bool = False) -> list[str]:
    """Differences between two results, as lines (none: the same files)."""
    diffs = []
    for name, files in before["cases"].items():
        if name in after.get("skipped", []):
            continue
        got = after["cases"].get(name)
        if got is None:
            if name in after.get("failed", {}):
                diffs.append(f"{name}: failed ({after['failed'][name]})")
            continue
        for rel in sorted(set(files) | set(got)):
            if not strict and rel.endswith(RENDERED):
                continue
            if files.get(rel) != got.get(rel):
                diffs.append(f"{name}/{rel}: {files.get(rel, 'absent')[:12]} -> {got.get(rel, 'absent')[:12]}")
    for name, why in after.get("failed", {}).items():
        if name not in before["cases"] and before.get("failed", {}).get(name) != why:
            diffs.append(f"{name}: failed ({why})")
    return diffs


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=Path("/tmp/cadenza-same-output"))
    ap.add_argument("--json", type=Path, help="write the hashes here")
    ap.add_argument("--compare", type=Path, help="compare with hashes written before")
    ap.add_argument("--only", nargs="*", help="cases whose names start so (e.g. mozart-kern/ prepare/)")
    ap.add_argument("--strict", action="store_true", help="also compare rendered files (svg, pdf, wav, png)")
    ap.add_argument("--in-process", action="store_true", help="run the commands in this process (faster: one start-up)")
    a = ap.parse_args()
    a.out.mkdir(parents=True, exist_ok=True)
    got = run_cases(a.out.resolve(), a.only, in_process=a.in_process)
    if a.json:
        a.json.write_text(json.dumps(got, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    n = sum(len(f) for f in got["cases"].values())
    print(f"{len(got['cases'])} cases, {n} files; skipped {len(got['skipped'])}, failed {len(got['failed'])}")
    if a.compare:
        diffs = compare(json.loads(a.compare.read_text(encoding="utf-8")), got, a.strict)
        print("\n".join(diffs) if diffs else f"the same files as {a.compare}")
        return 1 if diffs else 0
    return 1 if got["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
