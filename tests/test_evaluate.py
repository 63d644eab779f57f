"""Evaluation: every metric on hand-made pieces with known answers, and whole reports on tiny runs."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import numpy as np
import pytest
import torch

from cadenza.music.humdrum.to_piece import kern_to_piece
from cadenza.evaluation import evaluate
from cadenza.evaluation.features import (
    LENGTH_CLASSES,
    best_scale,
    consonance,
    interval_class_counts,
    empty_beat_rate,
    groove_consistency,
    ioi_histogram,
    note_length_histogram,
    pitch_class_entropy,
    pitch_class_histogram,
    pitch_range,
    polyphony,
    scale_consistency,
)
from cadenza.evaluation.likelihood import token_nats
from cadenza.evaluation.memorisation import memorisation
from cadenza.evaluation.pieces import seconds
from cadenza.evaluation.similarity import overlap_kl
from cadenza.evaluation.training_index import TrainingIndex, onset_tokens
from cadenza.evaluation.validity import kern_validity
from cadenza.music import Note, Piece, Track, write_midi

CLASS = {name: i for i, (name, _) in enumerate(LENGTH_CLASSES)}


def piece(*notes: tuple[float, int, float], sig: tuple[int, int] = (4, 4), tempo: float = 120.0) -> Piece:
    return Piece([Track("Piano", 0, [Note(s, p, d) for s, p, d in notes])], tempos=[(0.0, tempo)], time_signatures=[(0.0, *sig)])


def c_major_scale() -> Piece:
    return piece(*[(float(i), p, 1.0) for i, p in enumerate((60, 62, 64, 65, 67, 69, 71))])


# --------------------------------------------------------------------------------------------
# Musical features


def test_c_major_scale_statistics() -> None:
    p = c_major_scale()
    assert scale_consistency(p) == 1.0
    assert best_scale(p)[0] == "C major"
    assert pitch_class_entropy(p) == pytest.approx(math.log2(7))
    assert pitch_class_histogram(p)[[0, 2, 4, 5, 7, 9, 11]] == pytest.approx([1 / 7] * 7)
    assert pitch_range(p) == 11
    assert polyphony(p) == 1.0
    assert note_length_histogram(p)[CLASS["1/4"]] == 1.0
    assert ioi_histogram(p)[CLASS["1/4"]] == 1.0
    assert empty_beat_rate(p) == 0.0
    # bar 1 has onsets on all four beats, bar 2 on three: one grid step of 48 differs
    assert groove_consistency(p) == pytest.approx(1 - 1 / 48)
    assert seconds(p) == pytest.approx(3.5)  # 7 quarters at 120 qpm


def test_chromatic_notes_lower_scale_consistency() -> None:
    p = piece(*[(float(i), 60 + i, 1.0) for i in range(12)])  # all 12 pitch classes once
    assert scale_consistency(p) == pytest.approx(7 / 12)
    assert pitch_class_entropy(p) == pytest.approx(math.log2(12))


def test_consonance_of_triad_second_and_fourths() -> None:
    assert consonance(piece((0, 60, 1), (0, 64, 1), (0, 67, 1))) == 1.0  # C major triad
    assert consonance(piece((0, 60, 1), (0, 61, 1))) == 0.0  # minor second
    assert consonance(piece((0, 60, 2), (0, 74, 2))) == 0.0  # a major ninth is a second
    # a fourth above the bass is dissonant, between upper voices consonant (C3 G4 C5)
    assert consonance(piece((0, 67, 1), (0, 72, 1))) == 0.0
    assert consonance(piece((0, 48, 1), (0, 67, 1), (0, 72, 1))) == 1.0
    assert consonance(piece((0, 48, 1), (0, 67, 1), (0, 72, 1)), fourth_upper=False) == pytest.approx(2 / 3)
    # a held note makes intervals with each new note once: C held, E then F# above it
    assert consonance(piece((0, 60, 2), (0, 64, 1), (1, 66, 1))) == pytest.approx(1 / 2)
    assert math.isnan(consonance(c_major_scale()))  # never two notes at once
    # which intervals: the triad has a major third, a fifth and a minor third; a held C under E
    # then F# a major third and an augmented fourth (classes mod 12)
    assert interval_class_counts(piece((0, 60, 1), (0, 64, 1), (0, 67, 1))).tolist() == [0, 0, 0, 1, 1, 0, 0, 1, 0, 0, 0, 0]
    assert interval_class_counts(piece((0, 60, 2), (0, 64, 1), (1, 66, 1)))[[4, 6]].tolist() == [1, 1]


def test_polyphony_empty_beats_and_groove() -> None:
    assert polyphony(piece((0, 60, 1), (0, 64, 1), (0, 67, 1))) == 3.0
    assert polyphony(piece((0, 48, 4), (0, 60, 1), (1, 62, 1))) == 2.0  # bass held under two notes
    assert empty_beat_rate(piece((0, 60, 1), (3, 62, 1))) == 0.5  # beats 2 and 3 silent
    assert empty_beat_rate(piece((0, 60, 2), (3, 62, 1), sig=(2, 2))) == 0.0  # half-note beats
    same = piece(*[(b * 4 + x, 60, 0.5) for b in range(4) for x in (0, 1.5, 2)])
    assert groove_consistency(same) == 1.0
    eighths = piece(*[(x * 0.5, 60, 0.5) for x in range(8)], *[(4 + x * 0.5, 60, 0.5) for x in range(0, 8, 2)])
    assert note_length_histogram(eighths)[CLASS["1/8"]] == 1.0
    assert groove_consistency(eighths) == pytest.approx(1 - 4 / 48)


def test_overlap_area_and_kl() -> None:
    rng = np.random.default_rng(0)
    a = rng.normal(0, 1, 400)
    oa, kl, _ = overlap_kl(a, rng.normal(0, 1, 400))
    assert oa > 0.85 and kl < 0.1
    oa_far, kl_far, _ = overlap_kl(a, rng.normal(6, 1, 400))
    assert oa_far < 0.05 and kl_far > 5
    oa1, _, _ = overlap_kl(np.array([1.0]), np.array([1.0, 1.0]))  # degenerate sets still compare
    assert oa1 == pytest.approx(1.0, abs=1e-3)


# --------------------------------------------------------------------------------------------
# Memorisation


def random_piece(seed: int, onsets: int = 120, chords: bool = True) -> Piece:
    rng = random.Random(seed)
    notes, t, p = [], 0.0, 60
    for _ in range(onsets):
        p = min(84, max(40, p + rng.choice([-5, -3, -2, -1, 1, 2, 3, 4, 7])))
        d = rng.choice([0.5, 1.0, 1.0, 1.5, 2.0])
        notes.append((t, p, d))
        if chords and rng.random() < 0.3:
            notes.append((t, p - rng.choice([3, 4, 7, 12]), d))
        t += d
    return piece(*notes)


@pytest.fixture(scope="module")
def training() -> tuple[list[Piece], TrainingIndex]:
    pieces = [random_piece(s) for s in range(6)]
    for i, p in enumerate(pieces):
        p.name = f"piece{i}"
    return pieces, TrainingIndex(pieces)


def test_copied_and_transposed_pieces_are_memorised_in_full(training) -> None:
    pieces, index = training
    original = pieces[3]
    n_notes = len(original.notes)
    for copy in (original, original.transpose(5), original.transpose(-7)):
        m = memorisation(copy, index)
        assert m["longest_notes"] == n_notes
        assert m["longest_onsets"] == m["onsets"]
        assert m["window_share"] == 1.0 and m["windows"] > 10
        times = onset_tokens(copy)[1]
        assert m["longest_bars"] == pytest.approx((times[-1] - times[0]) / 4, abs=0.01)
        assert (m["source"], m["source_at"]) == ("piece3", 0.0)


def test_a_new_random_piece_has_only_short_matches(training) -> None:
    _, index = training
    m = memorisation(random_piece(99), index)
    assert m["longest_onsets"] <= 5
    assert m["window_share"] == 0.0


def test_a_quoted_passage_is_found_at_its_length(training) -> None:
    pieces, index = training
    src = sorted(pieces[1].notes)
    quote = [n for n in src if 20.0 <= n.start < 60.0]  # 40 quarters of piece 1
    onsets = len({n.start for n in quote})
    before = [(n.start, n.pitch, n.duration) for n in random_piece(7, 20, chords=False).notes]
    shift = 100.0 - quote[0].start
    notes = before + [(n.start + shift, n.pitch + 2, n.duration) for n in quote]
    m = memorisation(piece(*notes), index)
    assert onsets <= m["longest_onsets"] <= onsets + 2
    assert m["longest_notes"] >= len(quote)
    assert (m["source"], m["longest_at"]) == ("piece1", 100.0) and 20.0 <= m["source_at"] < 21.0


def test_match_lengths_equal_brute_force() -> None:
    """Monophonic lines over a tiny alphabet give matches of every length, shorter and longer
    than the index's 8-token keys."""
    rng = random.Random(5)

    def line(n: int) -> Piece:
        t, p, notes = 0.0, 60, []
        for _ in range(n):
            notes.append((t, p, 1.0))
            t += rng.choice([1.0, 2.0])
            p += rng.choice([-1, 0, 1])
        return piece(*notes)

    train = [line(60) for _ in range(5)]
    index = TrainingIndex(train)
    seqs = [onset_tokens(p)[0] for p in train]
    query = onset_tokens(line(80))[0]
    query = query[:30] + seqs[2][5:25] + query[30:]  # a 20-token quote

    def occurs(sub: list) -> bool:
        return any(s[i : i + len(sub)] == sub for s in seqs for i in range(len(s) - len(sub) + 1))

    want = []
    for i in range(len(query)):
        n = 0
        while i + n < len(query) and occurs(query[i : i + n + 1]):
            n += 1
        want.append(n)
    got = index.match_lengths(query).tolist()
    assert got == want
    assert max(got) >= 20


