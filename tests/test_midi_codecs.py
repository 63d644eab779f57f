"""Clara's notewise and chordwise codecs: exact words for small hand-made files, round trips,
transposition, decoding of anything a model might write, and the real corpora."""

from __future__ import annotations

import random
from collections import defaultdict
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cadenza import CadenzaError
from cadenza.codecs import Decoded, Encoded, get_codec
from cadenza.codecs.chordwise import ChordwiseCodec, ChordwiseOptions
from cadenza.codecs.grid import LOWEST
from cadenza.music.instruments import INSTRUMENTS, prefix_for
from cadenza.codecs.notewise import NotewiseCodec, NotewiseOptions
from cadenza.music import Note, Piece, Track, read_midi, write_midi

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
QUICK = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

C4, D4, E4, G4, A4, A5 = 60, 62, 64, 67, 69, 81


def piano(*notes: tuple[float, int, float]) -> Track:
    return Track("Piano", 0, [Note(s, p, d) for s, p, d in notes])


def violin(*notes: tuple[float, int, float]) -> Track:
    return Track("Violin", 40, [Note(s, p, d) for s, p, d in notes])


def via_midi(tmp_path: Path, *tracks: Track, name: str = "t") -> Path:
    """Write a hand-made piece to a real MIDI file: the codecs are tested from files."""
    return write_midi(Piece(list(tracks), tempos=[(0.0, 90.0)], time_signatures=[(0.0, 3, 4)]), tmp_path / f"{name}.mid")


def notewise(tmp_path: Path, *tracks: Track, **options) -> Encoded:
    [enc] = NotewiseCodec(NotewiseOptions(steps_per_quarter=4, **options)).encode(via_midi(tmp_path, *tracks))
    return enc


# --------------------------------------------------------------------------------------------
# notewise: exact words (4 steps a quarter, 62 keys from MIDI 33: C4 is key 27)


def test_notewise_chord(tmp_path: Path) -> None:
    enc = notewise(tmp_path, piano((0, C4, 1), (0, E4, 1), (0, G4, 1)))
    assert enc.text == "p27 p31 p34 wait4 endp27 endp31 endp34"
    assert enc.name == "t"


def test_notewise_held_note_rest_and_repeated_note(tmp_path: Path) -> None:
    enc = notewise(tmp_path, piano((0, C4, 2), (3, D4, 1), (4, D4, 1)))
    assert enc.text == "p27 wait8 endp27 wait4 p29 wait4 endp29 p29 wait4 endp29"


def test_notewise_leading_rest_and_long_wait_repeats(tmp_path: Path) -> None:
    enc = notewise(tmp_path, piano((1, C4, 1), (21, C4, 0.25)))
    # 20 quarters between = 80 steps; one wait word holds at most a 4/4 bar (16 steps)
    assert enc.text == "wait4 p27 wait4 endp27 " + "wait16 " * 4 + "wait12 p27 wait1 endp27"
    assert NotewiseCodec(NotewiseOptions(4, 62, max_wait=48)).encode_piece(read_midi(via_midi(tmp_path, piano((0, C4, 20))))).text == "p27 wait48 wait32 endp27"


def test_notewise_two_instruments_violin_first_releases_first(tmp_path: Path) -> None:
    enc = notewise(tmp_path, piano((0, C4, 1), (1, E4, 1)), violin((0, A5, 1), (1, A4, 1)))
    assert enc.text == "v48 p27 wait4 endv48 endp27 v36 p31 wait4 endv36 endp31"
    assert enc.info["instruments"] == {"p": {"program": 0, "name": "Piano"}, "v": {"program": 40, "name": "Violin"}}
    assert enc.info["tempo"] == 90.0 and enc.info["time_signature"] == [3, 4]


def test_notewise_folds_notes_outside_the_range(tmp_path: Path) -> None:
    # 62 keys: MIDI 33..94. MIDI 21 (A0) -> 33, 108 (C8) -> 84 (C6), 95 -> 83
    enc = notewise(tmp_path, piano((0, 21, 1), (0, 108, 1), (0, 95, 1), (0, C4, 1)))
    assert enc.text == "p0 p27 p50 p51 wait4 endp0 endp27 endp50 endp51"
    assert enc.info["folded"] == 3
    enc38 = notewise(tmp_path, piano((0, 44, 1), (0, 83, 1)), note_range=38)  # 45..82
    assert enc38.text == "p11 p26 wait4 endp11 endp26" and enc38.info["folded"] == 2


