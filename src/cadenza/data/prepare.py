"""``prepare``: a corpus of music files -> a dataset folder a language model trains on.

Each file is encoded by the codec in a worker process; every file ends up in the manifest, used
or skipped with a one-line reason. Then: unique piece names, one kern spine layout, exact
duplicates dropped, near-duplicates grouped, the seeded split by piece, transposed copies of
the training pieces, and the dataset written (:mod:`cadenza.data.dataset`), with a warning (in the manifest and
``report.md``) when a split is empty or one piece holds most of the corpus.

With ``condition`` (``("composer", "style", "instrument")``, any of them), each piece opens with
its labels (:mod:`cadenza.data.label_sources` reads them, :mod:`cadenza.codecs.labels` writes them) and
every training window inside it gets them as its prefix; the context records the labels known.
"""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from cadenza import CadenzaError
from cadenza.codecs import Encoded, get_codec, options_dict, split_tokens
from cadenza.codecs.labels import label_text, parse_kinds
from cadenza.data.dataset import write_dataset
from cadenza.data.label_sources import assign_labels
from cadenza.data.report import write_report
from cadenza.data.sources import find_sources
from cadenza.data.split import group_duplicates, parse_transpose, split_groups, split_warnings
from cadenza.data.workers import FILE_TIMEOUT, run_isolated


@dataclass
class SourceRecord:
    path: str
    status: str  # "used" | "skipped"
    reason: str = ""
    pieces: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)  # pieces of a used file left out as another file's


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
    labels: dict[str, dict[str, int]] = field(default_factory=dict)
    layouts: dict[str, int] = field(default_factory=dict)  # a dataset of many layouts: training pieces per layout
    by_source: dict[str, dict[str, int]] = field(default_factory=dict)  # per source given: pieces and tokens (originals)
    warnings: list[str] = field(default_factory=list)  # one line each: an empty split, one piece holding most of the corpus


