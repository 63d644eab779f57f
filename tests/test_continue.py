"""Continuing the user's own MIDI file, and piano + violin duets, on real files."""

from __future__ import annotations

import shutil

import pytest

from cadenza import CadenzaError
from cadenza.data.dataset import load_split
from cadenza.data.prepare import prepare
from cadenza.music import Note, Piece, Track, read_midi, write_midi
from cadenza.generation import continue_piece, generate, prompt_excerpt, read_prompt
from cadenza.training import train, TrainConfig
from conftest import shared

TINY = TrainConfig(rnn_size=48, num_layers=1, seq_length=64, batch_size=8, max_steps=40, eval_every=20, eval_batches=2, seed=2, threads=1)


def _piano_run(tmp_path_factory, codec: str):
    src = shared("midi", "piano-midi", "Mozart")
    files = sorted(src.glob("mz_3*.mid"))[:4]
    root = tmp_path_factory.mktemp(codec)
    prepare([str(f) for f in files], root / "ds", codec, {"steps_per_quarter": 4}, workers=1)
    train(root / "ds", root / "run", TINY)
    return root / "run"


@pytest.fixture(scope="module")
def piano_run(tmp_path_factory):
    return _piano_run(tmp_path_factory, "notewise")


@pytest.fixture(scope="module")
def chordwise_run(tmp_path_factory):
    return _piano_run(tmp_path_factory, "chordwise")


def _notes(piece: Piece) -> list[tuple]:
    return sorted((round(n.start, 3), n.pitch, round(n.duration, 3)) for t in piece.tracks for n in t.notes)


@pytest.mark.parametrize("which", ["piano_run", "chordwise_run"])
def test_continuation_keeps_the_prompt_notes_exactly(tmp_path, which, request):
    piano_run = request.getfixturevalue(which)
    prompt = shared("midi", "piano-midi", "Mozart", "mz_545_1.mid")  # not in the training files
    excerpt, start = prompt_excerpt(read_prompt(prompt), bars=4)
    assert start > 0 and excerpt.end <= 16 + 1e-6
    samples = continue_piece(piano_run, prompt, tmp_path, n=2, seed=1, prompt_bars=4, bars=2)
    for s in samples:
        full = read_midi(s.files["mid"])
        boundary = s.stats["prompt_quarters"]
        head = Piece([Track(t.name, t.program, [n for n in t.notes if n.start < boundary - 1e-6]) for t in full.tracks])
        assert _notes(head) == _notes(excerpt)
        cont = read_midi(s.files["continuation"])
        assert 0 < cont.end <= 8 + 1e-6  # two 4/4 bars asked
        assert full.tempos[0][1] == pytest.approx(excerpt.tempos[0][1])
        assert [t.program for t in full.tracks] == [0]


def test_prompt_the_model_cannot_express_is_refused_and_out_of_range_notes_are_folded(tmp_path, piano_run):
    flute = Piece([Track("Flute", 73, [Note(0, 72, 1), Note(1, 74, 1)])])
    path = write_midi(flute, tmp_path / "flute.mid")
    with pytest.raises(CadenzaError, match="instruments p but the prompt has fl"):
        continue_piece(piano_run, path, tmp_path / "o")
    low = Piece([Track("Piano", 0, [Note(0, 22, 1)])])  # below the 62-key range: read an octave up
    path = write_midi(low, tmp_path / "low.mid")
    s = continue_piece(piano_run, path, tmp_path / "o", length=20)
    assert s[0].stats["prompt_notes_folded"] == 1
    assert [n.pitch for n in read_midi(s[0].files["mid"]).notes if n.start < s[0].stats["prompt_quarters"]] == [22]  # written as played
    bad = tmp_path / "bad.mid"
    bad.write_bytes(b"not midi at all")
    with pytest.raises(CadenzaError, match="bad.mid"):
        continue_piece(piano_run, bad, tmp_path / "o")


def test_generate_for_seconds(tmp_path, piano_run):
    """``--seconds 4``: each sample's MIDI file lasts 4 s at the model's tempo (the tempo of its
    training pieces, written into the file), cut on the codec's grid: at least 4 s, less than
    one grid step more."""
    import json

    import mido

    config = json.loads((piano_run / "config.json").read_text())
    qpm = config["context"]["tempo"]
    step_s = 60.0 / qpm / config["codec_options"]["steps_per_quarter"]
    s = generate(piano_run, tmp_path, n=2, seed=0, seconds=4.0)
    for x in s:
        midi = mido.MidiFile(x.files["mid"])
        tempos = [m.tempo for t in midi.tracks for m in t if m.type == "set_tempo"]
        assert len(tempos) == 1 and mido.tempo2bpm(tempos[0]) == pytest.approx(qpm, abs=0.01), tempos
        tick_s = mido.tick2second(1, midi.ticks_per_beat, tempos[0])
        assert 4.0 - tick_s <= midi.length < 4.0 + step_s + tick_s, (midi.length, step_s)


@pytest.mark.parametrize("codec", ["notewise", "chordwise"])
def test_violin_piano_duet_keeps_both_parts(tmp_path, codec):
    duets = [shared("midi", "chamber", "score", name) for name in ("2342_vns08_3.mid", "2420_lvb12n2c.mid")]
    src = tmp_path / "duets"
    src.mkdir()
    for d in duets:
        shutil.copy(d, src / d.name)
    prepare([str(src)], tmp_path / "ds", codec, {"steps_per_quarter": 4}, workers=1, val_fraction=0.0, test_fraction=0.0)
    words = load_split(tmp_path / "ds", "train").split()
    assert any(w.startswith("v") for w in words) and any(w.startswith("p") for w in words)
    train(tmp_path / "ds", tmp_path / "run", TrainConfig(rnn_size=32, num_layers=1, seq_length=64, batch_size=8, max_steps=30, eval_every=30, eval_batches=1, threads=1))
    # continue the duet from its own last bars: the output holds a named violin and piano track
    samples = continue_piece(tmp_path / "run", duets[0], tmp_path / "out", prompt_bars=2, bars=2, seed=4)
    full = read_midi(samples[0].files["mid"])
    names = {t.program: t.name for t in full.tracks}
    assert set(names) == {0, 40} and "Violin" in names[40] and "Piano" in names[0]


@pytest.mark.parametrize("which", ["piano_run", "chordwise_run"])
def test_form_aab_for_midi_codecs(tmp_path, which, request):
    """Phrase A, its exact repetition, then B opening like A: on the grid, for both MIDI codecs."""
    run = request.getfixturevalue(which)
    s = generate(run, tmp_path, n=1, seed=3, form="AAB", phrase_bars=1)[0]
    assert [m["made"] for m in s.stats["phrases"]] == ["new", "repeat", "vary"]
    import json

    num, den = json.loads((run / "config.json").read_text())["context"].get("time_signature", [4, 4])
    bar = num * 4 / den
    piece = read_midi(s.files["mid"])
    spq_step = 0.25  # the default prime is one grid step of silence (4 steps per quarter)
    notes = sorted((round(n.start - spq_step, 3), n.pitch) for t in piece.tracks for n in t.notes)
    a = [(t, p) for t, p in notes if 0 <= t < bar]
    a2 = [(round(t - bar, 3), p) for t, p in notes if bar <= t < 2 * bar]
    b = [(round(t - 2 * bar, 3), p) for t, p in notes if 2 * bar <= t < 2.5 * bar]
    assert a and a == a2
    assert b == [(t, p) for t, p in a if t < bar / 2]