def test_notewise_12_steps_hold_triplets(tmp_path: Path) -> None:
    enc = NotewiseCodec().encode(via_midi(tmp_path, piano((0, C4, 1 / 3), (1 / 3, D4, 1 / 3), (2 / 3, E4, 1 / 3))))[0]
    assert enc.text == "p27 wait4 endp27 p29 wait4 endp29 p31 wait4 endp31"


def test_notewise_overlapping_same_key_is_restruck(tmp_path: Path) -> None:
    # MIDI from two merged hands: a key struck while it still sounds ends the first note
    piece = Piece([piano((0, C4, 2)), Track("Piano left", 0, [Note(1, C4, 2), Note(1, E4, 1)])])
    enc = NotewiseCodec(NotewiseOptions(4)).encode_piece(piece)
    assert enc.text == "p27 wait4 endp27 p27 p31 wait4 endp31 wait4 endp27"


# --------------------------------------------------------------------------------------------
# chordwise: exact words (4 steps a quarter, 38 keys from MIDI 45: C4 is key 15)


def row(prefix: str = "p", **keys: int) -> str:
    digits = ["0"] * 38
    for k, v in keys.items():
        digits[int(k[1:])] = str(v)
    return prefix + "".join(digits)


def chordwise(tmp_path: Path, *tracks: Track) -> Encoded:
    [enc] = ChordwiseCodec(ChordwiseOptions(steps_per_quarter=4, note_range=38)).encode(via_midi(tmp_path, *tracks))
    return enc


def test_chordwise_held_chord_is_one_word_then_letters(tmp_path: Path) -> None:
    enc = chordwise(tmp_path, piano((0, C4, 1), (0, E4, 1)))
    # 2 keys struck in the last 10 steps: 'a' + 2 = 'c' for each step where nothing changes
    assert enc.text.split() == [row(k15=1, k19=1), "c", "c", "c"]


def test_chordwise_rest_is_written_where_notes_stop(tmp_path: Path) -> None:
    enc = chordwise(tmp_path, piano((0, C4, 0.5), (1, C4, 0.25), (1.25, C4, 0.25)))
    assert enc.text.split() == [row(k15=1), "b", row(), "b", row(k15=1), row(k15=1)]


def test_chordwise_two_instruments_violin_first_holds_are_2(tmp_path: Path) -> None:
    enc = chordwise(tmp_path, piano((0, C4, 0.25), (0.25, D4, 0.25)), violin((0, A4, 1)))
    assert enc.text.split() == [
        row("v", k24=1), row(k15=1),
        row("v", k24=2), row(k17=1),
        row("v", k24=2), row(),
        "d",  # 3 keys struck in the last 10 steps
    ]


def test_chordwise_folds_and_counts(tmp_path: Path) -> None:
    enc = chordwise(tmp_path, piano((0, 33, 0.25), (0, 95, 0.25)))  # 38 keys, 45..82: 33 -> 45, 95 -> 71
    assert enc.text.split() == [row(k0=1, k26=1)]
    assert enc.info["folded"] == 2


def test_chordwise_letters_count_the_last_10_steps_up_to_z() -> None:
    many = Piece([piano(*[(0.0, p, 8.0) for p in range(45, 83)])])
    words = ChordwiseCodec(ChordwiseOptions(4, 38)).encode_piece(many).text.split()
    assert words[0] == row(**{f"k{i}": 1 for i in range(38)})
    assert words[1:] == ["z"] * 10 + ["a"] * 21  # 38 keys struck (capped at 'z'), then none lately


# --------------------------------------------------------------------------------------------
# Round trips (hypothesis): what is on the grid comes back exactly

PROGRAMS = [0, 0, 1, 40, 41, 42, 45, 73, 71]


@st.composite
def grid_pieces(draw, spq: int, note_range: int):
    low = LOWEST[note_range]
    tracks = []
    for program in draw(st.lists(st.sampled_from(PROGRAMS), min_size=1, max_size=3)):
        notes = draw(
            st.lists(
                st.tuples(st.integers(0, 40), st.integers(low, low + note_range - 1), st.integers(1, 30)),
                max_size=25,
            )
        )
        tracks.append(Track(f"P{program}", program, [Note(s / spq, p, d / spq, 80) for s, p, d in notes]))
    return Piece(tracks, tempos=[(0.0, 75.0)], time_signatures=[(0.0, 6, 8)])