def encode_file(args: tuple[str, dict[str, Any], str]) -> tuple[str, list[Encoded] | None, str]:
    """One file through the codec (in a worker process): ``(path, pieces, "")``, or
    ``(path, None, reason)`` when the file is skipped."""
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
    file_timeout: float | None = FILE_TIMEOUT,
    condition: tuple[str, ...] | str | None = None,
    label_min_pieces: int = 1,
    hold_out: list[str | Path] | None = None,
) -> PrepareReport:
    """Encode ``sources`` with ``codec`` into a dataset folder ``out`` (see :mod:`cadenza.data`).

    Files are read in ``workers`` child processes (default: one per core, at most 8): a file that
    crashes its reader, or takes more than ``file_timeout`` seconds (None: no limit), is skipped
    with that reason and costs nothing else. ``condition``: the label kinds pieces open with
    (see the module docstring); a label fewer than ``label_min_pieces`` pieces carry is left out.
    ``hold_out``: datasets whose validation and test pieces (by source file) stay on that side
    here, with every piece grouped with them, so a model trained on this dataset and measured on
    theirs never saw what it is measured on."""
    kinds = parse_kinds(condition) if isinstance(condition, str) or condition is None else parse_kinds(",".join(condition))
    out = Path(out)
    for other in hold_out or []:  # before hours of encoding, not after
        if not (Path(other) / "manifest.json").is_file():
            raise CadenzaError(f"--hold-out {other}: not a dataset folder (no manifest.json); make it with `cadenza prepare` first")
    codec_obj = get_codec(codec, options)
    opts = options_dict(codec_obj)
    unit = codec_obj.unit
    files = find_sources(sources)
    if not files:
        raise CadenzaError("no input files found in " + ", ".join(map(str, sources)))
    records: dict[str, SourceRecord] = {}
    encoded: list[tuple[str, Encoded]] = []
    jobs = [(codec, opts, str(f)) for f in files]
    workers = workers or min(os.cpu_count() or 1, 8)
    done = 0

    def collect(result: tuple[str, list[Encoded] | None, str]) -> None:
        path, pieces, reason = result
        if pieces is None:
            records[path] = SourceRecord(path, "skipped", reason)
        else:
            records[path] = SourceRecord(path, "used", pieces=[p.name for p in pieces])
            encoded.extend((path, p) for p in pieces)

    # each file in a worker process, so a parser that crashes or hangs costs only that file
    results: list[Any] = [None] * len(jobs)

    def arrived(index: int, result: tuple[str, list[Encoded] | None, str]) -> None:
        nonlocal done
        results[index] = result
        done += 1
        if progress:
            progress(done, len(jobs))

    run_isolated(encode_file, jobs, min(workers, len(jobs)), file_timeout, lambda job, why: (job[2], None, why), arrived)
    for r in results:  # in the files' order, so the dataset does not depend on which finished first
        collect(r)

    encoded = _unique_names(encoded)
    layout, left_out = codec_obj.choose_layout([p for _, p in encoded], opts.get("spines") or 0)  # kern: one spine count
    for i, reason in left_out:
        records[encoded[i][0]] = SourceRecord(encoded[i][0], "skipped", reason)
    encoded = [e for i, e in enumerate(encoded) if i not in {j for j, _ in left_out}]
    encoded = _drop_exact_duplicates(encoded, records)
    if not encoded:
        reasons = Counter(r.reason for r in records.values() if r.status == "skipped")
        raise CadenzaError("no usable pieces; reasons: " + "; ".join(f"{n}x {r}" for r, n in reasons.most_common(3)))

    labels, label_counts = assign_labels(encoded, sources, kinds, label_min_pieces) if kinds else ([{} for _ in encoded], {})
    pieces = [p for _, p in encoded]
    groups = group_duplicates(pieces, codec_obj)
    names_by_group: dict[int, list[str]] = {}
    sizes: Counter[int] = Counter()
    for g, p in zip(groups, pieces):
        names_by_group.setdefault(g, []).append(p.name)
        sizes[g] += len(p.text)
    fixed = _held_out_groups([path for path, _ in encoded], groups, hold_out or [])
    side = split_groups(names_by_group, sizes, seed, val_fraction, test_fraction, fixed)

    shifts = parse_transpose(transpose)
    texts: dict[str, list[str]] = {"train": [], "val": [], "test": []}
    heads: dict[str, list[str]] = {"train": [], "val": [], "test": []}
    piece_rows = []
    aug_skipped = 0
    originals: dict[str, str] = {}  # training pieces in their own key, for the codec's generation context
    for (path, p), g, lab in zip(encoded, groups, labels):
        head = label_text(lab, unit)
        split = side[g]
        # Augmentation only where it cannot leak: training pieces get every shift; held-out
        # pieces stay in their own key so validation measures the real thing.
        for s in shifts if split == "train" else [0]:
            try:
                q = p if s == 0 else codec_obj.transpose(p, s)
            except (ValueError, CadenzaError):
                aug_skipped += 1
                continue
            texts[split].append(head + q.text)
            if split == "train" and s == 0:
                originals[q.name] = q.text
            heads[split].append(head)
            row = {"name": q.name, "source": path, "split": split, "group": int(g), "transpose": s, "tokens": len(split_tokens(head + q.text, unit)), "info": q.info}
            piece_rows.append(row | ({"labels": lab} if kinds else {}))
        records[path].reason = f"split={split}"

    vocab = sorted({tok for t in texts.values() for piece in t for tok in split_tokens(piece, unit)} | ({"\n"} if unit == "char" else set()))
    # what decoding generated text needs and the text itself lacks (the codec decides)
    context = codec_obj.generation_context([dict(r, text=originals[r["name"]]) for r in piece_rows if r["split"] == "train" and r["transpose"] == 0], layout)
    if kinds:  # the labels a musician may ask for: those the model saw in training
        trained = {k: sorted({r["labels"][k] for r in piece_rows if r["split"] == "train" and k in r["labels"]}) for k in kinds}
        context["labels"] = {k: v for k, v in trained.items() if v}
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
        "tokens": {k: sum(len(split_tokens(x, unit)) for x in t) for k, t in texts.items()},
        "transpositions_skipped": aug_skipped,
        "labels": {"kinds": list(kinds), "min_pieces": label_min_pieces, "pieces": label_counts} if kinds else None,
        "held_out_from": [str(h) for h in hold_out or []],
        "sources": [records[str(f)].__dict__ for f in files if str(f) in records],
    }
    by_source = _by_source(piece_rows, sources)
    manifest["by_source"] = by_source
    warnings = split_warnings(piece_rows, val_fraction, test_fraction)
    if warnings:  # the report reads them from here
        manifest["warnings"] = warnings
    write_dataset(out, texts, unit, vocab, piece_rows, manifest, heads if kinds else None)
    write_report(out)
    skipped = [(r.path, r.reason) for r in records.values() if r.status == "skipped"]
    return PrepareReport(out, codec, len(records) - len(skipped), len(skipped), manifest["pieces"], manifest["tokens"], len(vocab), skipped, layout, label_counts,
                         dict(context.get("layouts") or {}), by_source, warnings)


