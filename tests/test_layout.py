"""The architecture holds: lower floors never import higher ones, no module imports its way back
to itself (imports inside functions and type-only ones count), no file outgrows one sitting,
nothing outside codecs/ asks a codec for its name or probes it for a hook, and a trained model
is opened in one place."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "cadenza"
# floor of each top-level module or package (STYLE.md); a module may import only its floor or lower
FLOOR = {"__init__": 1, "files": 1, "music": 2, "codecs": 3, "data": 4, "models": 5, "training": 6, "generation": 7, "evaluation": 8, "render": 8,
         "polybench": 8, "compose": 8.5, "adapt": 8.5, "bundle": 8.5, "cli": 9, "web": 9, "__main__": 10}


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


# (?:...) a codec probed for what it can do, instead of asking ``codec.can(...)``:
# getattr(codec, ...), hasattr(self.codec, ...), getattr(get_codec(...), ...)
PROBE = re.compile(r"\b(?:getattr|hasattr)\(\s*(?:[\w.]+\.)?(?:\w*_)?codec\b")
# files still probing, each to move to codec.can(); the list only shrinks
PROBING: set[str] = set()  # files allowed to probe a codec by name: none


def test_no_codec_is_probed_with_getattr_outside_codecs():
    hits = [f"{p.relative_to(SRC)}:{i}" for p in _modules() if "codecs" not in p.relative_to(SRC).parts and str(p.relative_to(SRC)) not in PROBING
            for i, line in enumerate(p.read_text().splitlines(), 1) if PROBE.search(line)]
    assert not hits, hits
    assert PROBE.search("getattr(codec, 'x')") and PROBE.search("hasattr(self.codec, 'x')") and PROBE.search("getattr(get_codec(n), 'x', None)")


# What code outside codecs/ may import from codecs/: the protocol and registry (the package and
# base.py), and the helpers every codec shares, each named here with why. A file format is not a
# codec: Humdrum lives in music/humdrum/, MIDI in music/midi_files.py.
SHARED_CODEC_MODULES = {
    "cadenza.codecs",  # the registry (get_codec, codec_of) and the protocol it re-exports
    "cadenza.codecs.base",  # the protocol itself
    "cadenza.codecs.fim",  # fill-in-the-middle sentinels and layouts: the same for every codec's text
    "cadenza.codecs.labels",  # conditioning labels: codec-neutral words in front of any codec's text
    "cadenza.codecs.bar_chords",  # chord tokens: every codec writes them where a bar begins
}
# files still importing one codec's own modules, each to go through the protocol; the set only shrinks
CODEC_IMPORTS = {
}


def _codec_imports(text: str) -> set[str]:
    """The codec modules a text imports anywhere (inside functions too): ``from cadenza.codecs
    import kern`` counts as ``cadenza.codecs.kern``."""
    got = {m.group(1) for m in re.finditer(r"^\s*import (cadenza\.codecs(?:\.\w+)*)", text, re.M)}
    for m in re.finditer(r"^\s*from (cadenza\.codecs(?:\.\w+)*) import \(?([\w\s,]+)\)?", text, re.M):
        for item in (x.strip().split(" as ")[0] for x in m.group(2).split(",") if x.strip()):
            sub = f"{m.group(1)}.{item}"
            is_module = (SRC.parent / sub.replace(".", "/")).with_suffix(".py").exists() or (SRC.parent / sub.replace(".", "/")).is_dir()
            got.add(sub if is_module else m.group(1))
    return got


def test_outside_codecs_only_the_protocol_registry_and_shared_helpers_are_imported():
    bad, used = [], {}
    for path in _modules():
        rel = str(path.relative_to(SRC))
        if path.relative_to(SRC).parts[0] == "codecs":
            continue
        for mod in _codec_imports(path.read_text()) - SHARED_CODEC_MODULES:
            used.setdefault(rel, set()).add(mod)
            if mod not in CODEC_IMPORTS.get(rel, set()):
                bad.append(f"{rel} imports {mod}")
    assert not bad, bad
    stale = {f: mods - used.get(f, set()) for f, mods in CODEC_IMPORTS.items() if mods - used.get(f, set())}
    assert not stale, f"no longer imported: drop from CODEC_IMPORTS: {stale}"
    assert _codec_imports("    from cadenza.codecs import kern, get_codec\nimport cadenza.codecs.notewise\n") == {
        "cadenza.codecs.kern", "cadenza.codecs", "cadenza.codecs.notewise"}


def test_the_humdrum_format_stays_below_the_codecs():
    """music/humdrum/ (the file format) never imports a codec, nor the music package's __init__
    (which imports music/reader.py, which reads segments from here: a circle)."""
    bad = [f"{p.relative_to(SRC)}" for p in (SRC / "music" / "humdrum").glob("*.py")
           if re.search(r"^\s*(?:from cadenza\.codecs|import cadenza\.codecs|from cadenza\.music import)", p.read_text(), re.M)]
    assert not bad, bad


def test_a_trained_model_is_opened_in_one_place():
    """``open_run`` (generation/run.py) reads a run's weights and builds its codec; everything else
    is handed the Run."""
    pattern = re.compile(r"\bload_run\(|get_codec\(\s*\w*config\[")
    allowed = {"generation/run.py", "codecs/__init__.py", "training/checkpoint.py", "training/warm_start.py", "adapt.py"}  # codec_of; adapt: a base and a tuned run side by side
    hits = [f"{p.relative_to(SRC)}:{i}" for p in _modules() if str(p.relative_to(SRC)) not in allowed
            for i, line in enumerate(p.read_text().splitlines(), 1) if pattern.search(line)]
    assert not hits, hits


def _imports() -> dict[str, set[str]]:
    """Each module (dotted name) and the Cadenza modules it imports anywhere in its text: at the
    top, inside functions, or for type checking only; ``from cadenza.pkg import name`` counts as
    the module ``pkg.name`` where there is one, else the package."""
    names = {".".join(p.relative_to(SRC.parent).with_suffix("").parts).removesuffix(".__init__"): p for p in _modules()}
    graph: dict[str, set[str]] = {}
    for name, path in names.items():
        got: set[str] = set()
        text = path.read_text()
        for m in re.finditer(r"^\s*from (cadenza(?:\.\w+)*) import \(?([\w\s,]+)\)?", text, re.M):
            for item in (x.strip().split(" as ")[0] for x in m.group(2).split(",") if x.strip()):
                got.add(f"{m.group(1)}.{item}" if f"{m.group(1)}.{item}" in names else m.group(1))
        got |= {m.group(1) for m in re.finditer(r"^\s*import (cadenza(?:\.\w+)+)", text, re.M)}
        graph[name] = {g for g in got if g in names and g != name}
    return graph


def test_no_import_circles():
    graph = _imports()
    circles = []
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                circles.append(" -> ".join(path[path.index(nxt):] + [nxt]))
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    # a package's __init__ that re-exports its modules is not a circle with them; every other loop is
    circles = [c for c in circles if not any(c.split(" -> ")[k + 1].startswith(c.split(" -> ")[k] + ".") for k in range(len(c.split(" -> ")) - 1))]
    assert not circles, circles


@pytest.mark.parametrize("module", ["cadenza.cli", "cadenza.generation.request", "cadenza.cli.options"])
def test_the_command_line_builds_a_request_without_torch(module):
    import subprocess
    import sys

    res = subprocess.run([sys.executable, "-c", f"import sys, {module}; print('torch' in sys.modules)"], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0 and res.stdout.strip() == "False", res.stderr
