"""README figures come from committed results: every table and sentence of README.md that quotes a
measurement is rendered from a JSON file under benchmarks/results/ (or a bundled model's
MODEL.json), so the README cannot drift from what was measured.

    python scripts/readme_figures.py --check   # exit 1 with a diff where README and results disagree
    python scripts/readme_figures.py --write   # put the results' figures into README.md (make docs)

Two kinds of figure (both listed in scripts/readme_figure_list.py):

* a table between ``<!-- figures:NAME -->`` and ``<!-- /figures -->`` is generated whole;
* a figure inside a sentence is a phrase of the README with placeholders (``{name}`` a number,
  ``{name:word}`` a word or date): the phrase is found (any run of whitespace matches any other)
  and each placeholder's text is compared with (or replaced by) the results' value. A phrase the
  README no longer holds is an error: edit the phrase in the list along with the README.

A figure no file holds has no place in the README: measure it and commit the summary (the
scripts in benchmarks/ write them), or say in words that it was not measured.
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
RESULTS = ROOT / "benchmarks" / "results"
MODELS = ROOT / "src" / "cadenza" / "pretrained"

KINDS = {"": r"(\d[\d,]*(?:\.\d+)?)", "word": r"([\w.-]+)"}  # what a {name} / {name:word} placeholder matches
REGION = re.compile(r"(<!-- figures:([\w-]+) -->\n)(.*?)(<!-- /figures -->)", re.S)
PLACEHOLDER = re.compile(r"\{(\w+)(?::(\w+))?\}")


class FigureError(Exception):
    """A results file is missing or lacks what a figure needs."""


@dataclass
class Sources:
    """The committed results (``results/NAME.json``) and the bundled models' ``MODEL.json``, each
    read once."""

    results: Path = RESULTS
    models: Path = MODELS
    _cache: dict[Path, Any] = field(default_factory=dict)

    def _read(self, path: Path) -> Any:
        if path not in self._cache:
            try:
                self._cache[path] = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise FigureError(f"{path}: {exc}") from None
        return self._cache[path]

    def __call__(self, name: str) -> Any:
        return self._read(self.results / f"{name}.json")

    def model(self, name: str) -> dict[str, Any]:
        return self._read(self.models / name / "MODEL.json")


# ---- numbers as the README writes them


def num(x: float | None, dp: int | None = None) -> str:
    """``x`` with thousands separators: ``dp`` decimals, or by default whole from 100 on and 3
    decimals below, trailing zeros dropped (1.1498 -> 1.15, 3770.8 -> 3,771)."""
    if x is None:
        return ""
    if dp is not None:
        return f"{x:,.{dp}f}"
    if abs(x) >= 100:
        return f"{round(x):,}"
    text = f"{x:.3f}".rstrip("0").rstrip(".")
    return text if text != "-0" else "0"


def pct(share: float, dp: int = 0) -> str:
    """A share as a percentage number (no sign): 0.0833 -> "8" (dp 0), "8.3" (dp 1)."""
    return num(100 * share, dp)


def bold_lower(a: float, b: float, dp: int = 3) -> tuple[str, str]:
    """Two figures where lower is better, the lower in bold when they differ as written."""
    x, y = num(a, dp), num(b, dp)
    if x == y:
        return x, y
    return (f"**{x}**", y) if a < b else (x, f"**{y}**")


def table(header: list[str], rows: list[list[str]]) -> str:
    """A Markdown table (an empty cell written ``| |``)."""

    def line(cells: list[str]) -> str:
        return "|" + "|".join(f" {c} " if c else " " for c in cells) + "|"

    return "\n".join([line(header), "|" + "---|" * len(header), *map(line, rows)]) + "\n"


# ---- phrases


@dataclass(frozen=True)
class Phrase:
    """A sentence fragment of the README with placeholders: ``{name}`` (a number), ``{name:word}``."""

    text: str

    def pattern(self) -> re.Pattern[str]:
        out, pos = [], 0
        for m in PLACEHOLDER.finditer(self.text):
            out.append(_literal(self.text[pos : m.start()]))
            out.append(KINDS[m.group(2) or ""])
            pos = m.end()
        out.append(_literal(self.text[pos:]))
        return re.compile("".join(out))

    def names(self) -> list[str]:
        return [m.group(1) for m in PLACEHOLDER.finditer(self.text)]


def _literal(text: str) -> str:
    """``text`` as a pattern in which any run of whitespace matches any other (a line break too)."""
    return r"\s+".join(re.escape(part) for part in re.split(r"\s+", text))


@dataclass(frozen=True)
class Figures:
    """Phrases whose numbers come from one function of the sources (a dict of name -> text)."""

    values: Callable[[Sources], dict[str, str]]
    phrases: tuple[str, ...]


# ---- rendering and checking


def render(text: str, src: Sources, tables: dict[str, Callable[[Sources], str]], figures: list[Figures]) -> tuple[str, list[str]]:
    """``text`` with every marked table and every phrase's numbers from the results, and the
    problems that are not a figure's value (a missing phrase, marker or results file)."""
    problems: list[str] = []
    seen: set[str] = set()

    def region(m: re.Match[str]) -> str:
        name = m.group(2)
        seen.add(name)
        if name not in tables:
            problems.append(f"README marks a table '{name}' that scripts/readme_figure_list.py does not know")
            return m.group(0)
        try:
            body = tables[name](src)
        except (FigureError, KeyError, IndexError, TypeError) as exc:
            problems.append(f"table '{name}': {type(exc).__name__}: {exc}")
            return m.group(0)
        return f"{m.group(1)}\n{body}\n{m.group(4)}"

    text = REGION.sub(region, text)
    problems += [f"README has no <!-- figures:{name} --> table" for name in tables if name not in seen]
    edits: list[tuple[int, int, str]] = []
    for group in figures:
        try:
            values = group.values(src)
        except (FigureError, KeyError, IndexError, TypeError) as exc:
            problems.append(f"{group.values.__name__}: {type(exc).__name__}: {exc}")
            continue
        for phrase in map(Phrase, group.phrases):
            missing = [n for n in phrase.names() if n not in values]
            if missing:
                problems.append(f"phrase {phrase.text!r}: {group.values.__name__} gives no {', '.join(missing)}")
                continue
            found = list(phrase.pattern().finditer(text))
            if not found:
                problems.append(f"README no longer holds the phrase {phrase.text!r} (edit it in scripts/readme_figure_list.py with the README)")
            for m in found:
                edits += [(m.start(i + 1), m.end(i + 1), values[n]) for i, n in enumerate(phrase.names())]
    for start, end, value in sorted(edits, reverse=True):
        text = text[:start] + value + text[end:]
    return text, problems


