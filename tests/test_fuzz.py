"""Fuzzing the readers and decoders with random and mutated real input (hypothesis): a reader
either gives music or a one-line :class:`CadenzaError` naming the file; a decoder of generated
words never raises at all (a model may write anything)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cadenza import CadenzaError
from conftest import SHARED

# 40 examples a test in the suite; CADENZA_FUZZ_EXAMPLES=2000 for a long hunt
FUZZ = settings(max_examples=int(os.environ.get("CADENZA_FUZZ_EXAMPLES", 40)), deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

MIDI_SEED = SHARED / "midi" / "piano-midi" / "Mozart" / "mz_545_1.mid"
KERN_SEED = SHARED / "corpora" / "bach-370-chorales" / "chor001.krn"
need_shared = pytest.mark.skipif(not (MIDI_SEED.exists() and KERN_SEED.exists()), reason="../shared is not present")


@st.composite
def mutated(draw, seed: Path) -> bytes:
    """A real file damaged the ways files get damaged: bits flipped, cut short, a stretch
    overwritten, repeated or removed."""
    data = bytearray(seed.read_bytes()) if seed.exists() else bytearray(b"MThd")
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "cut", "overwrite", "repeat", "delete"]))
        if not data:
            break
        i = draw(st.integers(0, len(data) - 1))
        if kind == "flip":
            data[i] ^= 1 << draw(st.integers(0, 7))
        elif kind == "cut":
            del data[i:]
        elif kind == "overwrite":
            chunk = draw(st.binary(min_size=1, max_size=64))
            data[i : i + len(chunk)] = chunk
        elif kind == "repeat":
            j = min(len(data), i + draw(st.integers(1, 256)))
            data[i:i] = data[i:j]
        else:
            del data[i : i + draw(st.integers(1, 256))]
    return bytes(data)


def _check_reader(read, data: bytes, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"fuzzed{suffix}"
        path.write_bytes(data)
        try:
            read(path)
        except CadenzaError as exc:
            msg = str(exc)
            assert msg.startswith(str(path)) and "\n" not in msg.strip() and len(msg) < 400, msg


@need_shared
@FUZZ
@given(st.one_of(mutated(MIDI_SEED), st.binary(max_size=2000), st.binary(max_size=200).map(lambda b: b"MThd\x00\x00\x00\x06" + b)))
def test_midi_reader(data):
    from cadenza.music import read_midi

    _check_reader(read_midi, data, ".mid")


@need_shared
@FUZZ
@given(mutated(MIDI_SEED))
def test_notewise_and_chordwise_encoders_on_damaged_midi(data):
    from cadenza.codecs import get_codec

    for name in ("notewise", "chordwise"):
        codec = get_codec(name, {"steps_per_quarter": 4})
        _check_reader(codec.encode, data, ".mid")


@need_shared
@FUZZ
@given(st.one_of(mutated(KERN_SEED), st.text(max_size=400).map(str.encode)))
def test_kern_reader(data):
    from cadenza.codecs import get_codec

    _check_reader(get_codec("kern").encode, data, ".krn")


@need_shared
@FUZZ
@given(mutated(KERN_SEED))
def test_music21_reader_of_kern(data):
    from cadenza.music import read_piece_file

    _check_reader(read_piece_file, data, ".krn")


@FUZZ
@given(st.binary(max_size=600).map(lambda b: b"PK\x03\x04" + b))
def test_mxl_reader(data):
    from cadenza.music.reader import read_mxl

    _check_reader(read_mxl, data, ".mxl")


NOTEWISE_WORDS = st.one_of(st.sampled_from(["wait1", "wait12", "wait48", "wait0", "p0", "p61", "p62", "endp5", "p5", "endp99", "v3", "endv3", "va10", "fl2", "zz9", "wait", "end", ""]),
                           st.from_regex(r"(end)?[a-z]{1,3}\d{1,4}|wait\d{1,6}", fullmatch=True), st.text(max_size=8))
CHORDWISE_WORDS = st.one_of(st.sampled_from(["a", "b", "z", "p" + "0" * 62, "p" + "1" + "0" * 61, "p" + "2" * 62, "v" + "12" * 31, "p" + "0" * 61, "q" + "0" * 62]),
                            st.from_regex(r"[a-z]{1,2}[012]{60,64}", fullmatch=True), st.text(max_size=8))


@FUZZ
@given(st.lists(NOTEWISE_WORDS, max_size=300))
def test_notewise_decoder_never_raises(words):
    from cadenza.codecs import get_codec
    from cadenza.music import Piece

    codec = get_codec("notewise")
    out = codec.decode(" ".join(words), {"tempo": 100.0, "time_signature": [3, 4]})
    assert isinstance(out.piece, Piece)
    assert all(n.duration > 0 and 33 <= n.pitch < 95 for n in out.piece.notes)
    assert out.stats["dropped"] <= len(" ".join(words).split())


@FUZZ
@given(st.lists(CHORDWISE_WORDS, max_size=200))
def test_chordwise_decoder_never_raises(words):
    from cadenza.codecs import get_codec
    from cadenza.music import Piece

    codec = get_codec("chordwise")
    out = codec.decode(" ".join(words), {})
    assert isinstance(out.piece, Piece)
    assert all(n.duration > 0 and 33 <= n.pitch < 95 for n in out.piece.notes)


@FUZZ
@given(st.dictionaries(st.sampled_from(["tempo", "tempos", "time_signature", "time_signatures", "key_signatures", "instruments"]),
                       st.recursive(st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=5), lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=3), c, max_size=3), max_leaves=12)))
def test_decoders_ignore_a_damaged_context(context):
    """A dataset's generation context (or a prompt's info) that is not what it should be is
    ignored, never an error: decoding a model's words always gives a playable piece."""
    from cadenza.codecs import get_codec
    from cadenza.music import write_midi

    piece = get_codec("notewise").decode("p30 wait12 endp30 p34 wait6 endp34", context).piece
    with tempfile.TemporaryDirectory() as tmp:
        write_midi(piece, Path(tmp) / "x.mid")
