"""The note model and its MIDI I/O: what survives a file round trip, and what a bad file says."""

from __future__ import annotations

from pathlib import Path

import pytest

from cadenza import CadenzaError
from cadenza.music import Note, Piece, Track, read_midi, write_midi


def test_round_trip_keeps_notes_tempo_metre_key_and_instruments(tmp_path: Path) -> None:
    piece = Piece(
        [
            Track("Violin I", 40, [Note(0.0, 76, 1.5, 90), Note(1.5, 74, 0.5, 70)]),
            Track("Cello", 42, [Note(0.0, 48, 3.0, 60), Note(1 / 3, 55, 1 / 3)]),
        ],
        tempos=[(0.0, 100.0), (3.0, 72.5)],
        time_signatures=[(0.0, 3, 4), (3.0, 6, 8)],
        key_signatures=[(0.0, -2, 1)],
    )
    back = read_midi(write_midi(piece, tmp_path / "duo.mid"))
    assert back.name == "duo"
    assert [(t.name, t.program) for t in back.tracks] == [("Violin I", 40), ("Cello", 42)]
    assert back.tracks[0].notes == piece.tracks[0].notes
    cello = back.tracks[1].notes
    assert [(n.pitch, n.velocity) for n in cello] == [(48, 60), (55, 80)]
    assert cello[1].start == pytest.approx(1 / 3) and cello[1].duration == pytest.approx(1 / 3)
    assert [(q, round(t, 2)) for q, t in back.tempos] == [(0.0, 100.0), (3.0, 72.5)]
    assert back.time_signatures == [(0.0, 3, 4), (3.0, 6, 8)]
    assert back.key_signatures == [(0.0, -2, 1)]


def test_piano_hands_merge_violins_stay_apart_drums_go(tmp_path: Path) -> None:
    piece = Piece(
        [
            Track("Piano right", 0, [Note(0.0, 72, 1.0), Note(1.0, 74, 1.0)]),
            Track("Piano left", 0, [Note(0.0, 48, 2.0)]),
            Track("Violin 1", 40, [Note(0.0, 79, 2.0)]),
            Track("Violin 2", 40, [Note(0.0, 76, 2.0)]),
            Track("Drums", 0, [Note(0.0, 36, 0.5)], is_drum=True),
        ]
    )
    back = read_midi(write_midi(piece, tmp_path / "x.mid"))
    assert [(t.name, t.program, len(t.notes)) for t in back.tracks] == [("Piano", 0, 3), ("Violin 1", 40, 1), ("Violin 2", 40, 1)]
    assert [n.pitch for n in back.tracks[0].notes] == [48, 72, 74]  # merged in time order
    assert all(not t.is_drum for t in back.tracks)


def test_defaults_when_the_file_sets_no_tempo_or_metre(tmp_path: Path) -> None:
    piece = Piece([Track("", 73, [Note(0.0, 72, 1.0)])], tempos=[], time_signatures=[])
    back = read_midi(write_midi(piece, tmp_path / "bare.mid"))
    assert back.tempos == [(0.0, 120.0)] and back.time_signatures == [(0.0, 4, 4)]
    assert back.tracks[0].name == "Flute"  # unnamed track: its General MIDI name


@pytest.mark.parametrize(
    "content, problem",
    [
        (b"", "empty file"),
        (b"hello, I am a text file\n", "not a MIDI file"),
        (b"MThd\x00\x00\x00\x06\x00\x01\x00\x02\x01\xe0MTrk\x00\x00\x01\x00\x00\x90", "corrupt MIDI"),
        (b"MThd\x00\x00", "corrupt MIDI"),
    ],
)
def test_bad_files_name_the_file_in_one_line(tmp_path: Path, content: bytes, problem: str) -> None:
    path = tmp_path / "bad.mid"
    path.write_bytes(content)
    with pytest.raises(CadenzaError) as err:
        read_midi(path)
    msg = str(err.value)
    assert msg.startswith(f"{path}: ") and problem in msg and "\n" not in msg


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CadenzaError, match="nothere.mid: cannot read"):
        read_midi(tmp_path / "nothere.mid")