def expected_grid(piece: Piece, spq: int) -> dict[str, set[tuple[int, int, int]]]:
    """The rule, written out plainly: per instrument prefix and key, notes struck together keep
    the longest, and a note ends where the next of its key starts."""
    by_key: dict[tuple[str, int], dict[int, int]] = defaultdict(dict)
    for t in piece.tracks:
        for n in t.notes:
            on, off = round(n.start * spq), round((n.start + n.duration) * spq)
            starts = by_key[(prefix_for(t.program, t.name), n.pitch)]
            starts[on] = max(off, starts.get(on, 0))
    out: dict[str, set] = defaultdict(set)
    for (pre, pitch), starts in by_key.items():
        ons = sorted(starts)
        for a, b in zip(ons, ons[1:] + [None]):
            out[pre].add((a, min(starts[a], b) if b is not None else starts[a], pitch))
    return dict(out)


def decoded_grid(piece: Piece, spq: int) -> dict[str, set[tuple[int, int, int]]]:
    out: dict[str, set] = defaultdict(set)
    for t in piece.tracks:
        for n in t.notes:
            out[prefix_for(t.program, t.name)].add((round(n.start * spq), round((n.start + n.duration) * spq), n.pitch))
    return dict(out)


@pytest.mark.parametrize("codec_cls, spq, note_range", [(NotewiseCodec, 12, 62), (NotewiseCodec, 4, 88), (ChordwiseCodec, 4, 38), (ChordwiseCodec, 12, 62)])
@QUICK
@given(data=st.data())
def test_round_trip_keeps_the_notes_on_the_grid(codec_cls, spq: int, note_range: int, data) -> None:
    piece = data.draw(grid_pieces(spq, note_range))
    codec = codec_cls(codec_cls.Options(steps_per_quarter=spq, note_range=note_range))
    enc = codec.encode_piece(piece)
    dec = codec.decode(enc.text, enc.info)
    assert dec.stats["dropped"] == 0 and enc.info["folded"] == 0
    assert decoded_grid(dec.piece, spq) == expected_grid(piece, spq)
    assert dec.piece.tempos == [(0.0, 75.0)] and dec.piece.time_signatures == [(0.0, 6, 8)]
    assert codec.encode_piece(dec.piece).text == enc.text


@pytest.mark.parametrize("codec_cls", [NotewiseCodec, ChordwiseCodec])
def test_round_trip_through_a_midi_file(codec_cls, tmp_path: Path) -> None:
    rng = random.Random(7)
    codec = codec_cls(codec_cls.Options(steps_per_quarter=12))
    piece = Piece([Track("Piano", 0, [Note(rng.randrange(200) / 12, rng.randrange(33, 95), rng.randrange(1, 30) / 12) for _ in range(200)]), violin((0, A4, 3), (3, A5, 0.5))])
    enc = codec.encode_piece(piece)
    files = codec.export(codec.decode(enc.text, enc.info), tmp_path / "sample", ("mid",))
    assert files == {"mid": tmp_path / "sample.mid"}
    again = codec.encode(files["mid"])[0]
    assert again.text == enc.text
    assert again.info["instruments"] == enc.info["instruments"]


# --------------------------------------------------------------------------------------------
# Transposition


def test_notewise_transpose_shifts_keys_and_folds(tmp_path: Path) -> None:
    codec = NotewiseCodec(NotewiseOptions(4))
    enc = notewise(tmp_path, piano((0, C4, 1), (1, 94, 1)))
    assert enc.text == "p27 wait4 endp27 p61 wait4 endp61"
    up = codec.transpose(enc, 2)
    assert up.text == "p29 wait4 endp29 p51 wait4 endp51"  # 96 is past the range: an octave down
    assert up.name == "t+2" and up.info["transposed"] == 2 and up.info["folded"] == 1
    assert up.info["tempo"] == 90.0
    down = codec.transpose(enc, -3)
    assert down.text == "p24 wait4 endp24 p58 wait4 endp58" and down.name == "t-3"


