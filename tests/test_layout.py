"""The architecture holds: lower floors never import higher ones, no file outgrows one sitting,
and nothing outside codecs/ asks a codec for its name."""

from __future__ import annotations

import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "cadenza"
# floor of each top-level module or package (STYLE.md); a module may import only its floor or lower
FLOOR = {"__init__": 1, "files": 1, "music": 2, "codecs": 3, "data": 4, "models": 5, "training": 6, "generation": 7, "evaluation": 8, "render": 8,
         "compose": 8.5, "adapt": 8.5, "cli": 9, "web": 9, "__main__": 10}


def _modules():
    return sorted(SRC.rglob("*.py"))


def test_every_module_has_a_floor():
    assert {p.relative_to(SRC).parts[0].removesuffix(".py") for p in _modules()} <= set(FLOOR)


def test_lower_floors_never_import_higher_ones():
    bad = []
    for path in _modules():
        me = FLOOR[path.relative_to(SRC).parts[0].removesuffix(".py")]
        for m in re.finditer(r"(?:from|import) cadenza\.(\w+)", path.read_text()):
            if FLOOR[m.group(1)] > me:
                bad.append(f"{path.relative_to(SRC)} imports cadenza.{m.group(1)}")
    assert not bad, bad


def test_no_file_over_500_lines():
    long = {str(p.relative_to(SRC)): n for p in _modules() if (n := len(p.read_text().splitlines())) > 500}
    assert not long, long


def test_no_codec_name_branches_outside_codecs():
    # (a file's kind, such as an upload's "kern", is not a codec: only names and codecs count)
    pattern = re.compile(r"codec(?:_name|\.name)\s*(?:==|!=|in)|(?:name|codec|\])\s*==\s*[\"'](?:kern|notewise|chordwise)[\"']")
    hits = [f"{p.relative_to(SRC)}:{i}" for p in _modules() if "codecs" not in p.relative_to(SRC).parts
            for i, line in enumerate(p.read_text().splitlines(), 1) if pattern.search(line)]
    assert not hits, hits