def test_write_to_a_missing_folder_is_a_cadenza_error(tmp_path: Path) -> None:
    with pytest.raises(CadenzaError, match="cannot write MIDI"):
        write_midi(Piece([Track("Piano", 0, [Note(0.0, 60, 1.0)])]), tmp_path / "no" / "x.mid")


def test_notes_past_what_midi_can_time_are_a_cadenza_error(tmp_path: Path) -> None:
    with pytest.raises(CadenzaError, match="past what MIDI can time"):
        write_midi(Piece([Track("Piano", 0, [Note(5_000_000.0, 60, 1.0)])]), tmp_path / "late.mid")


def test_transpose_shifts_pitches_folds_at_the_edges_and_moves_the_key() -> None:
    piece = Piece(
        [Track("Piano", 0, [Note(0.0, 60, 1.0), Note(1.0, 126, 1.0)]), Track("Kit", 0, [Note(0.0, 36, 1.0)], is_drum=True)],
        key_signatures=[(0.0, 0, 0), (4.0, -3, 1)],
    )
    up = piece.transpose(2)
    assert [n.pitch for n in up.tracks[0].notes] == [62, 116]  # 128 is past MIDI: an octave down
    assert up.tracks[1].notes[0].pitch == 36  # drums are not transposed
    assert up.key_signatures == [(0.0, 2, 0), (4.0, -1, 1)]  # C -> D, C minor -> D minor
    assert [n.pitch for n in piece.tracks[0].notes] == [60, 126]  # the original is untouched
    assert piece.transpose(-7).key_signatures[0] == (0.0, -1, 0)  # C -> F


def test_slice_moves_notes_and_carries_the_tempo_in_force() -> None:
    piece = Piece(
        [Track("Piano", 0, [Note(0.0, 60, 1.0), Note(2.0, 62, 3.0), Note(4.0, 64, 1.0), Note(6.0, 65, 1.0)])],
        tempos=[(0.0, 100.0), (3.0, 80.0), (5.0, 60.0)],
        time_signatures=[(0.0, 4, 4), (4.0, 3, 4)],
    )
    part = piece.slice(2.0, 6.0)
    assert part.tracks[0].notes == [Note(0.0, 62, 3.0), Note(2.0, 64, 1.0)]
    assert part.tempos == [(0.0, 100.0), (1.0, 80.0), (3.0, 60.0)]
    assert part.time_signatures == [(0.0, 4, 4), (2.0, 3, 4)]
    assert piece.slice(3.0, 5.0).tracks[0].notes == [Note(1.0, 64, 1.0)]
    assert piece.slice(4.5, 6.5).tracks[0].notes == [Note(1.5, 65, 0.5)]  # cut at the end


def test_a_musicxml_key_without_mode_takes_the_mode_of_its_notes(tmp_path: Path) -> None:
    """MusicXML may give a key as fifths alone: an A-minor tune (with its G#s) written that way
    reads as A minor, a C-major one as C major, so a kern model is told the right key."""
    from music21 import key, meter, note, stream

    from cadenza.music.m21 import score_to_piece

    def tune(pitches: str) -> Path:
        s = stream.Stream([meter.TimeSignature("4/4"), key.KeySignature(0)] + [note.Note(p, quarterLength=1) for p in pitches.split()])
        path = tmp_path / f"{pitches.split()[0]}.musicxml"
        s.write("musicxml", fp=str(path))
        assert "<mode>" not in path.read_text()  # the file itself does not say
        return path

    from music21 import converter

    minor = score_to_piece(converter.parse(str(tune("A4 C5 E5 G#4 A4 B4 C5 B4 G#4 E4 A4 A3"))))
    major = score_to_piece(converter.parse(str(tune("C4 E4 G4 C5 B4 G4 F4 D4 E4 G4 C4 C4"))))
    assert minor.key_signatures[0][1:] == (0, 1) and major.key_signatures[0][1:] == (0, 0)
