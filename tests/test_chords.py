"""Chords in the text (issue 22): each bar of a prepared piece opens with the chord the chord
reader hears in it (notewise, chordwise: a word at the bar line), transposition moves the
chords with the notes, decoding leaves them out, and training windows are told their bar's
chord."""

from __future__ import annotations

import numpy as np
import pytest

from cadenza.codecs import get_codec
from cadenza.codecs.bar_chords import chord_word, chord_words_of, insert_bar_words, strip_chord_words, word_chord
from cadenza.codecs.labels import split_condition
from cadenza.music.harmony import Chord, parse_chord
from cadenza.music.piece import Note, Piece, Track


def progression_piece(sigs=((0.0, 4, 4),)) -> Piece:
    """Four 4/4 bars: C, Am, F, G7 as block chords with a bass."""
    notes = []
    for bar, pcs in enumerate([(48, 64, 67, 72), (45, 64, 69, 72), (41, 65, 69, 72), (43, 65, 67, 71)]):
        notes += [Note(bar * 4.0, p, 4.0) for p in pcs]
    return Piece([Track("Piano", 0, sorted(notes))], time_signatures=list(sigs))


def test_chord_words_round_trip_without_the_bass():
    assert chord_word(parse_chord("C7/E")) == "<chord:C7>"
    assert word_chord("<chord:F#m>") == Chord(6, "minor")
    assert word_chord("<chord:N>").root is None
    assert word_chord("<chord:Hx>") is None and word_chord("p20") is None
    assert strip_chord_words("<chord:C> p1 wait2 <chord:G> endp1") == "p1 wait2 endp1"


def test_a_wait_across_a_bar_line_is_cut_there():
    words = ["p1", "wait6", "endp1", "wait2"]
    got = insert_bar_words(words, [0, 0, 6, 6], [0, 4], ["<A>", "<B>"], lambda n: f"wait{n}", lambda w: int(w[4:]) if w.startswith("wait") else None)
    assert got == ["<A>", "p1", "wait4", "<B>", "wait2", "endp1", "wait2"]


def test_split_condition():
    assert split_condition("composer,chords") == ("composer", True)
    assert split_condition("chords") == (None, True)
    assert split_condition("composer") == ("composer", False)
    assert split_condition(None) == (None, False)


@pytest.mark.parametrize("name", ["notewise", "chordwise"])
def test_word_codecs_write_each_bars_chord_at_its_start(name):
    codec = get_codec(name, {"chords": True, "steps_per_quarter": 4})
    enc = codec.encode_piece(progression_piece())
    assert [c.name for c in chord_words_of(enc.text)] == ["C", "Am", "F", "G7"]
    words = enc.text.split()
    assert words[0] == "<chord:C>"
    ends = codec.steps(words)
    begins = codec.begins(words, ends)
    at = {w: begins[i + 1] for i, w in enumerate(words) if w.startswith("<chord:")}  # the music after it
    assert at == {"<chord:C>": 0, "<chord:Am>": 16, "<chord:F>": 32, "<chord:G7>": 48}
    plain = get_codec(name, {"steps_per_quarter": 4})
    assert codec.decode(enc.text, enc.info).stats == plain.decode(plain.encode_piece(progression_piece()).text, enc.info).stats
    up = codec.transpose(enc, 2)
    assert [c.name for c in chord_words_of(up.text)] == ["D", "Bm", "G", "A7"]
    assert codec.can("window_prefix") and not plain.can("window_prefix") and plain.can("chords")
    prefixes = codec.window_prefix(enc.text)
    assert prefixes[0] == (0, "") and prefixes[1] == (1, "<chord:C> ") and prefixes[-1][1] == "<chord:G7> "


def test_bars_follow_the_time_signatures():
    codec = get_codec("notewise", {"chords": True, "steps_per_quarter": 4})
    enc = codec.encode_piece(progression_piece(((0.0, 2, 4),)))  # 2/4: each chord fills two bars
    assert [c.name for c in chord_words_of(enc.text)] == ["C", "C", "Am", "Am", "F", "F", "G7", "G7"]


