"""Chord guidance (``--chord-strength``, issue 22): a sampler control that favours the bar's chord
tones where the sampler chooses a pitch, so the bundled models (no chord tokens) follow a
progression too."""

from __future__ import annotations

import numpy as np
import pytest

from cadenza import CadenzaError
from cadenza.codecs.chord_tones import favour
from cadenza.generation.chords import check_strength
from cadenza.codecs.kern.chord_guidance import current_token, pitch_state, spellings
from cadenza.music.harmony import parse_chord

PROGRESSION = "C | Am | F | G7"


def test_kern_spellings_and_pitch_states():
    assert spellings(parse_chord("C")) == {("c", ""), ("e", ""), ("g", "")}
    assert spellings(parse_chord("Bb")) == {("b", "-"), ("a", "#"), ("d", ""), ("f", "")}  # never b# for C, nor e# for F
    assert pitch_state("8.") == "letter" and pitch_state("") == "letter" and pitch_state("(16") == "letter"
    assert pitch_state("4cc") == ("c", "") and pitch_state("8B-") == ("b", "-") and pitch_state("4f#") == ("f", "#")
    for done in ("4r", "4cJ", "*clefG2", "!!chord: C", "@", "=1"):
        assert pitch_state(done) is None
    assert current_token(list("4c\t8e 8g")) == "8g" and current_token(list("@\n")) == ""


def test_favour_adds_inside_the_group_and_keeps_its_share():
    logits = np.log(np.array([0.4, 0.2, 0.2, 0.2]))  # a rest, then three letters
    group, fav = np.array([False, True, True, True]), np.array([False, True, False, False])
    out = favour(logits, group, fav, 2.0)
    p = np.exp(out) / np.exp(out).sum()
    assert p[0] == pytest.approx(0.4) and p[1] / p[2] == pytest.approx(np.e ** 2) and p[2] == pytest.approx(p[3])
    assert favour(logits, group, fav, 0.0) is logits and favour(logits, group, group, 5.0) is logits  # nothing to favour among all


def test_bad_strengths_are_one_line_errors():
    from cadenza.generation.request import Request

    assert check_strength("2.5") == 2.5 and Request(chords="C", chord_strength=0).chord_strength == 0.0
    for bad in (-1, float("nan"), float("inf"), "lots"):
        with pytest.raises(CadenzaError, match="--chord-strength"):
            Request(chords="C | G", chord_strength=bad)
    with pytest.raises(CadenzaError, match="give --chords too"):
        Request(chord_strength=2)


def _bar_onsets(piece, spans):
    """(bar index, pitch class) of every note struck inside a bar."""
    return [(k, n.pitch % 12) for t in piece.tracks for n in t.notes for k, (a, b) in enumerate(spans) if a - 1e-9 <= n.start < b - 1e-9]


def test_bundled_kern_model_follows_chords_by_guidance(tmp_path):
    from cadenza.evaluation.chords import sample_bars
    from cadenza.evaluation.validity import kern_validity
    from cadenza.generation import generate
    from cadenza.music.chord_names import parse_bars

    chords = [b[0] for b in parse_bars(PROGRESSION)]
    samples = generate("mozart-kern", tmp_path, n=2, bars=4, seed=1, metre="4/4", key="C", chords=PROGRESSION, chord_strength=1000, formats=("krn",))
    for s in samples:
        kern = s.files["krn"].read_text()
        piece, spans = sample_bars(s.files["krn"])
        got = _bar_onsets(piece, spans)
        assert len(spans) >= 4 and len(got) > 8
        assert all(pc in chords[k % 4].pitch_classes for k, pc in got)  # every note struck is a tone of its bar's chord
        assert "**mxhm" in kern and "A minor" in kern and "G dominant" in kern  # the file shows the chords
        v = kern_validity(kern)
        assert v["parsed"] and v["bars_ok"] == v["bars"]
    with pytest.raises(CadenzaError, match="chord-strength above 0"):
        generate("mozart-kern", tmp_path / "alone", n=1, bars=2, metre="4/4", key="C", chords=PROGRESSION, chord_strength=0, formats=("krn",))


def test_bundled_notewise_model_strikes_chord_tones(tmp_path):
    from cadenza.evaluation.chords import sample_bars
    from cadenza.generation import generate
    from cadenza.music.chord_names import parse_bars

    chords = [b[0] for b in parse_bars(PROGRESSION)]
    plain = generate("piano-notewise", tmp_path / "plain", n=1, bars=4, seed=2)
    guided = generate("piano-notewise", tmp_path / "guided", n=1, bars=4, seed=2, chords=PROGRESSION, chord_strength=1000)
    piece, spans = sample_bars(guided[0].files["mid"])
    got = _bar_onsets(piece, spans)
    assert len(got) > 8 and all(pc in chords[k % 4].pitch_classes for k, pc in got)
    assert "<chord:" not in guided[0].text  # a model without chord words is only guided: nothing is written into its text
    assert plain[0].text != guided[0].text