@pytest.mark.parametrize("codec_cls", [NotewiseCodec, ChordwiseCodec])
@QUICK
@given(data=st.data(), shift=st.integers(-12, 12))
def test_transpose_moves_every_note_and_back(codec_cls, data, shift: int) -> None:
    piece = data.draw(grid_pieces(4, 88))
    codec = codec_cls(codec_cls.Options(steps_per_quarter=4, note_range=88))
    inside = Piece([Track(t.name, t.program, [n for n in t.notes if 21 + 12 <= n.pitch < 21 + 88 - 12]) for t in piece.tracks])
    enc = codec.encode_piece(inside)
    moved = codec.transpose(enc, shift)
    got = decoded_grid(codec.decode(moved.text, moved.info).piece, 4)
    want = {pre: {(a, b, p + shift) for a, b, p in notes} for pre, notes in expected_grid(inside, 4).items()}
    assert got == want and moved.info["folded"] == 0
    assert codec.transpose(moved, -shift).text == enc.text


def test_chordwise_transpose_folds_into_the_range() -> None:
    codec = ChordwiseCodec(ChordwiseOptions(4, 38))
    enc = codec.encode_piece(Piece([piano((0, 82, 0.25), (0, 60, 0.25))]))
    assert enc.text == row(k15=1, k37=1)
    up = codec.transpose(enc, 1)
    assert up.text == row(k16=1, k26=1) and up.info["folded"] == 1  # 83 -> 71


# --------------------------------------------------------------------------------------------
# Decoding whatever a model writes


def test_notewise_decode_skips_and_counts_bad_words() -> None:
    codec = NotewiseCodec()
    dec = codec.decode("p20 endp99 foo wait3 endp20 endp20 wait0 q5 p20 p20 WAIT4", {})
    assert dec.stats["dropped"] == 7  # endp99 (no key 99), foo, endp20 again, wait0, q5, second p20, WAIT4
    notes = dec.piece.tracks[0].notes
    assert [(n.start, n.pitch, n.duration) for n in notes] == [(0.0, 53, 0.25), (0.25, 53, 1 / 12)]
    assert dec.stats["unclosed"] == 1


def test_notewise_decode_closes_hanging_notes_within_a_bar() -> None:
    dec = NotewiseCodec().decode("p20 v40 wait100 wait100", {})
    assert [n.duration for t in dec.piece.tracks for n in t.notes] == [4.0, 4.0]
    assert dec.stats["unclosed"] == 2 and dec.stats["dropped"] == 0
    # Clara wrote a one-step note as strike and release in the same step
    assert NotewiseCodec().decode("p20 endp20 wait1", {}).piece.tracks[0].notes[0].duration == 1 / 12


def test_chordwise_decode_counts_and_repairs() -> None:
    codec = ChordwiseCodec(ChordwiseOptions(4, 38))
    text = " ".join([row(k15=2), "p01", "x" * 3, row("zz", k1=1), row(k15=2), "c", row(), row(k3=1)[:-1] + "3"])
    dec = codec.decode(text, {})
    assert dec.stats["dropped"] == 4 and dec.stats["repaired"] == 1  # a hold with nothing sounding strikes
    assert [(n.start, n.pitch, n.duration) for n in dec.piece.tracks[0].notes] == [(0.0, 60, 0.75)]


def test_chordwise_decode_new_step_when_an_instrument_comes_again() -> None:
    codec = ChordwiseCodec(ChordwiseOptions(4, 38))
    dec = codec.decode(" ".join([row(k0=1), row(k2=1), row("v", k5=1), row(k2=2)]), {})
    pitches = {(t.name, n.start, n.pitch, n.duration) for t in dec.piece.tracks for n in t.notes}
    assert pitches == {("Piano", 0.0, 45, 0.25), ("Piano", 0.25, 47, 0.5), ("Violin", 0.5, 50, 0.25)}


