"""A dataset's corpus report (``report.md`` beside its manifest): what it holds and what it left out.

Issue #20 asks of a corpus of every score: pieces, characters, per label, per layout, and what
was skipped and why. Everything here is read back from what ``prepare`` wrote (the manifest and
``pieces.jsonl``), so the report cannot disagree with the dataset.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from pathlib import Path

from cadenza.codecs import get_codec
from cadenza.data.dataset import load_manifest, load_pieces


def corpus_report(dataset: Path) -> str:
    """The report of ``dataset`` as Markdown."""
    dataset = Path(dataset)
    m = load_manifest(dataset)
    rows = load_pieces(dataset)
    own = [r for r in rows if not r["transpose"]]
    unit = "characters" if get_codec(m["codec"], m.get("options")).unit == "char" else "tokens"
    out = [f"# Corpus report: {dataset.name}", "",
           f"Codec `{m['codec']}` ({', '.join(f'{k}={v}' for k, v in (m.get('options') or {}).items())}); split seed {m['seed']}; "
           f"transpositions of the training pieces: {', '.join(map(str, m.get('transpose') or [0]))}.", "",
           "| split | pieces (own key) | pieces with transpositions | " + unit + " |", "|---|---:|---:|---:|"]
    for split in ("train", "val", "test"):
        out.append(f"| {split} | {sum(1 for r in own if r['split'] == split):,} | {m['pieces'][split]:,} | {m['tokens'][split]:,} |")
    if m.get("warnings"):
        out += ["", "**Warning:**", ""] + [f"- {w}" for w in m["warnings"]]
    out += ["", "## Sources", "", f"| source | pieces | {unit} (own key) |", "|---|---:|---:|"]
    for src, row in (m.get("by_source") or {}).items():
        out.append(f"| `{source_name(src)}` | {row['pieces']:,} | {row['tokens']:,} |")
    kinds = ((m.get("labels") or {}).get("kinds")) or []
    for kind in kinds:
        counts = Counter(r.get("labels", {}).get(kind, "(none)") for r in own)
        size: dict[str, int] = defaultdict(int)
        for r in own:
            size[r.get("labels", {}).get(kind, "(none)")] += r["tokens"]
        out += ["", f"## Labels: {kind}", "", f"| {kind} | pieces | {unit} |", "|---|---:|---:|"]
        out += [f"| {v} | {n:,} | {size[v]:,} |" for v, n in counts.most_common()]
    layouts = (m.get("context") or {}).get("layouts")
    if layouts:
        out += ["", "## Layouts (training pieces; staves low to high)", "", "| staves | clefs | pieces |", "|---:|---|---:|"]
        out += [f"| {len(k.split(chr(9)))} | {' '.join(c.replace('*clef', '') for c in k.split(chr(9)))} | {n:,} |" for k, n in layouts.items()]
    groups = Counter(r["group"] for r in own)
    shared = [g for g, n in groups.items() if n > 1]
    sources_of: dict[int, set[str]] = defaultdict(set)
    for r in own:
        sources_of[r["group"]].add(_collection(r["source"]))
    across = [g for g in shared if len(sources_of[g]) > 1]
    out += ["", "## Duplicates", "",
            f"{len(shared):,} groups of pieces share their music (the same tune or movement, in any key or edition): {sum(groups[g] for g in shared):,} pieces, "
            f"the largest group {max((groups[g] for g in shared), default=0)}; {len(across):,} of the groups span two sources. Each group lies on one side "
            "of the split, so no test piece has a twin in training."]
    skipped = [s for s in m["sources"] if s["status"] == "skipped"]
    out += ["", "## Skipped", "", f"{len(skipped):,} of {len(m['sources']):,} files, by reason:", "", "| files | reason | for example |", "|---:|---|---|"]
    reasons: dict[str, list[str]] = defaultdict(list)
    for s in skipped:
        reasons[_reason_kind(s["reason"])].append(Path(s["path"]).name)
    for why, names in sorted(reasons.items(), key=lambda x: -len(x[1])):
        out.append(f"| {len(names):,} | {why} | {', '.join(names[:3])} |")
    return "\n".join(out) + "\n"


def source_name(src: str) -> str:
    """A source as a reader recognises it: ``music21/palestrina`` for a folder of music21's corpus
    (wherever it is installed), else as given."""
    parts = Path(src).parts
    if "music21" in parts and "corpus" in parts:
        i = parts.index("corpus")
        return "/".join(("music21",) + parts[i + 1 :]) if len(parts) > i + 1 else "music21"
    return src


def _collection(path: str) -> str:
    """The folder a source file came from, two levels up at most (``corpus/bach``, ``corpora/joplin``)."""
    parts = Path(path).parts
    return "/".join(parts[-3:-1]) if len(parts) > 2 else parts[0]


def _reason_kind(reason: str) -> str:
    """A skip reason without its particulars (line numbers, file names), so like groups with like."""
    reason = re.sub(r"line \d+", "line N", reason)
    reason = re.sub(r"duplicate of .*", "duplicate of another file (same text)", reason)
    reason = re.sub(r"\d+(\.\d+)?", "N", reason)
    return reason[:120]


def write_report(dataset: Path) -> Path:
    """Write ``report.md`` into ``dataset``; returns its path."""
    path = Path(dataset) / "report.md"
    path.write_text(corpus_report(dataset), encoding="utf-8")
    return path