# --------------------------------------------------------------------------------------------
# Kern: validity and reading


WRONG_BAR = """**kern\t**kern
*M4/4\t*M4/4
=1-\t=1-
4c\t4e
4d\t4f
2e\t2g
=2\t=2
4c\t4e
4d\t4f
2e\t2g
4f\t4a
=3\t=3
1c\t1e
==\t==
*-\t*-
"""


def test_a_wrong_bar_fails_validity() -> None:
    v = kern_validity(WRONG_BAR)
    assert v["parsed"] and v["bars"] == 3 and v["bars_ok"] == 2 and v["bad_bars"] == ["2"]
    good = kern_validity(WRONG_BAR.replace("4f\t4a\n", ""))
    assert good["bars_ok"] == 3 and good["bad_bars"] == []
    # a voice short in the middle of the piece is wrong too
    short = kern_validity(WRONG_BAR.replace("4f\t4a\n", "").replace("4d\t4f\n2e\t2g\n=3", "4d\t4f\n2e\t4g\n=3", 1))
    assert short["bad_bars"] == ["2"]
    broken = kern_validity("**kern\n*M4/4\n=1\n4c\t4d\n*-\n")  # two columns, one spine
    assert not broken["parsed"] and broken["error"] and broken["score"] is None


def test_a_pickup_bar_is_valid_and_kept_as_a_short_bar() -> None:
    from cadenza.music.m21 import parse_kern, score_to_piece

    text = "**kern\t**kern\n*M3/4\t*M3/4\n4c\t4e\n=1\t=1\n2.d\t2.f\n=2\t=2\n2e\t2g\n==\t==\n*-\t*-\n"
    v = kern_validity(text)
    assert v["parsed"] and v["bars_ok"] == v["bars"] == 3
    fast, slow = kern_to_piece(text), score_to_piece(parse_kern(text))
    assert fast.time_signatures == slow.time_signatures == [(0.0, 1, 4), (1.0, 3, 4)]
    assert fast.notes == slow.notes


