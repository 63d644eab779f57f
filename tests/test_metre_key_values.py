"""The metre and key as values (music/metre_key.py): parsed once where a request is made, read
back from their own text, and written as kern tokens only by the kern codec."""

from __future__ import annotations

import pytest

from cadenza import CadenzaError
from cadenza.codecs.kern.conditioning import parse_key, parse_metre
from cadenza.generation import Request
from cadenza.music.metre_key import Key, Metre


def test_metre_reads_and_writes_a_time_signature():
    assert Metre.parse(" 6 / 8 ") == Metre(6, 8) and str(Metre(3, 4)) == "3/4"
    assert Metre.parse(Metre(2, 2)) == Metre(2, 2)
    for bad in ("3", "3/", "three/4", "0/4"):
        with pytest.raises(CadenzaError, match="--metre"):
            Metre.parse(bad)


@pytest.mark.parametrize("text,tonic,mode,fifths,written", [
    ("F", "F", "major", -1, "F"), ("Bb", "Bb", "major", -2, "Bb"), ("B-", "Bb", "major", -2, "Bb"), ("Bb major", "Bb", "major", -2, "Bb"),
    ("g", "g", "minor", -2, "g"), ("G minor", "g", "minor", -2, "g"), ("bb", "bb", "minor", -5, "bb"), ("f#", "f#", "minor", 3, "f#"),
    ("G:dor", "G", "dorian", -1, "G dorian"), ("a Dorian", "a", "dorian", 1, "a dorian"), ("Gb", "Gb", "major", -6, "Gb"), ("F#", "F#", "major", 6, "F#"),
])
def test_key_keeps_its_spelling_and_mode(text, tonic, mode, fifths, written):
    key = Key.parse(text)
    assert (key.tonic, key.mode, key.fifths, str(key)) == (tonic, mode, fifths, written)
    assert Key.parse(str(key)) == key


def test_bad_keys_are_refused_in_one_line():
    for bad in ("H", "Fb#", "G:xyz", "D doric", ""):
        with pytest.raises(CadenzaError, match="--key"):
            Key.parse(bad)
    with pytest.raises(CadenzaError, match="needs 10 sharps"):
        Key.parse("A#")


def test_a_request_carries_values_and_the_kern_codec_writes_the_tokens():
    req = Request(metre="3/4", key="G dorian")
    assert req.metre == Metre(3, 4) and req.key == Key("G", "dorian")
    assert req.but(n=2).metre is req.metre  # parsed once: a value passes through unchanged
    assert parse_key(req.key) == ("*G:dor", -1) and parse_metre(req.metre) == (3, 4)
    with pytest.raises(CadenzaError, match="--metre '3/5'"):
        parse_metre(Metre(3, 5))  # a time signature, but not one the kern checker measures


def test_a_codec_says_the_metre_and_key_its_model_writes_in_unasked():
    """The page's model line reads them through the codec, never a kern token itself."""
    from cadenza.codecs import get_codec
    from cadenza.music.metre_key import Key, Metre

    kern, notewise = get_codec("kern"), get_codec("notewise")
    assert kern.usual_metre_key({"header": {"meter": "*M6/8", "key": "*B-:"}}) == (Metre(6, 8), Key.parse("Bb"))
    assert str(kern.usual_metre_key({"header": {"key": "*g:"}})[1]) == "g"
    assert kern.usual_metre_key({"header": {"meter": "*Mx", "key": "*H:"}}) == (None, None)
    assert notewise.usual_metre_key({"time_signature": [3, 4]}) == (Metre(3, 4), None)
    assert notewise.usual_metre_key({"time_signature": "3/4"}) == (None, None)
