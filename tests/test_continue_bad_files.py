"""Prompts `generate --prompt` once got wrong (issue #24), written here as they were.

Both hands on one key: a note held over a shorter one of the same pitch survives writing and
reading MIDI, and a continuation keeps such a prompt's notes exactly (37 notes in 4 of 40
continuations came back with their lengths swapped once the hands were merged). A metre change
inside the prompt bars: the last bars are counted back through it, not the whole piece taken."""

from __future__ import annotations

from pathlib import Path

from cadenza.music import Note, Piece, Track, read_midi, write_midi

# right hand holds C4 for a bar while the left strikes it twice; E4 overlaps itself staggered
RIGHT = [Note(0.0, 60, 4.0), Note(4.0, 64, 2.0), Note(6.0, 67, 2.0)]
LEFT = [Note(1.0, 60, 1.0), Note(2.5, 60, 0.5), Note(5.0, 64, 2.0), Note(6.0, 48, 2.0)]


def _hands(path: Path) -> Path:
    return write_midi(Piece([Track("Right", 0, RIGHT), Track("Left", 0, LEFT)], [(0.0, 90.0)], [(0.0, 4, 4)], path.stem), path)


def test_same_pitch_overlaps_round_trip_through_midi(tmp_path):
    import mido

    piece = read_midi(_hands(tmp_path / "hands.mid"))
    assert [t.program for t in piece.tracks] == [0]  # the hands are one piano
    assert piece.tracks[0].notes == sorted(RIGHT + LEFT)
    again = read_midi(write_midi(piece, tmp_path / "again.mid"))  # one track in: the same notes out
    assert again.tracks[0].notes == sorted(RIGHT + LEFT) and again.tracks[0].name == piece.tracks[0].name
    # written as two tracks of the same piano: the held C4 and E4 apart from the notes under them
    tracks = [t for t in mido.MidiFile(tmp_path / "again.mid").tracks if any(m.type == "note_on" for m in t)]
    assert len(tracks) == 2
    lone = read_midi(write_midi(Piece([Track("Piano", 0, sorted(RIGHT))]), tmp_path / "lone.mid"))
    assert len([t for t in mido.MidiFile(tmp_path / "lone.mid").tracks if any(m.type == "note_on" for m in t)]) == 1
    assert lone.tracks[0].notes == sorted(RIGHT)  # nothing overlaps: one track, as before


def test_continuation_keeps_both_hands_on_one_key_exactly(tmp_path):
    from cadenza.generation import continue_piece

    src = _hands(tmp_path / "hands.mid")
    samples = continue_piece("piano-notewise", src, tmp_path / "out", n=2, seed=1, prompt_bars=4, bars=1)
    for s in samples:
        assert s.stats["prompt_quarters"] == 8.0
        full = read_midi(s.files["mid"])
        head = [n for t in full.tracks for n in t.notes if n.start < 8.0]
        assert sorted(head) == sorted(RIGHT + LEFT)


def test_prompt_bars_count_back_through_a_metre_change(tmp_path):
    """50 bars of 4/4, then two of 3/4: ``--prompt-bars 4`` is the last two 4/4 bars and both 3/4
    ones (14 quarters), where counting in the last metre alone once took the whole piece."""
    from cadenza.generation import continue_piece

    notes = [Note(float(q), 60 + q % 12, 1.0) for q in range(200)] + [Note(200.0 + q, 72, 1.0) for q in range(6)]
    src = write_midi(Piece([Track("Piano", 0, notes)], [(0.0, 100.0)], [(0.0, 4, 4), (200.0, 3, 4)], "metre"), tmp_path / "metre.mid")
    s = continue_piece("piano-notewise", src, tmp_path / "out", n=1, seed=1, prompt_bars=4, bars=1)[0]
    assert s.stats["prompt_quarters"] == 14.0
    full = read_midi(s.files["mid"])
    assert [n for n in full.notes if n.start < 14.0] == [Note(q - 192.0, n.pitch, 1.0) for q, n in ((n.start, n) for n in notes[192:])]
    assert full.time_signatures == [(0.0, 4, 4), (8.0, 3, 4)]
