"""Fill in the middle: training windows, and `cadenza infill` on real kern and MIDI files."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from cadenza import CadenzaError
from cadenza.codecs.fim import can_infill, sentinel, sentinels, strip_sentinels, with_sentinels
from conftest import shared


@pytest.mark.parametrize("spm", [True, False])
def test_fim_windows_rearrange_the_same_tokens(spm):
    """A FIM window is header + <suffix> C <prefix> A B <end> (SPM) or <prefix> A <suffix> C
    <middle> B <end> (PSM): the same tokens as a plain window, cut at line starts for
    characters, exactly seq + 1 long."""
    from cadenza.training.data import Fim, Stream

    text = "".join(f"4c{i % 7}\t8d\n@\n" for i in range(200))
    vocab = sorted(set(text))
    stoi = {t: i for i, t in enumerate(vocab)}
    s = Stream(text, "char", stoi)
    full = with_sentinels(vocab, "char")
    pre, suf, mid, end = (full.index(t) for t in sentinels("char"))
    s.fim = Fim(1.0, pre, suf, mid, end, line=stoi["\n"], spm=spm)
    x, y = s.batch(8, 64, torch.Generator().manual_seed(0))
    assert x.shape == y.shape == (8, 64)
    for row_x, row_y in zip(x.tolist(), y.tolist()):
        w = row_x + [row_y[-1]]
        assert w[-1] == end
        if spm:
            assert w[0] == suf and mid not in w
            i = w.index(pre)
            c, ab = w[1:i], w[i + 1 : -1]
            plain = "".join(full[t] for t in ab + c)
            assert not c or full[ab[-1]] == "\n"  # the middle ends at a line start
        else:
            assert w[0] == pre
            i, j = w.index(suf), w.index(mid)
            a, c, b = w[1:i], w[i + 1 : j], w[j + 1 : -1]
            plain = "".join(full[t] for t in a + b + c)
            assert not a or full[a[-1]] == "\n"  # the middle starts at a line start
        assert plain in text  # put back in order, the corpus's own text


def test_sentinels_are_new_tokens_and_stripped():
    assert can_infill(with_sentinels(["a", "b"], "word"), "word") and not can_infill(["a"], "word")
    assert sentinel("middle", "word") == "<fim:middle>"
    assert strip_sentinels("p60 <fim:end> wait2", "word") == "p60 wait2"
    assert strip_sentinels("4c\ue003\n", "char") == "4c\n"


@pytest.fixture(scope="module")
def fim_kern_run(tmp_path_factory, palestrina_dataset) -> Path:
    from cadenza.training import TrainConfig, train

    run = tmp_path_factory.mktemp("fim") / "kern"
    train(palestrina_dataset, run, TrainConfig(rnn_size=48, num_layers=2, seq_length=128, batch_size=16, max_steps=60, eval_every=30, eval_batches=2, seed=3, fim_rate=0.5))
    return run


def _four_voice_palestrina(paths: list[Path]) -> Path:
    for p in paths[200:]:
        head = next(line for line in p.read_text(encoding="utf-8", errors="replace").split("\n") if line.startswith("**"))
        if head.split("\t").count("**kern") == 4 and len(head.split("\t")) == 4:
            return p
    pytest.skip("no four-voice Palestrina movement")


def test_kern_infill_keeps_every_other_line_and_parses(fim_kern_run, palestrina_paths, tmp_path):
    from music21 import converter

    from cadenza.generation.infill import infill

    src = _four_voice_palestrina(palestrina_paths)
    samples = infill(fim_kern_run, src, (3, 4), tmp_path, n=2, seed=1, formats=("krn",))
    original = src.read_text(encoding="utf-8").replace("\r\n", "\n").rstrip("\n").split("\n")
    bar3 = original.index(next(x for x in original if x.startswith("=3")))
    bar5 = original.index(next(x for x in original if x.startswith("=5")))
    for s in samples:
        got = s.files["krn"].read_text(encoding="utf-8").rstrip("\n").split("\n")
        assert got[: bar3 + 1] == original[: bar3 + 1]
        tail = len(original) - bar5
        assert got[-tail:] == original[bar5:]
        assert [x.split("\t")[0] for x in got[bar3 + 1 : -tail] if x.startswith("=")] == ["=4"]
        score = converter.parse(s.files["krn"], format="humdrum")
        for part in score.parts:
            measures = {m.number: m for m in part.getElementsByClass("Measure")}
            for k in (3, 4):  # the new bars fill the metre (4/2: eight quarters)
                assert measures[k].duration.quarterLength == pytest.approx(measures[k].barDuration.quarterLength)


def test_infill_errors_are_one_line(fim_kern_run, tiny_run, palestrina_paths, tmp_path):
    from cadenza.generation.infill import infill, parse_bars

    src = _four_voice_palestrina(palestrina_paths)
    with pytest.raises(CadenzaError, match="not trained to fill in the middle"):
        infill(tiny_run, src, (3, 4), tmp_path)
    with pytest.raises(CadenzaError, match="no barline =899"):
        infill(fim_kern_run, src, (899, 900), tmp_path)
    with pytest.raises(CadenzaError, match="bar range"):
        parse_bars("five")
    with pytest.raises(CadenzaError, match="backwards"):
        parse_bars("8-5")
    assert parse_bars("5") == (5, 5) and parse_bars("5-8") == (5, 8)


def test_midi_infill_keeps_outside_notes_and_releases_at_the_seams(tmp_path):
    from cadenza.codecs.midi_infill import bar_starts
    from cadenza.data.prepare import prepare
    from cadenza.generation.infill import infill
    from cadenza.music.reader import read_piece_file
    from cadenza.training import TrainConfig, train

    files = sorted(shared("midi", "piano-midi").rglob("*.mid"))[:4]
    ds = tmp_path / "ds"
    prepare([str(f) for f in files], ds, "notewise", {"note_range": 88}, workers=1, seed=1)
    run = tmp_path / "run"
    train(ds, run, TrainConfig(rnn_size=32, num_layers=1, seq_length=96, batch_size=8, max_steps=30, eval_every=30, eval_batches=1, fim_rate=0.5))
    src = files[0]
    samples = infill(run, src, (5, 8), tmp_path / "out", n=2, seed=2)
    before = read_piece_file(src)
    b0, b1 = bar_starts(before, 9)[4], bar_starts(before, 9)[8]

    def outside(p):
        return sorted((round(n.start, 3), n.pitch, round(n.duration, 3)) for n in p.notes if not b0 - 1e-6 <= n.start < b1 - 1e-6)

    for s in samples:
        after = read_piece_file(s.files["mid"])
        assert outside(after) == outside(before)
        inside = [n for n in after.notes if b0 - 1e-6 <= n.start < b1 - 1e-6]
        assert all(n.start + n.duration <= b1 + 1e-6 for n in inside)  # released at the seam


def test_infill_command_line(fim_kern_run, palestrina_paths, tmp_path):
    from cadenza.cli import app

    src = _four_voice_palestrina(palestrina_paths)
    res = CliRunner().invoke(app, ["infill", str(src), str(fim_kern_run), "--bars", "2-3", "-o", str(tmp_path), "-n", "1"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / f"{src.stem}-infill-01.krn").exists()
    res = CliRunner().invoke(app, ["infill", str(src), str(fim_kern_run), "--bars", "3-x", "-o", str(tmp_path)])
    assert res.exit_code == 2 and "bar range" in res.output


def test_fim_model_still_generates_without_sentinels(fim_kern_run, tmp_path):
    from cadenza.generation import generate

    samples = generate(fim_kern_run, tmp_path, n=1, length=300, seed=0, formats=("krn",))
    assert not set(samples[0].text) & set(sentinels("char"))


@pytest.mark.parametrize("arch", ["lstm", "transformer"])
def test_labels_and_sentinels_are_never_sampled(arch):
    """Label words and sentinels belong in a prime: an untrained model draws them often, but
    never once they are banned (the numpy LSTM loop and the torch loop alike)."""
    from cadenza.codecs.fim import prime_only
    from cadenza.generation import SamplingOptions, sample_ids
    from cadenza.models import ModelConfig, build_model

    vocab = ["wait1", "p60", "endp60", "<composer:Chopin>"] + sentinels("word")
    torch.manual_seed(0)
    model = build_model(ModelConfig(arch, len(vocab), 16, 1, 0.0, 2, 32)).eval()
    banned = prime_only(vocab, "word", keep=(sentinel("end", "word"),))
    assert [vocab[i] for i in banned] == ["<composer:Chopin>", "<fim:prefix>", "<fim:suffix>", "<fim:middle>"]
    marks = {vocab[i] for i in banned}
    free = sample_ids(model, [0], 3, 200, SamplingOptions(), seed=1)
    assert {vocab[t] for s in free for t in s} & marks  # the control: drawn without the ban
    seqs = sample_ids(model, [0], 3, 200, SamplingOptions(), seed=1, banned=banned)
    assert not {vocab[t] for s in seqs for t in s} & marks


def test_kern_model_infills_a_midi_file_written_as_kern(tmp_path):
    """A MIDI file for a kern model is written as kern first (music/humdrum/writer.py); outside
    the bars asked for, the output is that score line for line."""
    from music21 import converter

    from cadenza.codecs.kern.prompt import prompt_kern
    from cadenza.generation.infill import infill

    src = shared("midi", "nottingham-folk", "MIDI", "jigs58.mid")
    samples = infill("mozart-kern", src, (3, 4), tmp_path, n=1, seed=0, formats=("krn",))
    kern = prompt_kern(src, 2).rstrip("\n").split("\n")
    got = samples[0].files["krn"].read_text(encoding="utf-8").rstrip("\n").split("\n")
    open3 = next(i for i, x in enumerate(kern) if x.startswith("=3"))
    open5 = next(i for i, x in enumerate(kern) if x.startswith("=5"))
    assert got[: open3 + 1] == kern[: open3 + 1]
    assert got[-(len(kern) - open5) :] == kern[open5:]
    assert converter.parse(samples[0].files["krn"], format="humdrum").parts


def test_middle_bits_reads_the_same_middles_both_ways(fim_kern_run, tiny_run, palestrina_dataset, monkeypatch):
    """evaluate's infilling figure: the same held-out middle tokens scored with the bars after
    and without; a model not trained for it gets None."""
    import math

    import cadenza.evaluation.infill_likelihood as infilling
    import cadenza.evaluation.likelihood as likelihood
    from cadenza.evaluation.heldout import split_pieces
    from cadenza.evaluation.infill_likelihood import middle_bits, spans
    from cadenza.training import load_run

    model, config = load_run(fim_kern_run)
    scored = []  # (sequences, their nats): what middle_bits reads with left context only, then with FIM
    real = likelihood.token_nats
    monkeypatch.setattr(likelihood, "token_nats", lambda m, seqs, **kw: scored.append((seqs, real(m, seqs, **kw))) or scored[-1][1])
    got = middle_bits(model, config, palestrina_dataset, max_pieces=4)
    assert got["middles"] > 0 and got["tokens"] > 0
    assert 0 < got["fim_bits_per_token"] < 20 and 0 < got["left_bits_per_token"] < 20
    (left, left_nats), (fim, fim_nats) = scored
    vocab = config["vocab"]
    mark = {vocab.index(sentinel(r, "char")): r for r in ("prefix", "suffix", "middle")}
    held_out = "\n" + "\n".join(text for text, _ in split_pieces(palestrina_dataset, "test", "char"))
    assert len(left) == len(fim) == got["middles"]
    middles = []
    for lt, ft in zip(left, fim):
        before, middle = lt[: infilling.BEFORE], lt[infilling.BEFORE :]  # left context only: the bars before, then the middle
        where = {mark[t]: i for i, t in enumerate(ft) if t in mark}
        after = ft[where["suffix"] + 1 : min(i for r, i in where.items() if i > where["suffix"])]
        # FIM: the same bars before (after <prefix>), the bars after (after <suffix>), and ending in the same middle tokens
        assert ft[where["prefix"] + 1 :][: len(before)] == before and ft[-len(middle) :] == middle and middle and after
        assert "".join(vocab[i] for i in before + middle + after) in held_out  # the middle's own bars around it, as the piece has them
        middles.append(middle)
    assert sum(map(len, middles)) == got["tokens"]
    # both figures are the nats of exactly those middle tokens
    for nats, key in ((left_nats, "left_bits_per_token"), (fim_nats, "fim_bits_per_token")):
        want = sum(float(x[-len(m) :].sum()) for x, m in zip(nats, middles)) / got["tokens"] / math.log(2)
        assert got[key] == pytest.approx(want, rel=1e-9)
    # (the two figures may be equal to the last bit here: after 384 shared tokens, a briefly
    # trained LSTM has forgotten whatever came before them, suffix included)
    monkeypatch.setattr(infilling, "BEFORE", 8)  # a short prefix: the suffix read first still shows
    near = middle_bits(model, config, palestrina_dataset, max_pieces=4)
    assert near["fim_bits_per_token"] != near["left_bits_per_token"]
    assert middle_bits(*load_run(tiny_run), palestrina_dataset) is None
    ids = [0, 1, 2, 9] * 400
    for a, b in spans(ids, line=9):
        assert ids[a - 1] == 9 and ids[b - 1] == 9 and b > a  # middles cut at line starts
