"""Corpus preparation: find files, encode them, split by piece, augment, write a dataset.

A dataset folder holds what ``train`` needs and nothing it must be told again::

    train.txt val.txt test.txt   the codec text of each split, pieces separated by a blank line
    vocab.json                   the token inventory
    pieces.jsonl                 one record per piece (name, source, split, transposition, info)
    manifest.json                codec + options, layout, counts, and every source file: used or
                                 skipped with a one-line reason

Splits are by *piece*, never by line, and near-duplicates (a movement whose bars also occur in
another file, like the Waldstein coda stored twice) are grouped so both land on the same side.
Transposed copies are made after the split and stay on their piece's side.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from cadenza import CadenzaError
from cadenza.codecs import Encoded, get_codec, options_dict

PIECE_SEP = "\n"  # appended after each piece's text: kern pieces end in "\n", so a blank line


@dataclass
class SourceRecord:
    path: str
    status: str  # "used" | "skipped"
    reason: str = ""
    pieces: list[str] = field(default_factory=list)


@dataclass
class PrepareReport:
    out: Path
    codec: str
    used: int
    skipped: int
    pieces: dict[str, int]
    tokens: dict[str, int]
    vocab_size: int
    skipped_reasons: list[tuple[str, str]]
    layout: Any = None


# --------------------------------------------------------------------------------------------
# Finding sources


def _music21_corpus(name: str, suffixes: tuple[str, ...]) -> list[Path]:
    """``music21:palestrina`` -> the files of that composer/collection in music21's corpus."""
    from music21 import corpus

    paths = [Path(p) for p in corpus.getComposer(name)]
    if not paths:
        paths = [Path(p) for p in corpus.getPaths() if name.lower() in str(p).lower()]
    if not paths:
        raise CadenzaError(f"music21:{name}: no such collection in music21's corpus")
    return sorted(paths)


def find_sources(sources: Iterable[str | Path], suffixes: tuple[str, ...]) -> list[Path]:
    """Files, folders (recursive; every file is listed so non-music files are reported as skipped)
    and ``music21:NAME`` corpus collections, deduplicated, in a stable order."""
    out: list[Path] = []
    for src in sources:
        s = str(src)
        if s.startswith("music21:"):
            out += _music21_corpus(s.split(":", 1)[1], suffixes)
            continue
        p = Path(s)
        if p.is_dir():
            out += sorted(f for f in p.rglob("*") if f.is_file() and not any(part.startswith(".") for part in f.relative_to(p).parts))
        elif p.is_file():
            out.append(p)
        else:
            raise CadenzaError(f"{p}: no such file or folder")
    seen: set[Path] = set()
    uniq = []
    for p in out:
        r = p.resolve()
        if r not in seen:
            seen.add(r)
            uniq.append(p)
    return uniq


# --------------------------------------------------------------------------------------------
# Encoding (in worker processes)


def _encode_one(args: tuple[str, dict[str, Any], str]) -> tuple[str, list[Encoded] | None, str]:
    codec_name, options, path = args
    codec = get_codec(codec_name, options)
    p = Path(path)
    if p.suffix.lower() not in codec.suffixes:
        return path, None, f"not a {'/'.join(codec.suffixes)} file"
    try:
        return path, codec.encode(p), ""
    except CadenzaError as exc:
        # the manifest names the file already: keep the problem, and a line number as "line N"
        msg = str(exc)
        if msg.startswith(str(p) + ":"):
            msg = msg[len(str(p)) + 1 :].lstrip()
            head, _, rest = msg.partition(":")
            msg = f"line {head}:{rest}" if head.isdigit() else msg
        return path, None, msg
    except Exception as exc:  # a parser bug must not lose the rest of the batch
        return path, None, f"{type(exc).__name__}: {exc}".splitlines()[0][:200]


# --------------------------------------------------------------------------------------------
# Splitting


def _hash(*parts: str) -> int:
    return int.from_bytes(hashlib.sha256("\x1f".join(parts).encode()).digest()[:8], "big")


def _bar_windows(text: str, unit: str, width: int = 4) -> set[int]:
    """Hashes of every run of ``width`` consecutive bars (kern) or 64-token windows (MIDI codecs),
    used to find pieces that share long passages."""
    if unit == "char":
        bars = [b for b in text.split("@\n") if b.strip()]
        return {_hash(*bars[i : i + width]) for i in range(max(0, len(bars) - width + 1))}
    toks = text.split()
    step = 32
    return {_hash(*toks[i : i + 64]) for i in range(0, max(0, len(toks) - 64 + 1), step)}


