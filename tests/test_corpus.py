"""Dataset preparation: every file accounted for, splits by piece with no leakage."""

from __future__ import annotations

import json
from pathlib import Path

from cadenza.data import load_manifest, load_pieces, prepare
from conftest import shared


def test_split_is_by_piece_without_leakage(tmp_path, palestrina_paths):
    out = tmp_path / "ds"
    rep = prepare([str(p) for p in palestrina_paths[:60]], out, "kern", {"spines": 4}, transpose="-2,3", workers=1, seed=5)
    rows = load_pieces(out)
    side: dict[str, str] = {}
    for r in rows:
        assert side.setdefault(r["source"], r["split"]) == r["split"], "one source file on two sides"
    assert {r["split"] for r in rows} == {"train", "val", "test"}
    # transposed copies only for training pieces
    assert all(r["transpose"] == 0 for r in rows if r["split"] != "train")
    assert {r["transpose"] for r in rows if r["split"] == "train"} == {-2, 0, 3}
    # no held-out text occurs in training text
    train = (out / "train.txt").read_text()
    for split in ("val", "test"):
        for piece in (out / f"{split}.txt").read_text().split("\n\n"):
            if piece.strip():
                assert piece.strip() not in train
    assert rep.pieces["train"] > rep.pieces["val"] > 0


def test_split_is_seeded_and_stable(tmp_path, palestrina_paths):
    files = [str(p) for p in palestrina_paths[:40]]
    a = prepare(files, tmp_path / "a", "kern", {"spines": 4}, workers=1, seed=3)
    b = prepare(files, tmp_path / "b", "kern", {"spines": 4}, workers=1, seed=3)
    assert (tmp_path / "a" / "test.txt").read_bytes() == (tmp_path / "b" / "test.txt").read_bytes()
    c = prepare(files, tmp_path / "c", "kern", {"spines": 4}, workers=1, seed=4)
    assert (tmp_path / "a" / "test.txt").read_bytes() != (tmp_path / "c" / "test.txt").read_bytes()
    assert a.pieces == b.pieces and c.pieces["train"] > 0


def test_duplicates_never_straddle_the_split(tmp_path, palestrina_paths):
    src = tmp_path / "src"
    src.mkdir()
    texts = [Path(p).read_text(encoding="latin-1") for p in palestrina_paths[:12]]
    for i, t in enumerate(texts):
        (src / f"p{i:02d}.krn").write_text(t)
    (src / "copy.krn").write_text(texts[0])  # an exact duplicate
    (src / "notes.txt").write_text("not music")
    (src / "broken.krn").write_text("**kern\n4c\t4d\n*-\n")
    manifest_rep = prepare([str(src)], tmp_path / "ds", "kern", {"spines": 0}, workers=1)
    m = load_manifest(tmp_path / "ds")
    by_name = {Path(s["path"]).name: s for s in m["sources"]}
    dup = [s for s in m["sources"] if "duplicate of" in s["reason"]]
    assert len(dup) == 1 and {Path(dup[0]["path"]).name, Path(dup[0]["reason"].split()[-1]).name} == {"copy.krn", "p00.krn"}
    assert by_name["notes.txt"]["status"] == "skipped" and by_name["notes.txt"]["reason"].startswith("not a .krn/")
    assert by_name["broken.krn"]["status"] == "skipped" and "columns" in by_name["broken.krn"]["reason"]
    assert manifest_rep.skipped >= 3


def test_every_shared_corpus_file_is_used_or_skipped_with_a_reason(tmp_path):
    root = shared("corpora")
    files = [f for f in root.rglob("*") if f.is_file()]
    rep = prepare([str(root)], tmp_path / "all", "kern", {"spines": 2}, workers=2)
    m = json.loads((tmp_path / "all" / "manifest.json").read_text())
    listed = {s["path"] for s in m["sources"]}
    assert listed == {str(f) for f in files}
    for s in m["sources"]:
        assert s["status"] in ("used", "skipped")
        assert s["reason"] and "\n" not in s["reason"]
    assert rep.used > 240  # the piano corpora (2 spines)
    assert any("duplicate" in s["reason"] or "spines" in s["reason"] for s in m["sources"])


def test_near_duplicates_are_grouped(palestrina_paths):
    """A movement stored again inside a longer file (like Beethoven's Waldstein coda) must land
    on the same side of the split as the file that contains it."""
    from cadenza.codecs import Encoded, get_codec
    from cadenza.data import group_duplicates

    codec = get_codec("kern")
    a, b, c = (codec.encode(p)[0] for p in palestrina_paths[20:23])
    bars = a.text.split("@\n")
    tail = Encoded("tail", "@\n".join(bars[len(bars) // 2 :]), {})
    longer = Encoded("longer", b.text + a.text, {})
    groups = group_duplicates([a, b, c, tail, longer], codec)
    assert groups[0] == groups[3] == groups[4]
    assert groups[2] != groups[0]
