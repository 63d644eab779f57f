"""The kern codec on hand-made and real files: cleaning, restoring, transposing, errors."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import pytest

from cadenza import CadenzaError
from cadenza.codecs import get_codec
from cadenza.codecs.kern import Header, clean, read_text, restore, transpose_text
from cadenza.music.m21 import parse_kern
from conftest import shared

SMALL = """!!!COM: Somebody
**kern\t**kern\t**dynam
*staff2\t*staff1\t*staff1/2
*>[A,A,B]\t*>[A,A,B]\t*>[A,A,B]
*>A\t*>A\t*>A
*clefF4\t*clefG2\t*
*k[b-]\t*k[b-]\t*
*F:\t*F:\t*
*M3/4\t*M3/4\t*
*MM96\t*\t*
=1-\t=1-\t=1-
4F\t4a 4cc\tp
4A\t4dd\t.
.\t.\t<
4c\t4ff\t.
=2\t=2\t=2
*\t*^\t*
!! a comment
2.F\t2.c\t2.a\tf
*\t*v\t*v\t*
*>B\t*>B\t*>B
=3\t=3\t=3
*clefG2\t*\t*
4f\t4a\t.
2r\t2g\t.
==\t==\t==
*-\t*-\t*-
"""

SMALL_CLEAN = "\n".join(
    ["*clefF4\t*clefG2", "*k[b-]\t*k[b-]", "*F:\t*F:", "*M3/4\t*M3/4", "@", "4F\t4a 4cc", "4A\t4dd", "4c\t4ff", "@", "*\t*^", "2.F\t2.c\t2.a", "*\t*v\t*v", "@", "*clefG2\t*", "4f\t4a", "2r\t2g", "@"]
) + "\n"

# F3 A4 C5 | A3 D5 | C4 F5 | F3 C4 A4 | F4 A4 | G4
SMALL_PITCHES = Counter({53: 2, 69: 3, 72: 1, 57: 1, 74: 1, 60: 2, 77: 1, 65: 1, 67: 1})


def pitches(kern: str) -> Counter:
    score = parse_kern(kern)
    out: Counter = Counter()
    for n in score.recurse().notes:
        for p in n.pitches:
            out[p.midi] += 1
    return out


def test_clean_keeps_only_the_music_and_its_header():
    body, header = clean(SMALL, "small.krn")
    assert body == SMALL_CLEAN
    assert header == Header(2, ["*clefF4", "*clefG2"], ["*k[b-]", "*k[b-]"], "*F:", "*M3/4", None, "*MM96")


def test_restore_gives_a_numbered_closed_file_music21_reads():
    body, header = clean(SMALL, "small.krn")
    kern, stats = restore(body, header)
    lines = kern.splitlines()
    assert lines[0] == "**kern\t**kern"
    assert [l.split("\t")[0] for l in lines if l.startswith("=")] == ["=1-", "=2", "=3", "=="]
    assert lines[-1] == "*-\t*-"
    assert stats.get("lines_repaired", 0) == 0 and stats.get("lines_dropped", 0) == 0
    assert pitches(kern) == SMALL_PITCHES


def test_restore_repairs_broken_model_output():
    header = Header(2, ["*clefF4", "*clefG2"], ["*k[]", "*k[]"], "*C:", "*M4/4", None, None)
    broken = "@\n4c\t4e\t4g\n4x\t4e\n!comment\n*^\t*^\t*^\n4d\n*v\n@\n@\n2G\tzz\n@\n4c\t"
    kern, stats = restore(broken, header)
    assert stats["lines_repaired"] >= 3 and stats["lines_dropped"] >= 2
    for line in kern.splitlines():
        if not line.startswith("*^"):
            assert len(line.split("\t")) == 2, line
    score = parse_kern(kern)
    assert len(list(score.recurse().notes)) >= 3


def _real_kern_files() -> list[Path]:
    files = []
    for corpus in ("mozart-piano-sonatas", "beethoven-piano-sonatas", "bach-370-chorales", "joplin", "haydn-string-quartets"):
        d = shared("corpora", corpus)
        files += sorted(d.glob("*.krn"))
    return files


def test_clean_then_restore_keeps_every_note_on_real_files(palestrina_paths):
    """restore(clean(x)) parses in music21 with the same notes as x."""
    rng = random.Random(7)
    chosen = rng.sample(palestrina_paths, 4)
    try:
        chosen += rng.sample(_real_kern_files(), 5)
    except pytest.skip.Exception:
        pass
    for path in chosen:
        original = read_text(path)
        body, header = clean(original, str(path))
        kern, stats = restore(body, header)
        assert stats.get("lines_dropped", 0) == 0, path
        assert pitches(kern) == pitches(original), path


def test_transpose_round_trip_and_pitch_shift(palestrina_paths):
    path = palestrina_paths[3]
    codec = get_codec("kern")
    piece = codec.encode(path)[0]
    original = pitches(restore(piece.text, Header.from_dict(piece.info["header"]))[0])
    for k in (-5, -1, 1, 2, 6):
        up = codec.transpose(piece, k)
        back = transpose_text(up.text, -k, up.info["fifths"])
        assert back == piece.text, k
        moved = pitches(restore(up.text, Header.from_dict(up.info["header"]))[0])
        assert moved == Counter({p + k: n for p, n in original.items()}), k


def test_transpose_spells_for_the_new_key():
    body, _ = clean(SMALL, "small.krn")  # F major, one flat
    up = transpose_text(body, 1, -1)  # F -> G-flat (6 flats) beats F-sharp (6 sharps)? tie: flats
    assert "4G-\t4b- 4dd-" in up
    up2 = transpose_text(body, 2, -1)  # F -> G major: one sharp
    assert "4G\t4b 4ddd" not in up2 and "4G\t4b 4dd" in up2
    assert "4c#\t4gg" not in up2 and "4d\t4gg" in up2


@pytest.mark.parametrize(
    "text,problem",
    [
        ("", "empty file"),
        ("4c\t4e\n=1\t=1\n", "no exclusive interpretation"),
        ("**kern\t**kern\n=1\t=1\n4c\n==\t==\n*-\t*-\n", "1 columns where 2 spines are active"),
        ("**text\n=1\nla\n*-\n", "no **kern spine"),
        ("**kern\n*M4/4\n*-\n", "no notes"),
    ],
)
def test_malformed_kern_gives_one_line_error_naming_the_file(tmp_path, text, problem):
    path = tmp_path / "bad.krn"
    path.write_text(text)
    with pytest.raises(CadenzaError) as exc:
        get_codec("kern").encode(path)
    msg = str(exc.value)
    assert str(path) in msg and problem in msg and "\n" not in msg


def test_binary_file_is_rejected(tmp_path):
    path = tmp_path / "x.krn"
    path.write_bytes(b"MThd\x00\x00\x00\x06\x00\x01")
    with pytest.raises(CadenzaError, match="binary"):
        get_codec("kern").encode(path)


def test_chord_notes_written_without_duration_take_the_first_notes():
    from cadenza.codecs.kern.cleaning import fill_chord_durations

    assert fill_chord_durations("4.a f#") == "4.a 4.f#"
    assert fill_chord_durations("[4.a [f# [d") == "[4.a [4.f# [4.d"
    assert fill_chord_durations("8cJ F# D") == "8cJ 8F# 8D"
    assert fill_chord_durations("4%3c e") == "4%3c 4%3e"
    assert fill_chord_durations("4c 8e") == "4c 8e"  # a duration of its own is kept
    assert fill_chord_durations("8qc e") == "8qc e"  # grace chords stay grace
    body, _ = clean("**kern\t**kern\n*M2/4\t*M2/4\n=1\t=1\n4C CC\t4.a f# d\n4D\t8g e\n*-\t*-\n")
    assert body.splitlines()[-2:] == ["4CC 4C\t4.d 4.f# 4.a", "4D\t8e 8g"]


def test_a_chord_is_written_low_to_high_with_its_beam_on_the_top_note():
    from cadenza.codecs.kern.cleaning import chord_order

    assert chord_order("8e-J 8A 8F") == "8F 8A 8e-J"
    assert chord_order("16ddLL> 16b-") == "16b- 16ddLL>"
    assert chord_order("[4f [4c [4A") == "[4A [4c [4f"
    assert chord_order("8c#J 8c-") == "8c- 8c#J"  # by sounding pitch: c flat is below c sharp
    assert chord_order("(8B 8dL") == "(8B 8dL"  # already low to high: unchanged
    assert chord_order("8re 8rEE") == "8re 8rEE"  # rests are left as they are
    assert chord_order("8ccL 8e 8c") == "8c 8e 8ccL"


def test_joplin_chords_read_low_to_high_after_cleaning():
    """Joplin's rags spell chords high to low, the sonatas low to high: cleaned, every chord of
    a rag is low to high and the notes are the same ones (as multisets, bar by bar)."""
    from cadenza.music.humdrum.spines import read_note

    path = shared("corpora", "joplin", "bethena.krn")
    original = read_text(path)
    body, _ = clean(original, str(path))
    chords = [t for line in body.splitlines() if line[:1] not in "*!@" for t in line.split("\t") if " " in t]
    pitches = [[read_note(n)[1] for n in t.split(" ")] for t in chords]
    pitched = [p for p in pitches if None not in p]
    assert len(pitched) > 500
    assert all(p == sorted(p) for p in pitched)
    from cadenza.codecs.kern.cleaning import fill_chord_durations

    raw = [fill_chord_durations(t) for line in original.splitlines() if line[:1] not in "*!=" for t in line.split("\t") if " " in t]
    raw_pitches = [[read_note(n)[1] for n in t.split(" ")] for t in raw]
    falling = sum(1 for p in raw_pitches if None not in p and p == sorted(p, reverse=True) and len(set(p)) > 1)
    assert falling > len(raw) // 2  # as written, most of the rag's chords fall
    assert sorted(map(sorted, pitched)) == sorted(sorted(p) for p in raw_pitches if None not in p)


def test_a_joplin_rag_reads_with_all_its_chord_notes():
    """Joplin's kern writes a chord's duration on its first note only; after cleaning, Cadenza's
    reader finds the notes music21 finds (tied notes counted once)."""
    from cadenza.music.humdrum.to_piece import kern_to_piece

    path = shared("corpora", "joplin", "bethena.krn")
    original = read_text(path)
    ours = kern_to_piece(clean(original, str(path))[0]).notes
    theirs = [p for n in parse_kern(original).recurse().notes for p in n.pitches
              if n.tie is None or n.tie.type == "start"]
    assert abs(len(ours) - len(theirs)) <= 0.01 * len(theirs)
    assert len(kern_to_piece(original).notes) < 0.8 * len(theirs)  # without the fill, the chords' other notes are lost


def test_a_pickup_of_an_odd_length_gets_its_own_time_signature():
    """9 sixteenths before the first barline of a 4/4 piece: a 9/16 opening bar, so a MIDI file's
    bars fall where the score's do."""
    from cadenza.music.humdrum.to_piece import kern_to_piece

    text = "**kern\n*M4/4\n=1-\n" + "16c\n" * 9 + "=2\n1d\n=3\n1e\n==\n*-\n"
    piece = kern_to_piece(text)
    assert piece.time_signatures == [(0.0, 9, 16), (2.25, 4, 4)]
    text = "**kern\n*M3/4\n=1-\n4c\n=2\n2.d\n==\n*-\n"  # a one-beat pickup keeps the metre's unit
    assert kern_to_piece(text).time_signatures == [(0.0, 1, 4), (1.0, 3, 4)]