def test_prepare_condition_chords_writes_prefixes(tmp_path, palestrina_paths):
    from typer.testing import CliRunner

    from cadenza.cli import app

    out = tmp_path / "ds"
    r = CliRunner().invoke(app, ["prepare", *map(str, palestrina_paths[:4]), "-o", str(out), "--codec", "notewise", "--steps-per-quarter", "4",
                                 "--condition", "chords", "--workers", "1"])
    assert r.exit_code == 0, r.output
    text = (out / "train.txt").read_text()
    assert text.startswith("<chord:")
    z = np.load(out / "train.prefix.npz")
    assert len(z["at"]) > 10
    r = CliRunner().invoke(app, ["prepare", str(palestrina_paths[0]), "-o", str(tmp_path / "x"), "--codec", "notewise", "--condition", "chord"])
    assert r.exit_code != 0 and "chords" in r.output


# --- kern: a chord line after each barline, an **mxhm spine in the restored file -------------

KERN = """**kern\t**kern
*clefF4\t*clefG2
*k[]\t*k[]
*C:\t*C:
*M4/4\t*M4/4
=1\t=1
1C\t1e 1g 1cc
=2\t=2
1AA\t1e 1a 1cc
=3\t=3
2FF\t2f 2a 2cc
2GG\t2d 2f 2b
==\t==
*-\t*-
"""


@pytest.fixture()
def kern_piece(tmp_path):
    p = tmp_path / "prog.krn"
    p.write_text(KERN)
    return p


def test_kern_chord_lines_follow_each_barline(kern_piece):
    from cadenza.codecs.kern.harm import text_chords

    codec = get_codec("kern", {"chords": True})
    enc = codec.encode(kern_piece)[0]
    assert "@\n!!chord: C\n1C" in enc.text and "@\n!!chord: Am\n" in enc.text
    assert [c.name for c in text_chords(enc.text)] == ["C", "Am", "F"]  # F then G7: the reader hears one chord, F with the bar's weight
    assert get_codec("kern").encode(kern_piece)[0].text == "\n".join(x for x in enc.text.split("\n") if not x.startswith("!!"))
    up = codec.transpose(enc, 2)
    assert [c.name for c in text_chords(up.text)] == ["D", "Bm", "G"]
    prefixes = dict(codec.window_prefix(enc.text))
    last = max(prefixes)
    assert prefixes[last].endswith("*M4/4\t*M4/4\n!!chord: F\n") and prefixes[last].startswith("*clefF4")


def test_kern_restores_chords_as_an_mxhm_spine_music21_and_verovio_read(kern_piece, tmp_path):
    from music21 import converter

    codec = get_codec("kern", {"chords": True})
    enc = codec.encode(kern_piece)[0]
    decoded = codec.decode(enc.text, enc.info)
    kern = decoded.score
    lines = kern.split("\n")
    assert lines[0].endswith("\t**mxhm") and any(x.endswith("\tA minor") for x in lines) and lines[-2].endswith("\t*-")
    assert all(len(x.split("\t")) == 3 for x in lines if x)
    score = converter.parse(kern, format="humdrum")
    assert len(score.parts) == 2 and len(list(score.recurse().notes)) == 8  # 4 bass notes, 4 chords: as without the spine
    import verovio

    tk = verovio.toolkit()
    tk.loadData(kern)
    assert tk.renderToSVG(1).count('class="harm"') == 3


# --- asking for chords: --chords, the Request, the sampler writing each bar's chord -------------


def test_progressions_bar_by_bar():
    from cadenza import CadenzaError
    from cadenza.music.chord_names import parse_bars

    assert [[c.name for c in b] for b in parse_bars("F | C7 | . | Bb F")] == [["F"], ["C7"], ["C7"], ["Bb", "F"]]
    assert [b[0].name for b in parse_bars("I | V7 | vi | IV", "F")] == ["F", "C7", "Dm", "Bb"]
    for bad, why in [("F | Hx", "'Hx' is not a chord"), ("I | V", "give the key"), (". | F", "first bar"), ("F || G", "bar 2 is empty")]:
        with pytest.raises(CadenzaError, match=why):
            parse_bars(bad)