def group_duplicates(pieces: list[Encoded], unit: str, share: float = 0.3) -> list[int]:
    """Union pieces that share at least ``share`` of the smaller one's bar windows; returns a group
    id per piece. Exact duplicates share everything and are caught too."""
    parent = list(range(len(pieces)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    windows = [_bar_windows(p.text, unit) for p in pieces]
    owners: dict[int, list[int]] = {}
    for i, ws in enumerate(windows):
        for w in ws:
            owners.setdefault(w, []).append(i)
    shared: Counter[tuple[int, int]] = Counter()
    for idx in owners.values():
        if 1 < len(idx) <= 50:
            for a in range(len(idx)):
                for b in range(a + 1, len(idx)):
                    shared[(idx[a], idx[b])] += 1
    for (a, b), n in shared.items():
        smaller = max(1, min(len(windows[a]), len(windows[b])))
        if n / smaller >= share:
            parent[find(a)] = find(b)
    return [find(i) for i in range(len(pieces))]


def split_groups(names_by_group: dict[int, list[str]], sizes: dict[int, int], seed: int, val: float, test: float) -> dict[int, str]:
    """Assign each group to train/val/test. Order is a seeded hash of the group's first piece
    name, so adding files to a corpus does not reshuffle the pieces already there; the test and
    validation sets take groups in that order until they hold their share of the tokens."""
    order = sorted(names_by_group, key=lambda g: _hash(str(seed), min(names_by_group[g])))
    total = sum(sizes.values())
    out: dict[int, str] = {}
    acc = {"test": 0, "val": 0}
    want = {"test": test * total, "val": val * total}
    for g in order:
        if len(order) >= 3 and acc["test"] < want["test"] and (acc["test"] == 0 or acc["test"] + sizes[g] / 2 <= want["test"]):
            out[g], acc["test"] = "test", acc["test"] + sizes[g]
        elif len(order) >= 2 and acc["val"] < want["val"] and (acc["val"] == 0 or acc["val"] + sizes[g] / 2 <= want["val"]):
            out[g], acc["val"] = "val", acc["val"] + sizes[g]
        else:
            out[g] = "train"
    return out


def parse_transpose(spec: str | None) -> list[int]:
    """``all`` -> the 12 shifts -5..+6; ``N`` or ``N,M,..`` -> those shifts (0 is the original)."""
    if not spec:
        return [0]
    if spec == "all":
        return list(range(-5, 7))
    try:
        shifts = sorted({0, *(int(s) for s in spec.split(","))})
    except ValueError:
        raise CadenzaError(f"--transpose {spec!r}: use 'all' or semitone shifts like '2' or '-2,2'") from None
    if any(abs(s) > 12 for s in shifts):
        raise CadenzaError(f"--transpose {spec!r}: shifts must be within an octave (-12..12)")
    return shifts


# --------------------------------------------------------------------------------------------
# The command


def prepare(
    sources: list[str | Path],
    out: Path,
    codec: str = "kern",
    options: dict[str, Any] | None = None,
    transpose: str | None = None,
    val_fraction: float = 0.1,
    test_fraction: float = 0.1,
    seed: int = 0,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> PrepareReport:
    """Encode ``sources`` with ``codec`` into a dataset folder ``out`` (see module docstring)."""
    out = Path(out)
    codec_obj = get_codec(codec, options)
    opts = options_dict(codec_obj)
    files = find_sources(sources, codec_obj.suffixes)
    if not files:
        raise CadenzaError("no input files found in " + ", ".join(map(str, sources)))
    records: dict[str, SourceRecord] = {}
    encoded: list[tuple[str, Encoded]] = []
    jobs = [(codec, opts, str(f)) for f in files]
    workers = workers or min(os.cpu_count() or 1, 8)
    done = 0

    def collect(result: tuple[str, list[Encoded] | None, str]) -> None:
        nonlocal done
        path, pieces, reason = result
        if pieces is None:
            records[path] = SourceRecord(path, "skipped", reason)
        else:
            records[path] = SourceRecord(path, "used", pieces=[p.name for p in pieces])
            encoded.extend((path, p) for p in pieces)
        done += 1
        if progress:
            progress(done, len(jobs))

    if workers > 1 and len(jobs) > 8:
        with ProcessPoolExecutor(workers) as pool:
            for r in pool.map(_encode_one, jobs, chunksize=4):
                collect(r)
    else:
        for j in jobs:
            collect(_encode_one(j))

    # Unique piece names (two folders may both hold "sonata01-1")
    counts = Counter(p.name for _, p in encoded)
    fixed: list[tuple[str, Encoded]] = []
    for path, p in encoded:
        if counts[p.name] > 1:
            p = Encoded(f"{Path(path).parent.name}/{p.name}", p.text, p.info)
        fixed.append((path, p))
    encoded = fixed

    # Layout: kern datasets hold one spine count
    layout = None
    if codec_obj.unit == "char":
        want = opts.get("spines") or 0
        spine_counts = Counter(p.info["header"]["spines"] for _, p in encoded)
        if spine_counts:
            layout = want or spine_counts.most_common(1)[0][0]
            kept = []
            for path, p in encoded:
                n = p.info["header"]["spines"]
                if n != layout:
                    records[path] = SourceRecord(path, "skipped", f"{n} **kern spines; this dataset's layout is {layout} (use --spines {n} for a dataset of those)")
                else:
                    kept.append((path, p))
            encoded = kept

    # Exact duplicates are dropped; near-duplicates grouped for the split
    seen_text: dict[str, str] = {}
    kept = []
    for path, p in encoded:
        h = hashlib.sha256(p.text.encode()).hexdigest()
        if h in seen_text:
            records[path] = SourceRecord(path, "skipped", f"duplicate of {seen_text[h]}")
            continue
        seen_text[h] = path
        kept.append((path, p))
    encoded = kept
    if not encoded:
        reasons = Counter(r.reason for r in records.values() if r.status == "skipped")
        raise CadenzaError("no usable pieces; reasons: " + "; ".join(f"{n}x {r}" for r, n in reasons.most_common(3)))

    pieces = [p for _, p in encoded]
    groups = group_duplicates(pieces, codec_obj.unit)
    names_by_group: dict[int, list[str]] = {}
    sizes: Counter[int] = Counter()
    for g, p in zip(groups, pieces):
        names_by_group.setdefault(g, []).append(p.name)
        sizes[g] += len(p.text)
    side = split_groups(names_by_group, sizes, seed, val_fraction, test_fraction)

    shifts = parse_transpose(transpose)
    out.mkdir(parents=True, exist_ok=True)
    texts: dict[str, list[str]] = {"train": [], "val": [], "test": []}
    piece_rows = []
    aug_skipped = 0
    for (path, p), g in zip(encoded, groups):
        split = side[g]
        # Augmentation only where it cannot leak: training pieces get every shift; held-out
        # pieces stay in their own key so validation measures the real thing.
        for s in shifts if split == "train" else [0]:
            try:
                q = p if s == 0 else codec_obj.transpose(p, s)
            except (ValueError, CadenzaError):
                aug_skipped += 1
                continue
            texts[split].append(q.text)
            piece_rows.append({"name": q.name, "source": path, "split": split, "group": int(g), "transpose": s, "tokens": len(_tokens(q.text, codec_obj.unit)), "info": q.info})
        records[path].reason = f"split={split}"

    for split, t in texts.items():
        (out / f"{split}.txt").write_text(PIECE_SEP.join(t) + ("\n" if codec_obj.unit != "char" else ""), encoding="utf-8")
    vocab = sorted({tok for t in texts.values() for piece in t for tok in _tokens(piece, codec_obj.unit)} | ({"\n"} if codec_obj.unit == "char" else set()))
    (out / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False, indent=0), encoding="utf-8")
    with open(out / "pieces.jsonl", "w", encoding="utf-8") as fh:
        for row in piece_rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")

    context = _generation_context(codec_obj, piece_rows, layout)
    manifest = {
        "format": "cadenza-dataset/1",
        "codec": codec,
        "options": opts,
        "layout": layout,
        "transpose": shifts,
        "seed": seed,
        "val_fraction": val_fraction,
        "test_fraction": test_fraction,
        "context": context,
        "pieces": {k: sum(1 for r in piece_rows if r["split"] == k) for k in texts},
        "tokens": {k: sum(len(_tokens(x, codec_obj.unit)) for x in t) for k, t in texts.items()},
        "transpositions_skipped": aug_skipped,
        "sources": [records[str(f)].__dict__ for f in files if str(f) in records],
    }
    (out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    skipped = [(r.path, r.reason) for r in records.values() if r.status == "skipped"]
    return PrepareReport(out, codec, len(records) - len(skipped), len(skipped), manifest["pieces"], manifest["tokens"], len(vocab), skipped, layout)


def _tokens(text: str, unit: str) -> list[str]:
    return list(text) if unit == "char" else text.split()


def _generation_context(codec: Any, rows: list[dict[str, Any]], layout: Any) -> dict[str, Any]:
    """What decoding generated text needs and the text itself lacks (the codec decides)."""
    return codec.generation_context([r for r in rows if r["split"] == "train" and r["transpose"] == 0], layout)

def load_manifest(dataset: Path) -> dict[str, Any]:
    path = Path(dataset) / "manifest.json"
    if not path.exists():
        raise CadenzaError(f"{dataset}: not a Cadenza dataset (no manifest.json); make one with `cadenza prepare`")
    return json.loads(path.read_text(encoding="utf-8"))


def load_split(dataset: Path, split: str) -> str:
    return (Path(dataset) / f"{split}.txt").read_text(encoding="utf-8")


def load_pieces(dataset: Path, split: str | None = None) -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in (Path(dataset) / "pieces.jsonl").read_text(encoding="utf-8").splitlines() if line]
    return [r for r in rows if split is None or r["split"] == split]