def test_reader_follows_spines_and_reads_durations_pitches_and_ties():
    from fractions import Fraction

    from cadenza.music.humdrum.spines import duration, read_note, spine_moves

    assert spine_moves(["*", "*^", "*"]) == [(0,), (1,), (1,), (2,)]
    assert spine_moves(["*v", "*v", "*"]) == [(0, 1), (2,)]
    assert spine_moves(["*x", "*x", "*-"]) == [(1,), (0,)]
    with pytest.raises(ValueError, match="unpaired"):
        spine_moves(["*x", "*"])
    assert spine_moves(["*x", "*+"], strict=False) == [(0,), (1,)]
    assert [duration(d) for d in ("4", "8.", "0", "00", "3", "3%2", "16..")] == [
        1, Fraction(3, 4), 8, 16, Fraction(4, 3), Fraction(8, 3), Fraction(7, 16)]
    assert read_note("4c") == (1, 60, "")
    assert read_note("8.cc#L[") == (Fraction(3, 4), 73, "[")
    assert read_note("2BB-]") == (2, 46, "]")
    assert read_note("4r") == (1, None, "")
    assert read_note("8qd") == (None, None, "")


def test_midi_export_goes_through_the_kern_reader_and_agrees_with_music21(tmp_path):
    # .mid is written by Cadenza's own reader and symusic (fast); music21 reads the same notes
    from cadenza.codecs import Decoded
    from cadenza.codecs.kern import KernCodec
    from cadenza.music import read_midi
    from cadenza.music.m21 import parse_kern, score_to_piece

    src = Path(__file__).resolve().parents[1].parent / "shared" / "corpora" / "mozart-piano-sonatas"
    if not src.is_dir():
        pytest.skip("../shared/corpora/mozart-piano-sonatas not present")
    for path in sorted(src.glob("sonata01-*.krn"))[:2]:
        text = path.read_text(encoding="utf-8", errors="replace")
        stats: dict = {}
        out = KernCodec().export(Decoded("", stats, score=text, read=KernCodec().to_piece), tmp_path / path.stem, ("krn", "mid"))
        ours = read_midi(out["mid"])
        theirs = score_to_piece(parse_kern(text))

        def notes(p):
            return sorted((round(n.start, 3), n.pitch, round(n.duration, 3)) for t in p.tracks for n in t.notes)

        assert len(notes(ours)) > 1000 and notes(ours) == notes(theirs), path.name
        # without MusicXML music21 never reads the file: the statistics are the reader's own
        assert stats["parsed"] is None and stats["notes"] == len(notes(ours)) and not (tmp_path / f"{path.stem}.musicxml").exists()


def test_a_broken_key_signature_token_is_not_read_as_one(tmp_path):
    """Found by the fuzz test: a file cut mid-token leaves ``*k[*ICvox``; it is no key signature
    (the well-formed one after it is), where reading it as one used to crash the reader."""
    from cadenza.codecs import get_codec

    path = tmp_path / "cut.krn"
    path.write_text("**kern\t**kern\n*clefF4\t*clefG2\n*k[*ICvox\t*ICvox\n*k[f#]\t*k[f#]\n*M3/4\t*M3/4\n=1\t=1\n4G\t4g\n==\t==\n*-\t*-\n")
    (piece,) = get_codec("kern").encode(path)
    assert piece.info["header"]["keysig"] == ["*k[f#]", "*k[f#]"] and piece.info["fifths"] == 1