def test_the_request_checks_its_chords_once():
    from cadenza import CadenzaError
    from cadenza.generation.request import Request

    assert [b[0].name for b in Request(chords="I | IV", key="G").progression] == ["G", "C"]
    with pytest.raises(CadenzaError, match="Hx"):
        Request(chords="C | Hx")
    assert [b[0].name for b in Request(chords="C | G7", prompt="x.krn").progression] == ["C", "G7"]  # continued: chord symbols
    with pytest.raises(CadenzaError, match="Roman numerals need --key.*keeps its own key"):
        Request(chords="I | V", prompt="x.krn")


@pytest.fixture(scope="module")
def chord_runs(tmp_path_factory, palestrina_paths):
    """Tiny kern, notewise and chordwise models prepared with chords (and trained to fill in the
    middle): enough to see the sampler write them."""
    from cadenza.data.prepare import prepare
    from cadenza.training import TrainConfig, train

    root = tmp_path_factory.mktemp("chords")
    runs = {}
    for codec, options in (("kern", {"spines": 4, "chords": True}), ("notewise", {"steps_per_quarter": 4, "chords": True}),
                           ("chordwise", {"steps_per_quarter": 4, "note_range": 38, "chords": True})):
        prepare([str(p) for p in palestrina_paths[:8]], root / codec, codec, options, workers=1, seed=1)
        fim = 0.0 if codec == "kern" else 0.5
        train(root / codec, root / f"run-{codec}", TrainConfig(rnn_size=32, num_layers=1, seq_length=40, batch_size=8, max_steps=20, eval_every=20, eval_batches=1, seed=3,
                                                              fim_rate=fim))
        runs[codec] = root / f"run-{codec}"
    train(root / "kern", root / "run-kern-fim", TrainConfig(rnn_size=32, num_layers=1, seq_length=40, batch_size=8, max_steps=20, eval_every=20, eval_batches=1, seed=3, fim_rate=0.5))
    runs["kern-fim"] = root / "run-kern-fim"
    return runs


def test_kern_samples_carry_the_chords_asked_for(chord_runs, tmp_path):
    from music21 import converter

    from cadenza.codecs.kern.harm import text_chords
    from cadenza.generation import generate

    samples = generate(chord_runs["kern"], tmp_path, n=2, bars=7, metre="4/4", key="C", chords="C | Am | F | G7", seed=1, formats=("krn",))
    for s in samples:
        text = (tmp_path / f"sample-{s.index:02d}.txt").read_text()
        got = [c.name for c in text_chords(text)]
        assert len(got) >= 4 and got == (["C", "Am", "F", "G7"] * 3)[: len(got)]  # a bar, a chord line: the progression's
        kern = s.files["krn"].read_text()
        assert "**mxhm" in kern and "A minor" in kern and "G dominant" in kern
        assert len(converter.parse(kern, format="humdrum").parts) == 4


def test_notewise_samples_carry_the_chords_asked_for(chord_runs, tmp_path):
    from cadenza import CadenzaError
    from cadenza.generation import generate

    samples = generate(chord_runs["notewise"], tmp_path, n=2, bars=4, chords="A | E7 | .", seed=1)
    for s in samples:
        words = (tmp_path / f"sample-{s.index:02d}.txt").read_text().split()
        got = [w for w in words if w.startswith("<chord:")]
        assert got[:4] == ["<chord:A>", "<chord:E7>", "<chord:E7>", "<chord:A>"]  # . repeats a bar; the progression repeats
        codec = get_codec("notewise", {"chords": True, "steps_per_quarter": 4})
        ends = codec.steps(words)
        begins = codec.begins(words, ends)
        starts = [begins[i + 1] for i, w in enumerate(words[:-1]) if w.startswith("<chord:")]
        bar = starts[1]
        assert bar in (16, 32) and starts[1:4] == [bar, 2 * bar, 3 * bar]  # at the bar lines of the model's metre (4/4 or 4/2, 4 steps a quarter)
    with pytest.raises(CadenzaError, match="never wrote|lack"):
        generate(chord_runs["notewise"], tmp_path / "x", n=1, length=20, chords="C#sus2 | C", seed=1)  # a chord the tiny model never saw


