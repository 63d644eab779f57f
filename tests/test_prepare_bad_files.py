"""Files `prepare` refused or let through without a word (issue #24), written here as they were.

A Humdrum file holding pieces one after another (segments: each opens with ``**kern`` and
closes with ``*-``) is read as that many pieces, by the kern codec and through music21 alike; a
corpus too small to fill the validation and test splits, or with one piece holding most of it,
prepares with a one-line warning that report.md repeats."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cadenza import CadenzaError
from cadenza.music import Note

FIRST = """!!!!SEGMENT: first.krn
!!!COM: Anon
**kern\t**kern
*clefF4\t*clefG2
*k[]\t*k[]
*M4/4\t*M4/4
=1\t=1
2C\t2c
2G\t2g
=2\t=2
1C\t1cc
==\t==
*-\t*-
"""
SECOND = """!!!!SEGMENT: second.krn
**kern\t**kern
*clefF4\t*clefG2
*k[b-]\t*k[b-]
*M3/4\t*M3/4
=1\t=1
2.F\t4f
.\t4a
.\t4cc
=2\t=2
2.FF\t2.f
==\t==
*-\t*-
"""
NOTES = {
    "first": [Note(0.0, 48, 2.0), Note(0.0, 60, 2.0), Note(2.0, 55, 2.0), Note(2.0, 67, 2.0), Note(4.0, 48, 4.0), Note(4.0, 72, 4.0)],
    "second": [Note(0.0, 53, 3.0), Note(0.0, 65, 1.0), Note(1.0, 69, 1.0), Note(2.0, 72, 1.0), Note(3.0, 41, 3.0), Note(3.0, 65, 3.0)],
}


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_segments_follow_music21s_rule():
    from cadenza.music.humdrum.segments import segment_names, segments

    parts = segments(FIRST + SECOND)
    assert [(p.line, p.name) for p in parts] == [(1, "first"), (14, "second")]
    assert [p.text for p in parts] == [FIRST, SECOND + "\n"]
    assert segment_names("book", parts) == ["first", "second"]
    unnamed = segments(FIRST.replace("!!!!SEGMENT: first.krn\n", "") + SECOND.replace("!!!!SEGMENT: second.krn\n", ""))
    assert segment_names("book", unnamed) == ["book-1", "book-2"]
    assert segments(FIRST) == [type(parts[0])(FIRST, 1, "first")]  # one piece: the text untouched
    # comments after an end go with the piece that follows; a lone spine ending is no segment end
    assert [p.line for p in segments(FIRST + "!! between\n" + SECOND)] == [1, 14]
    assert len(segments(FIRST.replace("*-\t*-", "*\t*-\n*-"))) == 1


def test_each_segment_is_a_piece_for_kern_and_music21(tmp_path):
    from cadenza.codecs.kern.cleaning import clean
    from cadenza.data.dataset import load_pieces
    from cadenza.data.prepare import prepare
    from cadenza.music.reader import read_piece_file, read_pieces

    book = _write(tmp_path / "book.krn", FIRST + SECOND)
    pieces = read_pieces(book)
    assert {p.name: p.notes for p in pieces} == NOTES
    assert [p.time_signatures for p in pieces] == [[(0.0, 4, 4)], [(0.0, 3, 4)]]
    with pytest.raises(CadenzaError) as err:  # a prompt is one piece
        read_piece_file(book)
    assert str(err.value) == f"{book}: holds 2 pieces (Humdrum segments from lines 1, 14); give one piece (prepare reads each as its own)"

    rep = prepare([str(book)], tmp_path / "kern", "kern", {}, workers=1, val_fraction=0.0, test_fraction=0.0)
    rows = load_pieces(tmp_path / "kern")
    assert rep.used == 1 and [r["name"] for r in rows] == ["first", "second"]
    texts = (tmp_path / "kern" / "train.txt").read_text(encoding="utf-8")
    for seg in (FIRST, SECOND):
        assert clean(seg)[0] in texts
    rep = prepare([str(book)], tmp_path / "notewise", "notewise", {"steps_per_quarter": 4}, workers=1, val_fraction=0.0, test_fraction=0.0)
    assert [r["name"] for r in load_pieces(tmp_path / "notewise")] == ["first", "second"]


def test_a_bad_segment_is_named_with_the_line_it_starts_at(tmp_path):
    from cadenza.data.prepare import prepare

    bad = _write(tmp_path / "book.krn", FIRST + SECOND.replace("4a\n", "4a\t4b\n"))
    rep = prepare([str(bad), str(_write(tmp_path / "ok.krn", FIRST.replace("2G", "2A")))], tmp_path / "ds", "kern", {}, workers=1, val_fraction=0.0, test_fraction=0.0)
    assert rep.skipped_reasons == [(str(bad), f"{bad} (piece second from line 14):8: 3 columns where 2 spines are active")]


def test_an_empty_split_or_one_huge_piece_is_warned_of_in_one_line(tmp_path):
    from cadenza.cli import app
    from cadenza.data.prepare import prepare

    one = _write(tmp_path / "first.krn", FIRST)
    rep = prepare([str(one)], tmp_path / "ds1", "kern", {}, workers=1)
    empty = "the validation and test splits are empty: 1 piece(s) cannot fill train, validation and test; give more pieces (or --val-fraction 0 / --test-fraction 0 if that is meant)"
    assert rep.pieces == {"train": 1, "val": 0, "test": 0} and rep.warnings == [empty]
    assert f"- {empty}" in (tmp_path / "ds1" / "report.md").read_text(encoding="utf-8")
    assert prepare([str(one)], tmp_path / "ds0", "kern", {}, workers=1, val_fraction=0.0, test_fraction=0.0).warnings == []  # no split asked for

    # three pieces, one of 40 bars: the seeded order sends it to test, and training gets the crumbs
    long = FIRST.replace("=2\t=2\n1C\t1cc\n", "".join(f"={b}\t={b}\n1C\t1cc\n" for b in range(2, 42)))
    folder = tmp_path / "three"
    folder.mkdir()
    for name, text in (("a", FIRST), ("b", FIRST.replace("2G", "2A")), ("c", long)):
        _write(folder / f"{name}.krn", text.replace("first.krn", f"{name}.krn"))
    res = CliRunner().invoke(app, ["prepare", str(folder), "-o", str(tmp_path / "ds3"), "--workers", "1"], env={"COLUMNS": "80"})
    assert res.exit_code == 0, res.output
    rep_md = (tmp_path / "ds3" / "report.md").read_text(encoding="utf-8")
    warned = [x for x in res.output.splitlines() if x.startswith("warning:")]
    huge = "one piece holds 77% of the corpus (c, 414 of 540 tokens, in test): the split is by piece, so test holds most of the corpus"
    assert warned == [f"warning: {huge}"] and f"- {huge}" in rep_md


def test_names_holding_brackets_are_printed_as_written(tmp_path, monkeypatch):
    """Rich reads ``[f#]`` as markup and would swallow it: a folder, a file or a kern token in
    brackets is printed as it is (the CLI's consoles print with markup off)."""
    from cadenza.cli import app

    monkeypatch.chdir(tmp_path)  # short relative names: no table wraps them
    folder = Path("rags [f#]")
    folder.mkdir()
    _write(folder / "maple [b-].krn", FIRST)
    _write(folder / "broken [red].krn", "**kern\n*clefG2\n=1\n4c\t4d\n*-\n")
    out = Path("ds [bold]")
    res = CliRunner().invoke(app, ["prepare", str(folder), "-o", str(out), "--workers", "1"], env={"COLUMNS": "400"})
    assert res.exit_code == 0, res.output
    assert f"every file's fate is in {out / 'manifest.json'}" in res.output
    assert "│ rags [f#] │" in res.output and "warning: the validation and test splits are empty" in res.output
    assert "1 file used, 1 skipped" in res.output