def test_fast_kern_reader_agrees_with_music21(palestrina_paths) -> None:
    from cadenza.codecs.kern import Header, KernCodec, restore
    from cadenza.music.m21 import parse_kern, score_to_piece

    enc = KernCodec().encode(palestrina_paths[0])[0]
    kern, _ = restore(enc.text, Header.from_dict(enc.info["header"]))
    fast, slow = kern_to_piece(kern), score_to_piece(parse_kern(kern))
    assert onset_tokens(fast)[0] == onset_tokens(slow)[0]
    assert sorted((n.start, n.pitch, n.duration) for n in fast.notes) == sorted((n.start, n.pitch, n.duration) for n in slow.notes)
    # ties merge, spine splits are followed, grace notes take no time
    split = "**kern\n*M2/4\n=1\n[4c\n4c]\n=2\n*^\n4e\t4g\n.\tcq\n4f\t4a\n*v\t*v\n=3\n2c\n*-\n"
    notes = sorted((n.start, n.pitch, n.duration) for n in kern_to_piece(split).notes)
    assert notes == [(0.0, 60, 2.0), (2.0, 64, 1.0), (2.0, 67, 1.0), (3.0, 65, 1.0), (3.0, 69, 1.0), (4.0, 60, 2.0)]


# --------------------------------------------------------------------------------------------
# Likelihood