# --- measuring: bars read back against the progression asked for ---------------------------------


def test_bar_agreement_reads_a_file_back(kern_piece, tmp_path):
    from cadenza.evaluation.chords import bar_agreement
    from cadenza.music import write_midi
    from cadenza.music.chord_names import parse_bars

    assert bar_agreement(kern_piece, parse_bars("C | Am | F")) == {"bars": 3, "chord": 3, "root": 3}
    assert bar_agreement(kern_piece, parse_bars("C | A | F G7")) == {"bars": 3, "chord": 2, "root": 3}  # A is not Am; F G7: either counts
    mid = tmp_path / "prog.mid"
    write_midi(progression_piece(), mid)
    assert bar_agreement(mid, parse_bars("C | Am | F | G")) == {"bars": 4, "chord": 3, "root": 4}


def test_evaluate_chords_compares_with_unconditioned_samples(chord_runs, tmp_path):
    from typer.testing import CliRunner

    from cadenza.cli import app

    r = CliRunner().invoke(app, ["evaluate", str(chord_runs["notewise"]), "-o", str(tmp_path), "--chords", "C | G", "-n", "2", "--bars", "2"])
    assert r.exit_code == 0, r.output
    import json

    rep = json.loads((tmp_path / "chords.json").read_text())
    assert rep["asked"]["bars"] >= 2 and 0 <= rep["asked"]["chord_rate"] <= 1 and "unconditioned" in rep
    assert rep["asked"]["strength"] > 0  # the default guidance
    r = CliRunner().invoke(app, ["evaluate", str(chord_runs["notewise"]), "-o", str(tmp_path), "--chords", "C | G", "-n", "1", "--bars", "2", "--chord-strength", "0"])
    assert r.exit_code == 0, r.output
    assert json.loads((tmp_path / "chords.json").read_text())["asked"]["strength"] == 0  # the model alone, as asked
    r = CliRunner().invoke(app, ["evaluate", str(chord_runs["notewise"]), "-o", str(tmp_path), "--chord-strength", "3"])
    assert r.exit_code == 2 and "give --chords too" in r.output


def test_kern_export_writes_musicxml_harmony(kern_piece, tmp_path):
    codec = get_codec("kern", {"chords": True})
    enc = codec.encode(kern_piece)[0]
    files = codec.export(codec.decode(enc.text, enc.info), tmp_path / "x", ("krn", "musicxml"))
    xml = files["musicxml"].read_text()
    assert xml.count("<harmony") == 3 and "<kind>minor</kind>" in xml


def test_cli_chords_errors_are_one_line(chord_runs, tmp_path):
    from typer.testing import CliRunner

    from cadenza.cli import app

    for chords, why in (("C | Hx", "Hx"), ("I | V", "key")):
        r = CliRunner().invoke(app, ["generate", str(chord_runs["kern"]), "-o", str(tmp_path), "--chords", chords, "--length", "50"])
        assert r.exit_code != 0 and why in r.output and "Traceback" not in r.output


def test_prepare_kern_with_labels_and_chords(tmp_path, palestrina_paths):
    from typer.testing import CliRunner

    from cadenza.cli import app

    out = tmp_path / "ds"
    r = CliRunner().invoke(app, ["prepare", *map(str, palestrina_paths[:4]), "-o", str(out), "--condition", "composer,chords", "--workers", "1"])
    assert r.exit_code == 0, r.output
    text = (out / "train.txt").read_text()
    assert text.startswith("!!!COM: ") and "@\n!!chord: " in text
    manifest = __import__("json").loads((out / "manifest.json").read_text())
    assert manifest["options"]["chords"] is True and manifest["labels"]["kinds"] == ["composer"]
    z = np.load(out / "train.prefix.npz")
    vocab = __import__("json").loads((out / "vocab.json").read_text())
    prefixes = ["".join(vocab[i] for i in z["ids"][z["start"][k] : z["start"][k + 1]]) for k in range(len(z["at"]))]
    assert any(p.startswith("!!!COM: ") and p.rstrip("\n").split("\n")[-1].startswith("!!chord: ") for p in prefixes)


