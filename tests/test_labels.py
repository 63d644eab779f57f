"""Conditioning labels (issue 14): read from each source a corpus carries, written as tokens that
open each piece and each training window, and asked for at generation time."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from cadenza import CadenzaError
from cadenza.codecs import get_codec
from cadenza.codecs.labels import label_prime, label_text, parse_kinds, split_labels, strip_labels
from cadenza.data.label_sources import composer_name, from_folder, from_kern, from_metadata, from_music21, from_tracks, period_of, read_labels
from conftest import shared


# Reading labels from each source


def test_labels_from_piano_midi_metadata_csv():
    root = shared("midi", "piano-midi")
    got = from_metadata(root / "Albeniz" / "alb_esp1.mid", root)
    assert got == {"composer": "Albeniz", "style": "romantic"}  # 1890 -> romantic
    assert from_metadata(root / "Chopin" / "chpn_op25_e1.mid", root)["composer"] == "Chopin"


def test_labels_from_kern_reference_records_before_cleaning():
    got = from_kern(shared("corpora", "bach-wtc", "wtc1f01.krn"))
    assert got["composer"] == "Bach" and got["style"] == "polyphony"  # !!!COM: Bach, Johann Sebastian; !!!AST: polyphony
    quartet = from_kern(shared("corpora", "haydn-string-quartets", "op01n0-01.krn"))
    assert quartet == {"composer": "Haydn", "instrument": "cello+viola+violin"}
    named = from_kern(shared("corpora", "mozart-string-quartets", "k080-01.krn"))  # *I:Violoncello ... *I:Violino I: names, no codes
    assert named["instrument"] == "cello+viola+violin"
    titled = from_kern(shared("corpora", "mozart-string-quartets", "k168-01.krn"))  # no *I at all; !!!OTL: String Quartet No. 8
    assert titled["instrument"] == "cello+viola+violin"


def test_kern_instrument_names_and_titles_without_codes(tmp_path):
    f = tmp_path / "x.krn"
    f.write_text('!!!OTL: Sonata\n**kern\t**kern\n*I"Violoncello\t*I"Pianoforte\n=1\t=1\n4c\t4c\n*-\t*-\n')
    assert from_kern(f)["instrument"] == "cello+piano"
    f.write_text("!!!OTL: Piano Sonata No. 3\n**kern\t**kern\n=1\t=1\n4c\t4c\n*-\t*-\n")
    assert from_kern(f)["instrument"] == "piano"
    f.write_text("!!!OTL: Sonata\n**kern\n*I:Zither\n=1\n4c\n*-\n")
    assert "instrument" not in from_kern(f)  # a name it does not know is not guessed


def test_labels_from_music21_corpus_and_folder_names(tmp_path):
    from music21 import corpus

    bach = Path(corpus.getComposer("bach")[0])
    assert from_music21(bach) == {"composer": "Bach"}
    assert from_music21(tmp_path / "x.mid") == {}
    (tmp_path / "Chopin").mkdir()
    f = tmp_path / "Chopin" / "x.mid"
    f.write_bytes(b"")
    assert from_folder(f, tmp_path) == {"composer": "Chopin"}
    assert from_folder(f, tmp_path / "Chopin") == {}  # the source folder itself names no composer


def test_labels_from_tracks_and_their_order_of_trust():
    root = shared("midi", "piano-midi")
    piece = get_codec("notewise", {"note_range": 88}).encode(root / "Chopin" / "chpn_op25_e1.mid")[0]
    assert from_tracks(piece.info) == {"instrument": "piano"}
    got = read_labels(root / "Chopin" / "chpn_op25_e1.mid", root, piece.info, ("composer", "style", "instrument"))
    assert got == {"composer": "Chopin", "style": "romantic", "instrument": "piano"}
    assert read_labels(root / "Chopin" / "chpn_op25_e1.mid", root, piece.info, ("instrument",)) == {"instrument": "piano"}


def test_small_helpers():
    assert composer_name("Mozart, Wolfgang Amadeus") == "Mozart" and composer_name("Frederic Chopin") == "Chopin"
    assert period_of(1720) == "baroque" and period_of("1805") == "classical" and period_of("n/a") is None
    assert parse_kinds("style, composer") == ("composer", "style")
    with pytest.raises(CadenzaError, match="choose among composer, style, instrument"):
        parse_kinds("composer,genre")


# Label text, both units


@pytest.mark.parametrize("unit", ["word", "char"])
def test_label_text_round_trips(unit):
    labels = {"composer": "Chopin", "instrument": "violin+piano", "style": "late romantic"}
    head = label_text(labels, unit)
    body = "wait1 p20" if unit == "word" else "*M3/4\n@\n"
    got, rest = split_labels(head + body, unit)
    assert got == {"composer": "Chopin", "style": "late_romantic", "instrument": "violin+piano"}
    assert rest == body and strip_labels(body, unit) == body
    assert label_text({}, unit) == ""


def test_notewise_decoding_leaves_labels_out():
    codec = get_codec("notewise")
    plain = codec.decode("p20 wait4 endp20", {})
    labelled = codec.decode("<composer:Chopin> p20 wait4 endp20", {})
    assert labelled.stats == plain.stats and labelled.stats["dropped"] == 0
    cw = get_codec("chordwise")
    assert cw.steps(["<composer:Chopin>", "p" + "1" * 62]) == [0, 1]


# prepare --condition, windows, the prime


@pytest.fixture(scope="module")
def conditioned(tmp_path_factory) -> Path:
    """Three composers of piano-midi.de (a few pieces each), notewise, labelled by composer and
    instrument."""
    root = shared("midi", "piano-midi")
    src = tmp_path_factory.mktemp("pm") / "piano-midi"
    for composer, n in (("Chopin", 5), ("Bach", 3), ("Ravel", 1)):
        (src / composer).mkdir(parents=True)
        for f in sorted((root / composer).glob("*.mid"))[:n]:
            shutil.copy(f, src / composer / f.name)
    shutil.copy(root / "metadata.csv", src / "metadata.csv")
    from cadenza.data.prepare import prepare

    out = tmp_path_factory.mktemp("ds") / "cond"
    rep = prepare([src], out, "notewise", {"note_range": 88, "steps_per_quarter": 4}, workers=1, seed=0, val_fraction=0.2, test_fraction=0.0,
                  condition="composer,instrument", label_min_pieces=2)
    assert rep.labels["composer"] == {"Bach": 3, "Chopin": 5}  # Ravel's one piece is left out
    return out


def test_prepare_condition_opens_pieces_and_windows_with_labels(conditioned):
    manifest = json.loads((conditioned / "manifest.json").read_text())
    vocab = json.loads((conditioned / "vocab.json").read_text())
    assert manifest["labels"]["kinds"] == ["composer", "instrument"]
    assert set(manifest["context"]["labels"]["composer"]) <= {"Bach", "Chopin"}
    rows = [json.loads(x) for x in (conditioned / "pieces.jsonl").read_text().splitlines()]
    text = (conditioned / "train.txt").read_text().split("\n")
    train = [r for r in rows if r["split"] == "train"]
    for line, r in zip(text, train):
        assert split_labels(line, "word")[0] == r["labels"]
        assert len(line.split()) == r["tokens"]
    ravel = [r for r in rows if "/Ravel/" in r["source"]]
    assert ravel and "composer" not in ravel[0]["labels"] and ravel[0]["labels"]["instrument"] == "piano"

    from cadenza.training.data import Stream

    s = Stream.load(conditioned, "train", "word", vocab)
    ids = np.asarray(s.ids)
    starts = np.cumsum([0] + [r["tokens"] for r in train])
    # a window from the middle of each piece is told that piece's labels, and the seam is not scored
    for r, a in zip(train, starts):
        mid = int(a + r["tokens"] // 2)
        pre = s.prefix_at(mid, 16)
        assert [vocab[i] for i in pre] == label_text(r["labels"], "word").split()
    x, y = s._prefixed(int(starts[0]) + 50, 32)
    n = len(label_text(train[0]["labels"], "word").split())
    assert [vocab[i] for i in x[:n]] == label_text(train[0]["labels"], "word").split()
    assert y[n - 1] == -100 and torch.equal(x[n:], torch.from_numpy(ids[int(starts[0]) + 50 : int(starts[0]) + 50 + 32 - n].astype(np.int64)))
    # windows inside the labels themselves get no prefix
    assert len(s.prefix_at(int(starts[1]) + 1, 16)) == 0


def test_label_prime_and_unknown_labels(conditioned):
    manifest = json.loads((conditioned / "manifest.json").read_text())
    vocab = json.loads((conditioned / "vocab.json").read_text())
    ctx = manifest["context"]
    known = ctx["labels"]["composer"]
    assert label_prime(ctx, vocab, composer=known[0].lower()) == f"<composer:{known[0]}> "
    assert label_prime(ctx, vocab) == ""
    with pytest.raises(CadenzaError, match=f"unknown composer; this model knows {', '.join(known)}"):
        label_prime(ctx, vocab, composer="Liszt")
    with pytest.raises(CadenzaError, match="not trained with style labels"):
        label_prime(ctx, vocab, style="romantic")
    with pytest.raises(CadenzaError, match="not trained with composer labels"):
        label_prime({}, vocab, composer="Chopin")


def test_kern_condition_from_reference_records(tmp_path):
    from cadenza.data.prepare import prepare

    files = sorted(shared("corpora", "chopin-preludes").glob("*.krn"))[:4] + sorted(shared("corpora", "joplin").glob("*.krn"))[:4]
    out = tmp_path / "kern"
    prepare(files, out, "kern", {"spines": 2}, workers=1, seed=0, condition="composer")
    text = (out / "train.txt").read_text()
    assert text.startswith("!!!COM: ") and set(json.loads((out / "manifest.json").read_text())["context"]["labels"]["composer"]) <= {"Chopin", "Joplin"}
    z = np.load(out / "train.prefix.npz")
    vocab = json.loads((out / "vocab.json").read_text())
    # every prefix after a piece's opening starts with its composer, then the header in force
    prefixes = ["".join(vocab[i] for i in z["ids"][a:b]) for a, b in zip(z["start"][:-1], z["start"][1:])]
    headed = [p for p in prefixes if "*M" in p]
    assert headed and all(p.startswith("!!!COM: ") for p in headed)
    vocab = json.loads((out / "vocab.json").read_text())
    prime = label_prime(json.loads((out / "manifest.json").read_text())["context"], vocab, composer="joplin", unit="char")
    assert prime == "!!!COM: Joplin\n"
    decoded = get_codec("kern").decode(prime + "*M2/4\t*M2/4\n@\n4c\t4e\n4d\t4f\n@\n", {"spines": 2})
    assert "Joplin" not in decoded.score and "*M2/4" in decoded.score