def test_token_nats_match_a_direct_forward_pass() -> None:
    from torch.nn import functional as F

    from cadenza.models import ModelConfig, build_model

    torch.manual_seed(0)
    seq = torch.randint(0, 20, (300,)).tolist()
    lstm = build_model(ModelConfig("lstm", 20, 16, 1)).eval()
    (nats,) = token_nats(lstm, [seq], chunk=64)
    logits, _ = lstm(torch.tensor(seq)[None])
    want = F.cross_entropy(logits[0, :-1], torch.tensor(seq[1:]), reduction="none").detach().numpy()
    assert nats == pytest.approx(want, abs=1e-4)
    gpt = build_model(ModelConfig("transformer", 20, 16, 1, n_head=2, block_size=64)).eval()
    short = seq[:50]
    (nats,) = token_nats(gpt, [short])
    logits, _ = gpt(torch.tensor(short)[None])
    want = F.cross_entropy(logits[0, :-1], torch.tensor(short[1:]), reduction="none").detach().numpy()
    assert nats == pytest.approx(want, abs=1e-4)
    (long_nats,) = token_nats(gpt, [seq])  # longer than the block: sliding windows
    assert long_nats.shape == (299,) and np.all(long_nats > 0)
    assert long_nats[:63] == pytest.approx(token_nats(gpt, [seq[:64]])[0], abs=1e-4)


# --------------------------------------------------------------------------------------------
# Whole reports


@pytest.fixture(scope="module")
def kern_run(tmp_path_factory, palestrina_dataset) -> Path:
    from cadenza.training import train, TrainConfig

    run = tmp_path_factory.mktemp("eval") / "run"
    train(palestrina_dataset, run, TrainConfig(rnn_size=32, num_layers=1, max_steps=60, eval_every=30, eval_batches=2, batch_size=8, seq_length=40, threads=1))
    return run


def _heldout_nats(run: Path, dataset: Path) -> tuple[float, int, int]:
    """(nats, tokens, pieces) of the test split, computed here with one plain forward pass per
    piece: each piece's characters after the "\n" that separates pieces in training."""
    from torch.nn import functional as F

    from cadenza.evaluation.heldout import split_pieces
    from cadenza.training import load_run

    model, config = load_run(run)
    stoi = {t: i for i, t in enumerate(config["vocab"])}
    texts = [text for text, _ in split_pieces(dataset, "test", "char")]
    nats, tokens = 0.0, 0
    with torch.no_grad():
        for text in texts:
            ids = torch.tensor([stoi["\n"]] + [stoi[c] for c in text if c in stoi])
            logits, _ = model.eval()(ids[None])
            nats += F.cross_entropy(logits[0, :-1], ids[1:], reduction="sum").item()
            tokens += len(ids) - 1
    return nats, tokens, len(texts)


def test_report_builds_for_a_kern_run(kern_run, palestrina_dataset, tmp_path) -> None:
    out = tmp_path / "report"
    stages = set()
    r = evaluate(kern_run, out, n_samples=4, bars=4, seed=1, progress=lambda stage, done, total: stages.add(stage))
    for name in ("report.json", "report.md", "report.html", "loss.png", "histograms.png", "memorisation.png"):
        assert (out / name).exists(), name
    assert {"likelihood", "sampling", "checking samples", "report"} <= stages
    assert json.loads((out / "report.json").read_text()) == r
    lk = r["likelihood"]
    assert lk["pieces"] >= 1 and lk["tokens"] > 100 and lk["notes"] > 10
    nats, tokens, pieces = _heldout_nats(kern_run, palestrina_dataset)
    assert (lk["pieces"], lk["tokens"]) == (pieces, tokens) and lk["nats"] == pytest.approx(nats, rel=1e-4)
    assert lk["bits_per_token"] == pytest.approx(nats / tokens / math.log(2), rel=1e-4)
    assert lk["bits_per_note"] == pytest.approx(nats / lk["notes"] / math.log(2), rel=1e-4)  # every Palestrina piece reads, so all the nats count
    assert lk["bits_per_second"] > 0
    va = r["validity"]
    assert va["samples"] == 4 and len(va["per_sample"]) == 4 and 0 <= va["parsed_share"] <= 1
    assert va["reference"]["bar_share"] > 0.9  # Palestrina's bars are right
    st = r["statistics"]
    assert set(st["features"]) >= {"pitch_class_histogram", "scale_consistency", "groove_consistency", "consonance"}
    iv = st["interval_classes"]
    assert len(iv["names"]) == 12 and sum(iv["reference"]) == pytest.approx(1.0) and "Vertical intervals, every pair" in (out / "report.md").read_text()
    assert r["headline"]["mean_overlap_area"] is None or 0 <= r["headline"]["mean_overlap_area"] <= 1
    mem = r["memorisation"]
    assert mem["training_pieces"] >= 1 and len(mem["baseline"]) == lk["pieces"] and len(mem["samples"]) <= 4
    html = (out / "report.html").read_text()
    assert html.count("data:image/png;base64,") >= 3
    md = (out / "report.md").read_text()
    for section in ("## Summary", "## Run", "## Likelihood", "## Validity", "## Musical statistics", "## Memorisation", "nats/note = total nats"):
        assert section in md
    assert (out / "samples" / "sample-01.krn").exists()