def test_decode_restores_context_or_falls_back() -> None:
    codec = NotewiseCodec(NotewiseOptions(4))
    enc = codec.encode_piece(Piece([Track("Flauto", 73, [Note(0, 72, 1)])], tempos=[(0.0, 66.0), (2.0, 80.0)], time_signatures=[(0.0, 2, 2)]))
    assert enc.text == "fl39 wait4 endfl39"
    dec = codec.decode(enc.text, enc.info).piece
    assert (dec.tracks[0].name, dec.tracks[0].program) == ("Flauto", 73)
    assert dec.tempos == [(0.0, 66.0), (2.0, 80.0)] and dec.time_signatures == [(0.0, 2, 2)]
    bare = codec.decode(enc.text, {}).piece
    assert (bare.tracks[0].name, bare.tracks[0].program, bare.tempos, bare.time_signatures) == ("Flute", 73, [(0.0, 120.0)], [(0.0, 4, 4)])
    # a dataset's generation context: the most common opening tempo and metre
    gen = codec.decode(enc.text, {"tempo": 90.0, "time_signature": [3, 4]}).piece
    assert gen.tempos == [(0.0, 90.0)] and gen.time_signatures == [(0.0, 3, 4)]
    junk = codec.decode(enc.text, {"tempos": "fast", "time_signatures": [[0, 0, 3]], "instruments": {"fl": 5}}).piece
    assert junk.tempos == [(0.0, 120.0)] and junk.time_signatures == [(0.0, 4, 4)] and junk.tracks[0].program == 73


VOCAB = (
    [f"p{i}" for i in range(0, 70, 7)] + [f"endp{i}" for i in range(0, 70, 7)] + ["v3", "endv3", "va10", "endva10", "fl0"]
    + [f"wait{i}" for i in (0, 1, 3, 12, 48, 99999)] + ["wait", "end", "p", "endq3", "a", "z", "Z", "p-1", "p1.5", "wait" + "9" * 40]
    + ["p" + "0" * 61 + "1", "v" + "2" * 62, "p" + "1" * 38, "p" + "3" * 62, "qq" + "1" * 62, "", "\n", "\t"]
)


@pytest.mark.parametrize("codec_cls", [NotewiseCodec, ChordwiseCodec])
@settings(max_examples=150, deadline=None)
@given(words=st.lists(st.one_of(st.sampled_from(VOCAB), st.text(max_size=8)), max_size=60))
def test_decode_never_raises(codec_cls, words: list[str]) -> None:
    codec = codec_cls()
    dec = codec.decode(" ".join(words), {})
    assert isinstance(dec, Decoded) and isinstance(dec.piece, Piece)
    assert dec.stats["dropped"] >= 0
    low = LOWEST[62]
    for t in dec.piece.tracks:
        assert t.notes and all(n.duration > 0 and low <= n.pitch < low + 62 for n in t.notes)


@pytest.mark.parametrize("codec_cls", [NotewiseCodec, ChordwiseCodec])
def test_random_text_decodes_to_a_playable_file(codec_cls, tmp_path: Path) -> None:
    rng = random.Random(3)
    words = [rng.choice(VOCAB) for _ in range(400)]
    codec = codec_cls()
    files = codec.export(codec.decode(" ".join(words), {}), tmp_path / "noise", ("krn", "mid", "musicxml"))
    assert list(files) == ["mid"] and files["mid"].exists()
    read_midi(files["mid"])


# --------------------------------------------------------------------------------------------
# Protocol, options, errors


def test_registered_with_options() -> None:
    codec = get_codec("notewise", {"steps_per_quarter": 4, "note_range": 38})
    assert isinstance(codec, NotewiseCodec) and codec.options.wait_cap == 16
    assert (codec.name, codec.unit, codec.suffixes) == ("notewise", "word", (".mid", ".midi", ".mxl", ".musicxml", ".xml", ".krn"))
    cw = get_codec("chordwise", {})
    assert isinstance(cw, ChordwiseCodec) and cw.options == ChordwiseOptions(12, 62, 10)
    for bad in ({"note_range": 61}, {"steps_per_quarter": 0}, {"max_wait": 0}):
        with pytest.raises(CadenzaError):
            get_codec("notewise", bad)


def test_every_program_has_a_prefix_and_pizzicato_follows_the_name() -> None:
    prefixes = [pre for pre, *_ in INSTRUMENTS]
    assert len(set(prefixes)) == len(prefixes) and prefixes[0] == "v" and prefixes[-1] == "p"
    assert {prefix_for(p) for p in range(128)} <= set(prefixes)
    assert [prefix_for(45, n) for n in ("Violino II", "Viola.", "Violincello", "Contrabasso", "Pizz")] == ["v", "va", "vc", "cb", "str"]
    assert (prefix_for(0), prefix_for(6), prefix_for(40), prefix_for(42), prefix_for(71), prefix_for(19)) == ("p", "p", "v", "vc", "cl", "org")


