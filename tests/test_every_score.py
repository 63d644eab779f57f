"""Issue #20's corpus: every score Cadenza reads in one kern dataset, each piece in its own layout,
duplicates found by their music, labels from what the files and folders say."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cadenza import CadenzaError
from cadenza.codecs import get_codec
from cadenza.codecs.kern.fingerprint import melody_passages, top_line
from cadenza.data.split import group_duplicates
from cadenza.music import Note, Piece, Track, parse_kern, write_midi
from cadenza.music.metre_key import Metre
from conftest import shared

TUNE_BOOK = """X:1
T:First tune
M:3/4
L:1/8
K:G
G2 B2 d2 | g4 fe | d2 B2 G2 | A6 |]

X:2
T:Second tune
M:4/4
L:1/4
K:D
D F A d | c B A2 | G E C E | D4 |]
"""


def _melody(start: int = 60) -> Track:
    return Track("Flute", 73, [Note(i * 1.0, start + (0, 2, 4, 5, 7, 9, 7, 5)[i % 8], 1.0) for i in range(16)])


def _chords() -> Track:
    return Track("Piano", 0, [Note(float(q), p, 2.0) for q in range(0, 16, 2) for p in (48, 55, 64, 67)])


def test_scores_are_written_in_their_own_layout(tmp_path):
    codec = get_codec("kern", {"layouts": "all"})
    cases = {"melody": ([_melody()], 1), "piano": ([_chords()], 2), "quartet": ([_melody(72), _melody(64), _melody(55), _melody(43)], 4)}
    for name, (tracks, staves) in cases.items():
        path = write_midi(Piece(tracks, name=name), tmp_path / f"{name}.mid")
        [enc] = codec.encode(path)
        assert enc.info["header"]["spines"] == staves, name
        decoded = codec.decode(enc.text, {"header": enc.info["header"]})
        score = parse_kern(decoded.score)
        assert len(score.parts) == staves
        want = sum(len(t.notes) for t in tracks)
        assert len(score.flatten().notes.stream().pitches) == want, name  # every note, chords counted by member
    # the dataset's own count when it keeps one layout
    [two] = get_codec("kern", {"spines": 2}).encode(tmp_path / "melody.mid")
    assert two.info["header"]["spines"] == 2


def test_an_abc_tune_book_gives_one_piece_per_tune(tmp_path):
    path = tmp_path / "book.abc"
    path.write_text(TUNE_BOOK)
    pieces = get_codec("kern", {"layouts": "all"}).encode(path)
    assert [p.name for p in pieces] == ["book-1", "book-2"]
    assert [p.info["header"]["meter"] for p in pieces] == ["*M3/4", "*M4/4"]
    assert all(p.info["header"]["spines"] == 1 for p in pieces)
    assert top_line(pieces[0].text)[:3] == [67, 71, 74]  # G B d
    bad = tmp_path / "bad.abc"
    bad.write_text("this is not ABC at all\n")
    with pytest.raises(CadenzaError, match="bad.abc"):
        get_codec("kern").encode(bad)
    bad.write_text("X:1\nT:letters that music21 reads as notes\nabc def gab\n")  # no K: field: not a tune
    with pytest.raises(CadenzaError, match=r"bad.abc: not ABC notation \(no K: key field"):
        get_codec("kern").encode(bad)


def test_the_top_line_is_the_same_in_any_key_and_spelling():
    codec = get_codec("kern")
    enc = codec.encode_text("**kern\t**kern\n*clefF4\t*clefG2\n*k[]\t*k[]\n*M4/4\t*M4/4\n=1\t=1\n4C\t4e 4g\n4D\t4f\n4E\t4g\n4F\t4a\n=2\t=2\n"
                            "4G\t4b\n4A\t4cc\n4B\t4dd\n4c\t4ee\n=3\t=3\n2G\t2dd\n2C\t2cc\n==\t==\n*-\t*-\n")
    up = codec.transpose(enc, 3)
    assert melody_passages(enc.text, 4) == melody_passages(up.text, 4) != []
    assert top_line(enc.text)[0] == 67 and top_line(up.text)[0] == 70
    respelt = enc.text.replace("4f\n", "4e#\n")  # E sharp is F: the same music
    assert melody_passages(respelt, 4) == melody_passages(enc.text, 4)


def test_editions_of_one_chorale_are_grouped_though_they_share_no_text():
    from music21 import corpus

    kern_path = shared("corpora", "bach-370-chorales", "chor001.krn")  # BWV 269
    codec = get_codec("kern", {"layouts": "all"})
    [humdrum] = codec.encode(kern_path)
    [musicxml] = codec.encode(Path(corpus.getWork("bwv269")))
    other = codec.encode(Path(corpus.getWork("bwv1.6")))[0]
    assert humdrum.text != musicxml.text
    groups = group_duplicates([humdrum, musicxml, other], codec)
    assert groups[0] == groups[1] != groups[2]


def test_a_dataset_of_every_layout(tmp_path, palestrina_paths):
    from cadenza.codecs.kern.conditioning import condition
    from cadenza.data import load_manifest, prepare

    src = tmp_path / "src"
    (src / "tunes").mkdir(parents=True)
    (src / "tunes" / "book.abc").write_text(TUNE_BOOK)
    for i in range(3):
        write_midi(Piece([_chords(), _melody(72 + i)], name=f"p{i}"), src / f"piano{i}.mid")
    files = [str(p) for p in palestrina_paths[:6]] + [str(src)]
    rep = prepare(files, tmp_path / "ds", "kern", {"layouts": "all"}, workers=1, seed=0, condition="composer", val_fraction=0.0, test_fraction=0.0)
    m = load_manifest(tmp_path / "ds")
    assert not [s for s in m["sources"] if "spines" in s["reason"]]  # no piece left out for its layout
    spines = {len(k.split("\t")) for k in rep.layouts}
    assert {1, 2}.issubset(spines) and max(spines) >= 4, rep.layouts
    assert rep.by_source[str(src)]["pieces"] == 5 and sum(r["pieces"] for r in rep.by_source.values()) == sum(rep.pieces.values())
    config = json.loads((tmp_path / "ds" / "manifest.json").read_text())
    ctx = config["context"]
    vocab = json.loads((tmp_path / "ds" / "vocab.json").read_text())
    vocab = vocab if isinstance(vocab, list) else vocab.get("tokens", vocab)
    _, pal, _ = condition(ctx, vocab, None, None, seed=1, labels={"composer": "palestrina"})
    assert pal["header"]["spines"] >= 4 and pal["header"]["clefs"][0].startswith("*clef")
    _, tune, info = condition(ctx, vocab, "3/4", None, seed=1, labels={"composer": "palestrina"})
    assert info["metre"] == "3/4"
    # every opening row names its staves; unknown labels fall back to every opening
    assert all(len(o) == 6 for o in ctx["openings"])
    _, anyone, _ = condition(ctx, vocab, None, None, seed=2, labels={"composer": "Nobody"})
    assert anyone["header"]["spines"] in spines
    # the corpus report, read back from what prepare wrote
    report = (tmp_path / "ds" / "report.md").read_text()
    assert "| Palestrina | 6 |" in report and "## Layouts" in report
    for layout, n in rep.layouts.items():
        assert f"| {len(layout.split(chr(9)))} | {' '.join(c.replace('*clef', '') for c in layout.split(chr(9)))} | {n:,} |" in report
    assert f"| `{src}` | 5 |" in report


def test_layouts_option_is_checked():
    with pytest.raises(CadenzaError, match="--layouts"):
        get_codec("kern", {"layouts": "some"})


def test_labels_from_folders_collections_and_composers(tmp_path):
    from cadenza.data.label_sources import read_labels

    root = tmp_path / "piano-midi"
    (root / "Chopin").mkdir(parents=True)
    f = root / "Chopin" / "a.mid"
    f.write_bytes(b"")
    (root / "metadata.csv").write_text("composer,title,year,midi\nChopin,Prelude,1839,Chopin/a.mid\n")
    # the source folder given by name, metadata.csv one level above it
    got = read_labels(f, root / "Chopin", {}, ("composer", "style"), named=True)
    assert got == {"composer": "Chopin", "style": "romantic"}
    (root / "metadata.csv").unlink()
    from cadenza.data import label_sources as labels_module

    labels_module._metadata.cache_clear()
    assert read_labels(f, root / "Chopin", {}, ("composer", "style"), named=True) == {"composer": "Chopin", "style": "romantic"}  # period of the composer
    assert read_labels(f, root / "Chopin", {}, ("composer",), named=False) == {}
    described = tmp_path / "mozart-piano-sonatas" / "x.mid"
    described.parent.mkdir()
    described.write_bytes(b"")
    assert read_labels(described, described.parent, {}, ("composer",), named=True) == {}  # a description, not a name
    folk = tmp_path / "nottingham-folk" / "MIDI" / "reel.mid"
    folk.parent.mkdir(parents=True)
    folk.write_bytes(b"")
    assert read_labels(folk, tmp_path / "nottingham-folk", {}, ("composer", "style"), named=True) == {"style": "folk"}


def test_hold_out_keeps_another_datasets_test_pieces_held_out(tmp_path, palestrina_paths):
    from cadenza.data import load_pieces, prepare

    files = [str(p) for p in palestrina_paths[:30]]
    prepare(files[:15], tmp_path / "small", "kern", {"spines": 4}, workers=1, seed=7)
    small = {str(Path(r["source"]).resolve()): r["split"] for r in load_pieces(tmp_path / "small")}
    held = {k for k, v in small.items() if v != "train"}
    assert held
    prepare(files, tmp_path / "big", "kern", {"spines": 4}, workers=1, seed=3, hold_out=[tmp_path / "small"])
    big = {str(Path(r["source"]).resolve()): r["split"] for r in load_pieces(tmp_path / "big")}
    assert all(big[k] != "train" for k in held if k in big)
    assert all(big[k] == "test" for k, v in small.items() if v == "test" and k in big)
    with pytest.raises(CadenzaError, match="--hold-out"):
        prepare(files[:3], tmp_path / "x", "kern", {"spines": 4}, workers=1, hold_out=[tmp_path / "nowhere"])


def test_a_tune_book_with_a_duplicate_tune_is_still_used(tmp_path):
    from cadenza.data import load_manifest, prepare

    (tmp_path / "a.abc").write_text(TUNE_BOOK)
    (tmp_path / "b.abc").write_text(TUNE_BOOK.split("\nX:2")[0] + "\n\nX:3\nT:Third\nM:2/4\nL:1/8\nK:C\nc2 e2 | g4 | e2 c2 | C4 |]\n")
    prepare([tmp_path / "a.abc", tmp_path / "b.abc"], tmp_path / "ds", "kern", {"layouts": "all"}, workers=1, val_fraction=0, test_fraction=0)
    by_name = {Path(s["path"]).name: s for s in load_manifest(tmp_path / "ds")["sources"]}
    assert by_name["b.abc"]["status"] == "used" and by_name["b.abc"]["duplicates"] == [f"b-1: duplicate of {tmp_path / 'a.abc'}#a-1"]


def test_a_tune_with_a_pickup_opens_in_its_own_metre(tmp_path):
    """ABC and MIDI conversions write an anacrusis as a short bar in a metre of its own (*M1/8);
    a sample asked for a folk tune must open in the tune's metre (6/8), not the pickup's."""
    from cadenza.codecs.kern.conditioning import condition, main_meter
    from cadenza.data import prepare

    book = tmp_path / "jigs.abc"
    book.write_text("X:1\nT:Jig\nM:6/8\nL:1/8\nK:D\nA | d2 f a2 f | g2 e c2 A | d2 f a2 f | e3 d2 |]\n\n"
                    "X:2\nT:Jig two\nM:6/8\nL:1/8\nK:G\nD | G2 B d2 B | c2 A F2 D | G2 B d2 g | f3 g2 |]\n")
    [enc, _] = get_codec("kern", {"layouts": "all"}).encode(book)
    assert enc.info["header"]["meter"] == "*M1/8" and main_meter(enc.text) == "*M6/8"
    prepare([book], tmp_path / "ds", "kern", {"layouts": "all"}, workers=1, val_fraction=0, test_fraction=0, condition="style")
    m = json.loads((tmp_path / "ds" / "manifest.json").read_text())
    assert {o[0] for o in m["context"]["openings"]} == {"*M6/8"}
    _, ctx, info = condition(m["context"], json.loads((tmp_path / "ds" / "vocab.json").read_text()), None, None, seed=0)
    assert info["metre"] == "6/8" and ctx["metre"] == Metre(6, 8)