def test_a_run_without_its_dataset_still_gets_a_report(kern_run, tmp_path) -> None:
    import shutil

    run = tmp_path / "moved"
    shutil.copytree(kern_run, run)
    cfg = json.loads((run / "config.json").read_text())
    cfg["dataset"] = str(tmp_path / "gone")
    (run / "config.json").write_text(json.dumps(cfg))
    r = evaluate(run, tmp_path / "report", n_samples=2, bars=2)
    assert r["likelihood"] is None and r["memorisation"] is None
    assert r["validity"]["samples"] == 2 and any("not found" in w for w in r["warnings"])
    assert "## Memorisation" in (tmp_path / "report" / "report.md").read_text()


def test_report_builds_for_a_notewise_run(tmp_path) -> None:
    from cadenza.data.prepare import prepare
    from cadenza.training import train, TrainConfig

    src = tmp_path / "midi"
    src.mkdir()
    for i in range(8):
        p = random_piece(100 + i, onsets=60)
        p.tempos = [(0.0, 90.0 + 10 * i)]
        write_midi(p, src / f"piece{i}.mid")
    ds, run = tmp_path / "ds", tmp_path / "run"
    prepare([src], ds, "notewise", {"steps_per_quarter": 4}, workers=1)
    train(ds, run, TrainConfig(rnn_size=32, num_layers=1, max_steps=20, eval_every=20, eval_batches=2, batch_size=8, seq_length=40, threads=1))
    r = evaluate(run, tmp_path / "report", n_samples=3, length=200)
    assert r["codec"] == "notewise"
    assert r["likelihood"]["notes"] > 0 and r["likelihood"]["bits_per_note"] > 0
    assert r["validity"]["bar_share"] is None and r["validity"]["samples"] == 3
    assert len(r["memorisation"]["baseline"]) == r["likelihood"]["pieces"]
    assert (tmp_path / "report" / "report.html").exists()


def test_evaluate_command_judges_samples_in_the_metre_and_key_asked(kern_run, tmp_path) -> None:
    import subprocess
    import sys

    out = tmp_path / "report"
    res = subprocess.run([sys.executable, "-m", "cadenza", "evaluate", str(kern_run), "-o", str(out), "-n", "2", "--bars", "2", "--max-test-pieces", "1",
                          "--metre", "3/4", "--key", "F"], capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    r = json.loads((out / "report.json").read_text())
    assert (r["settings"]["metre"], r["settings"]["key"]) == ("3/4", "F")
    for k in ("sample-01.krn", "sample-02.krn"):
        kern = (out / "samples" / k).read_text()
        metres = {t for line in kern.splitlines() if line.startswith("*") for t in line.split("\t") if t.startswith("*M") and not t.startswith("*MM")}
        assert metres == {"*M3/4"} and "*k[b-]" in kern


def test_a_bundled_models_evaluation_says_how_to_make_its_dataset(tmp_path, monkeypatch, palestrina_dataset):
    """Issue #24: outside the project folder `evaluate mozart-kern` named a dataset the user never
    made; it now gives the exact prepare command, takes --dataset, and refuses one that is not
    the model's with the reason."""
    from cadenza import CadenzaError
    from cadenza.evaluation.pipeline import evaluate

    monkeypatch.chdir(tmp_path)
    rep = evaluate("mozart-kern", tmp_path / "ev", n_samples=1, bars=2, max_test_pieces=1)
    warning = next(w for w in rep["warnings"] if "not found" in w)
    assert "cadenza prepare ../shared/corpora/mozart-piano-sonatas --transpose all -o data/mozart-all --seed 0" in warning and "--dataset" in warning
    with pytest.raises(CadenzaError, match="--dataset .*codec options"):
        evaluate("mozart-kern", tmp_path / "ev2", n_samples=1, bars=2, dataset=palestrina_dataset)
