"""Piece -> **kern (issue #10): MIDI and MusicXML files become kern scores that music21 reads,
whose bars fill their metres and whose notes are the file's, so a kern model can continue them."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest

from cadenza import CadenzaError
from cadenza.codecs.kern import KernCodec
from cadenza.music.humdrum.to_piece import kern_to_piece
from cadenza.music.humdrum.writer import piece_to_kern
from cadenza.music import read_midi, read_piece_file
from cadenza.music.m21 import parse_kern, score_to_piece
from conftest import shared


def _notes(piece) -> list[tuple[float, int, float]]:
    return sorted((round(n.start, 6), n.pitch, round(n.duration, 6)) for t in piece.tracks for n in t.notes)


def _unisons_merged(piece) -> list[tuple[float, int, float]]:
    """The notes, two voices on one pitch at once read as one (the longer): what one staff holds."""
    got: dict[tuple[float, int], float] = {}
    for start, pitch, dur in _notes(piece):
        got[(start, pitch)] = max(dur, got.get((start, pitch), 0.0))
    return sorted((s, p, d) for (s, p), d in got.items())


def _onsets(piece) -> set[tuple[float, int]]:
    return {(round(n.start, 6), n.pitch) for t in piece.tracks for n in t.notes}


def _on_grid(piece) -> bool:
    """Each beat's onsets on sixteenths or on triplet eighths (a score's MIDI, not a performance's)."""
    beats: dict[int, list[float]] = {}
    for n in piece.notes:
        beats.setdefault(int(n.start + 1e-9), []).append(n.start)
    return bool(beats) and all(any(all(abs(x * g - round(x * g)) < 1e-6 for x in xs) for g in (4, 3)) for xs in beats.values())


def _body(kern: str) -> str:
    """The music: from the first barline on."""
    return kern[re.search(r"^=", kern, re.M).start():]


