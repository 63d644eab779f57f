"""Every measured figure in README.md is the one its committed results file holds
(scripts/readme_figures.py; ``make docs`` writes them), and the check fails when one changes."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "benchmarks"))

import readme_figures as rf  # noqa: E402


@pytest.fixture
def results(tmp_path: Path) -> Path:
    """A copy of benchmarks/results to change."""
    return Path(shutil.copytree(rf.RESULTS, tmp_path / "results"))


def _edit(path: Path, change) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data), encoding="utf-8")


def test_readme_figures_match_the_committed_results():
    out = rf.check()
    assert not out, "README.md and benchmarks/results disagree (run `make docs`, or fix the phrase):\n" + "\n".join(out)


def test_a_changed_figure_in_a_sentence_fails_the_check(results):
    _edit(results / "jam_latency.json", lambda d: d["first_note_ms"].update(p50=123.4))
    out = rf.check(src=rf.Sources(results=results))
    changed = [line for line in out if line.startswith("+") and not line.startswith("+++")]
    assert len(changed) == 1 and "**p50 123 ms," in changed[0], out


def test_a_changed_figure_in_a_table_fails_the_check(results):
    def worse(d):
        d["results"][0]["test_nll"] = 9.87

    _edit(results / "poly.json", worse)
    out = rf.check(src=rf.Sources(results=results))
    assert any(line.startswith("+| **Cadenza LSTM**") and "**9.87**" in line for line in out), out
    assert any(line.startswith("-| **Cadenza LSTM**") for line in out), out


def test_write_puts_the_results_into_the_readme(results, tmp_path):
    readme = tmp_path / "README.md"
    shutil.copy(rf.README, readme)
    _edit(results / "encode_speed.json", lambda d: d.update(speedup=250.4))
    assert rf.check(readme, rf.Sources(results=results))
    assert rf.write(readme, rf.Sources(results=results)) == []
    assert rf.check(readme, rf.Sources(results=results)) == []
    assert "**250× faster**" in readme.read_text(encoding="utf-8")


def test_a_missing_results_file_or_phrase_is_named(results, tmp_path):
    (results / "memory.json").unlink()
    out = rf.check(src=rf.Sources(results=results))
    assert any("memory.json" in line for line in out), out
    readme = tmp_path / "README.md"
    readme.write_text(rf.README.read_text(encoding="utf-8").replace("**171× faster**", "**much faster**"), encoding="utf-8")
    out = rf.check(readme)
    assert any("no longer holds the phrase" in line and "faster**" in line for line in out), out


def test_a_phrase_matches_across_line_breaks_and_keeps_them():
    phrase = rf.Phrase("takes about {ms} ms against {s} s")
    m = phrase.pattern().search("it takes about\n  22 ms against 3.8 s here")
    assert m and m.groups() == ("22", "3.8")
    text, problems = rf.render("it takes about\n  22 ms against 3.8 s here", rf.Sources(), {}, [rf.Figures(lambda src: {"ms": "1,234", "s": "0.5"}, (phrase.text,))])
    assert problems == [] and text == "it takes about\n  1,234 ms against 0.5 s here"


def test_numbers_as_the_readme_writes_them():
    assert [rf.num(x) for x in (1.1498, 3770.8, 170.8, 0.19, 36270, 7.6)] == ["1.15", "3,771", "171", "0.19", "36,270", "7.6"]
    assert rf.num(1.0, 3) == "1.000" and rf.pct(0.0833, 1) == "8.3" and rf.bold_lower(1.101, 1.099) == ("1.101", "**1.099**")
    assert rf.bold_lower(1.2731, 1.2729) == ("1.273", "1.273")


def test_a_quick_benchmark_never_replaces_the_readme_tables_source(tmp_path):
    import bench

    paths = bench.write({"date": "2026-01-02", "quick": True, "rows": []}, tmp_path)
    assert [p.name for p in paths] == ["bench-quick-2026-01-02.json"] and not (tmp_path / "latest.json").exists()