# --- chordwise: the sampler writes chord words before a bar's first step ------------------------


def test_chordwise_steps_clock():
    """A letter or a run of instruments in score order is one step; at a bar line only the chord,
    or the instruments still to come in the step in progress, may follow."""
    from cadenza.codecs.chord_constraint import StepClock
    from cadenza.music.instruments import RANK

    vocab = ["a", "b", "v0110", "p0110", "<chord:C>", "<composer:X>"]
    clock = StepClock(vocab, RANK)
    state = clock.start()
    for w in ["p0110", "a", "v0110", "p0110"]:  # p | a | v p (one step, violin before piano)
        state = clock.advance(state, vocab.index(w))
    assert clock.now(state) == 3
    assert [vocab[i] for i in clock.allowed(state, 1).nonzero()[0]] == ["a", "b", "v0110", "p0110", "<composer:X>"]
    assert clock.allowed(state, 0).sum() == 0  # piano closed the step: the bar's chord comes first
    after_violin = clock.advance(clock.advance(state, vocab.index("a")), vocab.index("v0110"))
    assert [vocab[i] for i in clock.allowed(after_violin, 0).nonzero()[0]] == ["p0110"]  # the piano of the step in progress


def test_chordwise_samples_carry_the_chords_asked_for(chord_runs, tmp_path):
    from cadenza.generation import generate

    run = chord_runs["chordwise"]
    samples = generate(run, tmp_path, n=2, bars=4, chords="C | F | .", seed=1)
    codec = get_codec("chordwise", {"chords": True, "steps_per_quarter": 4, "note_range": 38})
    for s in samples:
        words = (tmp_path / f"sample-{s.index:02d}.txt").read_text().split()
        got = [w for w in words if w.startswith("<chord:")]
        assert got[:4] == ["<chord:C>", "<chord:F>", "<chord:F>", "<chord:C>"]
        ends = codec.steps(words)
        begins = codec.begins(words, ends)
        starts = [begins[i + 1] for i, w in enumerate(words[:-1]) if w.startswith("<chord:")]
        bar = starts[1]
        assert bar in (16, 32) and starts[1:4] == [bar, 2 * bar, 3 * bar]  # a chord word opens each bar's first step (the first after the prime's)
        assert s.stats["notes"] > 0


# --- the progression on new bars: continuing a file, rewriting bars, forms ------------------------


def _chords_after(text: str, told: int) -> list[str]:
    return [c.name for c in chord_words_of(text)][told:]


def test_notewise_continuation_starts_the_progression_on_the_first_new_bar(chord_runs, tmp_path):
    from cadenza.generation import generate
    from cadenza.music import write_midi

    run = chord_runs["notewise"]
    vocab = __import__("json").loads((run / "config.json").read_text())["vocab"]
    triads = [(48, 64, 67, 72), (53, 65, 69, 72)]  # C, F: two bars the tiny model has chord and note words for
    assert {"<chord:C>", "<chord:F>", "<chord:G>"} <= set(vocab)
    notes = [Note(b * 4.0, p, 4.0) for b, pcs in enumerate(triads * 2) for p in pcs]
    prompt = tmp_path / "cf.mid"
    write_midi(Piece([Track("Piano", 0, sorted(notes))], time_signatures=[(0.0, 4, 4)]), prompt)
    samples = generate(run, tmp_path / "out", n=2, bars=3, chords="G | C", prompt=prompt, seed=1)
    for s in samples:
        text = (tmp_path / "out" / f"cf-{s.index:02d}.txt").read_text()
        names = [c.name for c in chord_words_of(text)]
        assert names[:4] == ["C", "F", "C", "F"] and names[4:7] == ["G", "C", "G"]  # the prompt's 4 bars as read, then the progression
        assert s.stats["chords"] == "G | C"