def test_strength_zero_is_the_model_alone():
    from cadenza.codecs import get_codec
    from cadenza.codecs.chord_constraint import WordChords
    from cadenza.codecs.grid import LOWEST
    from cadenza.generation.run import open_run

    assert {low % 12 for low in LOWEST.values()} == {9}  # every note range starts on an A (chord_constraint._KEY0)
    run = open_run("piano-notewise")
    vocab = run.vocab + ["<chord:C>", "<chord:G7>"]  # a model that writes chords: strength 0 is the sampler as before guidance
    codec = get_codec("notewise", {"chords": True, "steps_per_quarter": 12, "note_range": 88})
    logits = np.random.default_rng(0).normal(size=(2, len(vocab)))
    for strength, same in ((0, True), (2, False)):
        con = codec.constraint(vocab, {"chords": ["C", "G7"], "chord_strength": strength}, 2, "")
        con.written = [1, 1]  # the first bar's chord word is written
        assert isinstance(con, WordChords) and (con.guided(logits) is logits) == same


def test_notewise_guidance_stops_off_tones_at_the_bar_line_and_asks_for_the_whole_chord():
    from cadenza.generation.run import open_run

    run = open_run("piano-notewise")  # 88 keys from A0: p39 is C4, p43 E4, p44 F4, p48 A4
    vocab, s = run.vocab, 50.0
    i = {w: k for k, w in enumerate(vocab)}
    con = run.codec.constraint(vocab, {"chords": ["C", "F"], "chord_strength": s}, 1, "wait46")  # bar 1 (C), two steps before bar 2 (F)
    zeros = np.zeros((1, len(vocab)))

    def play(word):
        con.pick(zeros, lambda logits, m: (np.array([i[word]]), np.array([i[word]])))

    play("p43")  # E sounds: a tone of C, not of F
    row = con.guided(zeros)[0]
    assert row[i["wait1"]] - row[i["wait3"]] == pytest.approx(s) and row[i["wait2"]] == row[i["wait1"]]  # a wait past the bar line is disfavoured
    assert row[i["endp43"]] == 0  # E is still a tone of this bar: its release is the model's
    assert row[i["p46"]] - row[i["p43"]] == pytest.approx(s) and row[i["p39"]] == pytest.approx(row[i["p46"]])  # C and G, not heard yet, over E
    assert row[i["p43"]] - row[i["p44"]] == pytest.approx(s)  # E, a tone of this bar, over F (the next one's)
    play("wait2")  # at the bar line: bar 2, F
    row = con.guided(zeros)[0]
    assert row[i["endp43"]] == s and row[i["wait48"]] == row[i["wait1"]]  # E's release favoured; with E released, no wait would carry it on
    play("endp43")
    play("p44")  # F struck: A and C are the chord's tones not heard yet
    row = con.guided(zeros)[0]
    assert row[i["p48"]] - row[i["p44"]] == pytest.approx(s) and row[i["p39"]] == pytest.approx(row[i["p48"]])
    assert row[i["p44"]] - row[i["p43"]] == pytest.approx(s)  # F, heard, is still a tone: over E


def test_bundled_notewise_model_sounds_no_off_tone_into_a_bar(tmp_path):
    from cadenza.evaluation.chords import bar_agreement, sample_bars
    from cadenza.generation import generate
    from cadenza.generation.request import Request

    progression = Request(chords=PROGRESSION).progression
    got = generate("piano-notewise", tmp_path, n=1, bars=8, seed=0, chords=PROGRESSION, chord_strength=1000)
    piece, spans = sample_bars(got[0].files["mid"])
    notes = [n for t in piece.tracks for n in t.notes]
    held = [(k, n.pitch % 12) for k, (a, _) in enumerate(spans) for n in notes if n.start < a - 1e-9 and n.start + n.duration > a + 1e-9]
    assert held == [(1, 0), (1, 4), (1, 0), (2, 9), (4, 7), (4, 7), (5, 0)]  # notes are held over bar lines ...
    assert all(pc in progression[k % 4][0].pitch_classes for k, pc in held)  # ... but only the new bar's chord tones
    spans = spans[:8]  # the 8 bars asked (the primed step of silence puts the last note's end one step into a 9th)
    assert bar_agreement(got[0].files["mid"], progression, (piece, spans)) == {"bars": 8, "chord": 8, "root": 8}
