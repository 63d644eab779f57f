"""Every sample of a batch is as long as asked: ``--bars 4`` with ``-n 3`` gives three pieces of
four bars each (a batch samples until its slowest sample is done; the others are cut at their
own goal). Lengths are measured here from the written MIDI files with mido, not with Cadenza's
own reader: the last note's end against the end of the fourth bar of the file's own metre."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import mido
import pytest

from cadenza.codecs import get_codec
from cadenza.generation import generate
from cadenza.generation.new_pieces import to_goal


def midi_length(path: Path, bars: int) -> tuple[float, float, float]:
    """(where the last note ends, where bar ``bars`` ends, a beat there), in quarter notes, from
    the file's note-offs and time signatures (a short opening bar counts as a bar)."""
    mf = mido.MidiFile(path)
    sigs, last = [], 0
    for track in mf.tracks:
        t = 0
        for msg in track:
            t += msg.time
            if msg.type == "time_signature":
                sigs.append((t, msg.numerator, msg.denominator))
            elif msg.type == "note_off" or (msg.type == "note_on" and msg.velocity == 0):
                last = max(last, t)
    q = mf.ticks_per_beat
    sigs = sorted({(t / q, n, d) for t, n, d in sigs}) or [(0.0, 4, 4)]
    at, count, beat = 0.0, 0, 1.0
    while count < bars:
        _, n, d = [s for s in sigs if s[0] <= at + 1e-9][-1]
        beat = 4 / d
        nxt = [s[0] for s in sigs if s[0] > at + 1e-9]
        at = min(at + n * beat, nxt[0]) if nxt else at + n * beat  # a new signature starts a new bar
        count += 1
    return last / q, at, beat


@pytest.mark.slow
@pytest.mark.parametrize("model, seed, n", [("piano-notewise", 11, 3), ("bach-notewise", 11, 3), ("piano-notewise", 4, 3), ("mozart-kern", 11, 3),
                                           ("piano-notewise", 11, 1)])  # alone, it ran 2 beats long: the goal is checked every 64 words
def test_every_sample_of_a_batch_has_the_bars_asked_for(tmp_path, model, seed, n):
    samples = generate(model, tmp_path, n=n, bars=4, seed=seed, formats=("krn", "mid"))
    assert len(samples) == n
    for s in samples:
        end, four_bars, beat = midi_length(s.files["mid"], 4)
        assert abs(end - four_bars) <= beat / 2, (s.index, end, four_bars)


@pytest.mark.slow
def test_the_command_line_writes_the_bars_asked_for(tmp_path):
    res = subprocess.run([sys.executable, "-m", "cadenza", "generate", "--model", "piano-notewise", "-n", "3", "--bars", "4", "--seed", "7", "-o", str(tmp_path)],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    files = sorted(tmp_path.glob("sample-*.mid"))
    assert len(files) == 3
    for f in files:
        end, four_bars, beat = midi_length(f, 4)
        assert abs(end - four_bars) <= beat / 2, (f.name, end, four_bars)


def test_a_sample_is_cut_at_its_own_goal_and_its_notes_released():
    codec = get_codec("notewise", {"steps_per_quarter": 4})
    vocab = [f"wait{k}" for k in range(1, 17)] + ["p20", "endp20", "p22", "endp22", "p24", "endp24"]
    prime = ["wait1"]
    goal = codec.length_goal(prime, {"time_signature": [2, 4]}, bars=1)  # two quarters from the silent prime: grid step 8
    ids = [vocab.index(w) for w in prime]

    def words(text: str) -> list[int]:
        return [vocab.index(w) for w in text.split()]

    long = to_goal(codec, vocab, ids, words("p20 wait4 endp20 p22 wait16 endp22 p24 wait8 endp24"), goal)
    assert [vocab[j] for j in long] == "p20 wait4 endp20 p22 wait3 endp22".split()  # the wait across the goal shortened, p22 released
    short = words("p20 wait2 endp20")
    assert to_goal(codec, vocab, ids, short, goal) == short  # never reached: kept whole
    exact = words("p20 wait7 endp20")
    assert to_goal(codec, vocab, ids, exact, goal) == exact


def test_a_chordwise_sample_is_cut_after_whole_steps():
    codec = get_codec("chordwise", {"steps_per_quarter": 4, "note_range": 38})
    chord = "p1" + "0" * 37
    vocab = ["a", "b", chord]
    goal = codec.length_goal(["a"], {"time_signature": [2, 4]}, bars=1)  # two quarters: eight steps
    held = to_goal(codec, vocab, [0], [2] + [1] * 12, goal)  # a note struck at step 2, held on for 12 steps
    assert held == [2] + [1] * 6
    assert codec.decode(" ".join(vocab[j] for j in [0] + held), {}).piece.end == 2.0