def test_kern_continuation_and_infill_write_the_chords_asked_for(chord_runs, tmp_path, palestrina_paths):
    from cadenza.codecs.kern.harm import text_chords
    from cadenza.generation import generate

    run = chord_runs["kern"]
    prompt = next(p for p in palestrina_paths[:8] if p.read_text(encoding="latin-1").count("**kern") == 4)  # 4 staves, as the model
    samples = generate(run, tmp_path / "cont", n=2, bars=3, chords="C | F", prompt=prompt, prompt_bars=2, seed=1)
    for s in samples:
        text = (tmp_path / "cont" / f"{prompt.stem}-{s.index:02d}.txt").read_text()
        assert [c.name for c in text_chords(text)][:3] == ["C", "F", "C"]  # the prime has none: the first new bar starts it
    done = generate(chord_runs["kern-fim"], tmp_path / "fill", n=1, chords="F | G", prompt=prompt, rewrite=(3, 4), seed=1)
    middle = done[0].text
    assert [c.name for c in text_chords(middle)][:2] == ["F", "G"] and done[0].stats["chords"] == "F | G"


def test_forms_go_on_with_the_progression(chord_runs, tmp_path):
    from cadenza.codecs.kern.harm import text_chords
    from cadenza.generation import generate

    samples = generate(chord_runs["kern"], tmp_path, n=1, metre="4/4", key="C", chords="C | Am | F | G", form="ABA", phrase_bars=2, seed=2, formats=("krn",))
    text = (tmp_path / "sample-01.txt").read_text()
    got = [c.name for c in text_chords(text)]
    assert got[:3] == ["C", "Am", "F"] and got[-1] != "F"  # B opens on bar 3, chord 3 (not the progression again); the A repeated opens with C
    assert "C" in got[3:] and [m["made"] for m in samples[0].stats["phrases"]] == ["new", "new", "repeat"]


# --- held-out pieces told their own chords, none, or the wrong ones --------------------------------


def test_chord_marks_and_moved_chords():
    from cadenza.codecs.bar_chords import chord_marks, moved_chords

    text = "*M4/4\n@\n!!chord: C\n4c\n@\n!!chord: N\n4r\n"
    toks = list(text)
    marks = chord_marks(toks, "char")
    assert "".join(t for t, m in zip(toks, marks) if m) == "!!chord: C\n!!chord: N\n"
    moved, moved_marks = moved_chords(toks, marks, "char", 6)
    assert "".join(moved) == text.replace("chord: C", "chord: F#") and sum(moved_marks) == len("!!chord: F#\n!!chord: N\n")
    words = ["<chord:Am>", "p1", "wait2", "<chord:G7>", "endp1"]
    assert chord_marks(words, "word") == [True, False, False, True, False]
    assert moved_chords(words, chord_marks(words, "word"), "word", 2)[0] == ["<chord:Bm>", "p1", "wait2", "<chord:A7>", "endp1"]


def test_heldout_progressions_score_the_same_music_three_ways(chord_runs):
    from cadenza import CadenzaError
    from cadenza.evaluation.chords import heldout_progressions
    from cadenza.evaluation.heldout import split_pieces

    run = chord_runs["notewise"]
    dataset = run.parent / "notewise"
    rep = heldout_progressions(run, dataset, baseline=run, wrong=0)  # itself as baseline, chords moved 0: the readings it must equal
    texts = [t for t, _ in split_pieces(dataset, "test", "word")]
    words = [t.split() for t in texts]
    chords = sum(1 for w in words for x in w if x.startswith("<chord:"))
    assert rep["pieces"] == len(texts) >= 1 and rep["chords"] == chords > 0 and rep["notes"] == sum(1 for w in words for x in w if x.startswith("p"))
    rows = rep["rows"]
    assert set(rows) == {"with chords", "without chords", "with wrong chords", "baseline, without chords"}
    # every reading scores the music's words and only them (a piece's first word has none before it: unscored)
    assert {r["music_tokens"] for r in rows.values()} == {sum(map(len, words)) - chords - len(words)}
    assert rows["baseline, without chords"]["bits_per_note"] == rows["without chords"]["bits_per_note"] > 0
    assert rows["with chords"]["bits_per_note"] == rows["with wrong chords"]["bits_per_note"] != rows["without chords"]["bits_per_note"]
    with pytest.raises(CadenzaError, match="never saw"):  # moved a tritone, chords the tiny model never wrote
        heldout_progressions(run, dataset, wrong=6)