def _lists() -> tuple[dict[str, Callable[[Sources], str]], list[Figures]]:
    """TABLES and FIGURES of scripts/readme_figure_list.py (imported late: it imports this module)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from readme_figure_list import FIGURES, TABLES

    return TABLES, FIGURES


def check(readme: Path = README, src: Sources | None = None) -> list[str]:
    """What disagrees between ``readme`` and the results: problems, then a diff (empty: all agree)."""
    old = readme.read_text(encoding="utf-8")
    new, problems = render(old, src or Sources(), *_lists())
    diff = list(difflib.unified_diff(old.splitlines(), new.splitlines(), f"{readme.name} (now)", f"{readme.name} (from the results)", n=0, lineterm=""))
    return problems + diff


def write(readme: Path = README, src: Sources | None = None) -> list[str]:
    """Rewrite ``readme``'s figures from the results; returns the problems left (see :func:`render`)."""
    old = readme.read_text(encoding="utf-8")
    new, problems = render(old, src or Sources(), *_lists())
    if new != old:
        readme.write_text(new, encoding="utf-8")
    return problems


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--check", action="store_true", help="exit 1 and show what differs")
    mode.add_argument("--write", action="store_true", help="rewrite README.md's figures")
    ap.add_argument("--readme", type=Path, default=README)
    ap.add_argument("--results", type=Path, default=RESULTS)
    args = ap.parse_args()
    src = Sources(results=args.results)
    if args.write:
        problems = write(args.readme, src)
        print("\n".join(problems) if problems else f"{args.readme.name}: figures written from {args.results}")
        sys.exit(1 if problems else 0)
    out = check(args.readme, src)
    print("\n".join(out) if out else f"{args.readme.name}: every figure matches {args.results}")
    sys.exit(1 if out else 0)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from readme_figures import main as _main  # the figure list imports this module by name: one copy of it

    _main()