def _check_score(kern: str) -> object:
    """music21 parses ``kern`` and every bar of every staff lasts its time signature's bar."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        score = parse_kern(kern)
    for part in score.parts:
        ts = None
        for m in part.getElementsByClass("Measure"):
            ts = m.timeSignature or ts
            assert ts is not None
            assert m.duration.quarterLength == ts.barDuration.quarterLength, (m.number, ts.ratioString)
    return score


def _chorale() -> Path:
    from music21 import corpus

    return Path(str(corpus.getWork("bwv66.6")))  # an .mxl of four parts, F# minor, a quarter-note pickup


def test_folk_tunes_from_midi_are_kern_scores_with_their_notes():
    files = sorted(shared("midi", "nottingham-folk", "MIDI").glob("*.mid"))[::40]
    tried = 0
    for path in files:
        piece = read_midi(path)
        if not _on_grid(piece):
            continue
        tried += 1
        kern = piece_to_kern(piece, 2)
        score = _check_score(kern)
        assert _notes(kern_to_piece(kern)) == _notes(piece), path  # onsets, pitches and durations, ties merged
        assert _onsets(score_to_piece(score)) == _onsets(piece), path  # as music21 reads them too
        num, den = piece.time_signatures[0][1:]
        assert f"*M{num}/{den}\t*M{num}/{den}" in kern
        fifths = piece.key_signatures[0][1]
        sig = re.search(r"^\*k\[([^\]]*)\]", kern, re.M).group(1)
        assert sig.count("#") - sig.count("-") == fifths
        if fifths > 0:
            assert not re.search(r"[a-gA-G]-", _body(kern))  # sharps in a sharp key
        lines = kern.rstrip("\n").split("\n")
        assert lines[-2:] == ["==\t==", "*-\t*-"] and "=2\t=2" in lines
    assert tried >= 3


def test_a_chorale_from_musicxml_on_two_staves_and_on_four():
    path = _chorale()
    piece = read_piece_file(path)
    two = piece_to_kern(piece, 2)
    _check_score(two)
    assert _notes(kern_to_piece(two)) == _unisons_merged(piece)  # alto, tenor or bass in unison: one note
    low, high = kern_to_piece(two).tracks
    assert max(n.pitch for n in low.notes) < 60 <= min(n.pitch for n in high.notes)  # split at middle C
    assert "*clefF4\t*clefG2" in two and "*k[f#c#g#]" in two and "*f#:" in two
    assert re.search(r"\d[eE]+#", _body(two))  # the raised seventh of F# minor, E#, not F
    assert "*M1/4\t*M1/4" in two and "*M4/4\t*M4/4" in two  # the pickup bar, then the metre
    four = piece_to_kern(piece, 4)
    _check_score(four)
    tracks = kern_to_piece(four).tracks
    means = [sum(n.pitch for n in t.notes) / len(t.notes) for t in tracks]
    assert means == sorted(means)  # bass first, soprano last, as Humdrum orders staves
    assert sorted(_notes(kern_to_piece(four))) == _notes(piece)


def test_triplets_and_a_flat_minor_key_from_a_kern_score():
    path = shared("corpora", "chopin-preludes", "prelude28-14.krn")  # E-flat minor, triplet eighths
    piece = read_piece_file(path)
    kern = piece_to_kern(piece, 2)
    _check_score(kern)
    assert _notes(kern_to_piece(kern)) == _notes(piece)
    body = _body(kern)
    assert re.search(r"(^|\s|\[)12[a-gA-G]", body, re.M)  # triplet eighths kept as triplets
    assert "#" not in body  # flats in a flat key


def test_a_kern_model_continues_a_midi_file(tmp_path):
    from cadenza.generation import continue_piece

    mid = next(p for p in sorted(shared("midi", "nottingham-folk", "MIDI").glob("jigs*.mid")) if _on_grid(read_midi(p)))
    samples = continue_piece("mozart-kern", mid, tmp_path, n=1, seed=3, prompt_bars=4, bars=2)
    converted = tmp_path / f"{mid.stem}-prompt.krn"
    user = converted.read_text()
    assert _notes(kern_to_piece(user)) == _notes(read_midi(mid))
    s = samples[0]
    assert s.files["prompt"] == converted
    out = s.files["krn"].read_text()
    body = user.rstrip("\n").split("\n")[:-2]  # up to the user's closing == and *-
    assert out.split("\n")[: len(body)] == body  # the converted bars, unchanged
    assert s.stats["bars"] == 2 and s.stats["metre"] == "6/8"
    end = kern_to_piece(user).end
    assert [x for x in _notes(kern_to_piece(out)) if x[0] < end] == [x for x in _notes(kern_to_piece(user))]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        score = parse_kern(out)
    assert len(score.parts[0].getElementsByClass("Measure")) == len(re.findall(r"^=\d+", user, re.M)) + 2


def test_a_four_staff_model_takes_four_parts_and_refuses_one(tmp_path):
    codec = KernCodec()
    vocab = sorted(set(piece_to_kern(read_piece_file(_chorale()), 4)) | {"@"})
    context = {"header": {"spines": 4}, "cleaning": 2}
    prime, ctx, kp = codec.prompt_file(_chorale(), 2, vocab, context, tmp_path)
    assert ctx["header"]["spines"] == 4 and ctx["header"]["meter"] == "*M4/4"
    assert all(len(x.split("\t")) == 4 for x in prime.split("\n") if x and x != "@")
    assert Path(ctx["converted_prompt"]).read_text() == kp.user_text
    mid = next(iter(sorted(shared("midi", "nottingham-folk", "MIDI").glob("*.mid"))))
    with pytest.raises(CadenzaError, match=r"\.mid: 1 part\(s\), but the model writes 4 staves"):
        codec.prompt_file(mid, 2, vocab, context, tmp_path)
    with pytest.raises(CadenzaError, match="no notes"):
        piece_to_kern(read_midi(mid).slice(0, 0), 2)


def test_a_kern_model_continues_a_musicxml_chorale(tmp_path):
    from cadenza.generation import continue_piece

    samples = continue_piece("mozart-kern", _chorale(), tmp_path, n=2, seed=1, prompt_bars=2, bars=1)
    user = (tmp_path / "bwv66.6-prompt.krn").read_text()
    body = user.rstrip("\n").split("\n")[:-2]
    assert [s.files["krn"].name for s in samples] == ["bwv66.6-01.krn", "bwv66.6-02.krn"]  # the dot in the name kept
    for s in samples:
        out = s.files["krn"].read_text()
        assert out.split("\n")[: len(body)] == body
        _check_score(out)