@pytest.mark.parametrize("codec_cls", [NotewiseCodec, ChordwiseCodec])
def test_corrupt_and_empty_files_name_the_file(codec_cls, tmp_path: Path) -> None:
    bad = tmp_path / "broken.mid"
    bad.write_bytes(b"MThd\x00\x00\x00\x06\x00\x01\x00\x01\x01\xe0MTrk\x00\x00\x10\x00")
    with pytest.raises(CadenzaError, match=r"broken\.mid: corrupt MIDI"):
        codec_cls().encode(bad)
    silent = write_midi(Piece([Track("Drums", 0, [Note(0, 36, 1)], is_drum=True)]), tmp_path / "drums.mid")
    with pytest.raises(CadenzaError, match=r"drums\.mid: no notes"):
        codec_cls().encode(silent)


def test_a_stray_note_hours_late_is_refused(tmp_path: Path) -> None:
    path = write_midi(Piece([piano((0, C4, 1), (60_000, C4, 1))]), tmp_path / "stray.mid")
    with pytest.raises(CadenzaError, match=r"stray\.mid: lasts 60001 quarter notes"):
        NotewiseCodec().encode(path)


CONTEXT_VALUES = st.one_of(
    st.none(), st.integers(-5, 500), st.floats(allow_nan=True), st.text(max_size=4),
    st.lists(st.lists(st.one_of(st.integers(-2, 70), st.floats()), max_size=4), max_size=3),
    st.dictionaries(st.sampled_from(["p", "v", "zz"]), st.one_of(st.integers(-1, 200), st.dictionaries(st.sampled_from(["program", "name"]), st.one_of(st.integers(-1, 200), st.text(max_size=3))))),
)


@settings(max_examples=100, deadline=None)
@given(context=st.dictionaries(st.sampled_from(["tempo", "tempos", "time_signature", "time_signatures", "key_signatures", "instruments"]), CONTEXT_VALUES))
def test_decode_never_raises_on_a_strange_context(context: dict) -> None:
    for codec in (NotewiseCodec(NotewiseOptions(4)), ChordwiseCodec(ChordwiseOptions(4, 38))):
        text = "v3 p20 wait4 endp20 endv3" if codec.name == "notewise" else f"{row('v', k3=1)} {row(k20=1)} a"
        piece = codec.decode(text, context).piece
        assert [t.program for t in piece.tracks][0] in range(128)
        assert all(t > 0 for _, t in piece.tempos) and all(d in (1, 2, 4, 8, 16, 32, 64) for _, _, d in piece.time_signatures)


# --------------------------------------------------------------------------------------------
# The real corpora in ../shared/midi


def corpus(folder: str, every: int) -> list[Path]:
    root = SHARED / "midi" / folder
    if not root.is_dir():
        pytest.skip(f"{root} not present")
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in (".mid", ".midi"))
    if not files:
        pytest.skip(f"no MIDI files in {root}")
    return files[::every]


@pytest.mark.parametrize("folder, every", [("piano-midi", 15), ("nottingham-folk/MIDI", 13), ("chamber/score", 1)])
@pytest.mark.parametrize("codec_cls, options", [(NotewiseCodec, {}), (ChordwiseCodec, {}), (NotewiseCodec, {"steps_per_quarter": 4, "note_range": 38})])
def test_real_files_encode_and_decode_back(folder: str, every: int, codec_cls, options) -> None:
    codec = codec_cls(codec_cls.Options(**options))
    for path in corpus(folder, every):
        [enc] = codec.encode(path)
        assert enc.name == path.stem and len(enc.text.split()) > 50, path
        dec = codec.decode(enc.text, enc.info)
        assert dec.stats["dropped"] == 0 and dec.stats["notes"] == enc.info["notes"], path
        assert codec.encode_piece(dec.piece).text == enc.text, path


def test_chamber_instruments_get_their_own_words() -> None:
    files = {p.name: p for p in corpus("chamber/score", 1)}
    if "1824_kv_421_3.mid" not in files:
        pytest.skip("Mozart quartet K. 421 not in the chamber folder")
    [quartet] = NotewiseCodec().encode(files["1824_kv_421_3.mid"])
    assert set(quartet.info["instruments"]) == {"v", "va", "vc"}  # pizzicato tracks follow their names
    words = set(quartet.text.split())
    assert any(w.startswith("va") for w in words) and any(w.startswith("vc") for w in words)