def _by_source(rows: list[dict[str, Any]], sources: list[str | Path]) -> dict[str, dict[str, int]]:
    """Pieces and tokens (in their own key) from each source given, for the corpus report."""
    roots = [(str(s), Path(s).resolve()) for s in sources if not str(s).startswith("music21:")]
    out: dict[str, dict[str, int]] = {}
    for r in rows:
        if r["transpose"]:
            continue
        here = Path(r["source"]).resolve()
        name = next((s for s, root in roots if root == here or root in here.parents), None)
        if name is None:  # music21:NAME collections: the corpus folder the file lies in
            name = next((str(s) for s in sources if str(s).startswith("music21:") and str(s).split(":", 1)[1].lower() in str(here).lower()), here.parent.name)
        row = out.setdefault(name, {"pieces": 0, "tokens": 0})
        row["pieces"] += 1
        row["tokens"] += r["tokens"]
    return out


def _unique_names(encoded: list[tuple[str, Encoded]]) -> list[tuple[str, Encoded]]:
    """Two folders may both hold "sonata01-1": such pieces are named "<folder>/<name>"."""
    counts = Counter(p.name for _, p in encoded)
    return [(path, Encoded(f"{Path(path).parent.name}/{p.name}", p.text, p.info) if counts[p.name] > 1 else p) for path, p in encoded]


def _drop_exact_duplicates(encoded: list[tuple[str, Encoded]], records: dict[str, SourceRecord]) -> list[tuple[str, Encoded]]:
    """Pieces whose text another piece already has are recorded as skipped (near-duplicates are
    kept, and grouped for the split)."""
    seen_text: dict[str, str] = {}
    kept = []
    dropped: dict[str, list[str]] = {}
    for path, p in encoded:
        h = hashlib.sha256(p.text.encode()).hexdigest()
        if h in seen_text:
            dropped.setdefault(path, []).append(f"{p.name}: duplicate of {seen_text[h]}")
            continue
        seen_text[h] = f"{path}#{p.name}" if len(records[path].pieces) > 1 else path
        kept.append((path, p))
    used = {path for path, _ in kept}
    for path, why in dropped.items():
        if path in used:  # a tune book some of whose tunes another file holds: the file is used, those tunes are not
            records[path].duplicates = why
        else:
            records[path] = SourceRecord(path, "skipped", why[0].split(": ", 1)[1] if len(why) == 1 else f"all {len(why)} pieces are duplicates ({why[0]})")
    return kept


def _held_out_groups(paths: list[str], groups: list[int], others: list[str | Path]) -> dict[int, str]:
    """The groups holding a source file that another dataset (``hold_out``) put in its test or
    validation split: test wins over validation when a group holds both."""
    from cadenza.data.dataset import load_manifest, load_pieces

    side_of: dict[str, str] = {}
    for other in others:
        try:
            load_manifest(Path(other))
        except CadenzaError as exc:
            raise CadenzaError(f"--hold-out {other}: {exc}") from None
        for r in load_pieces(Path(other)):
            if r["split"] in ("val", "test") and not r.get("transpose"):
                key = str(Path(r["source"]).resolve())
                side_of[key] = "test" if r["split"] == "test" or side_of.get(key) == "test" else "val"
    fixed: dict[int, str] = {}
    for path, g in zip(paths, groups):
        s = side_of.get(str(Path(path).resolve()))
        if s is not None and fixed.get(g) != "test":
            fixed[g] = s
    return fixed
