"""The chords asked for show in every output file (issue 22): kern forms, beams, continued files
and rewritten bars get an ``**mxhm`` spine (and MusicXML ``<harmony>``), bar k under chord k as
the sampler counted them, and their ``.mid`` a marker a bar; MIDI codecs' ``.mid`` carry a marker
at each bar start, which the engraved score (the kern writer, ``cadenza render x.mid``) turns into
chord symbols."""

from __future__ import annotations

import re

from conftest import shared

from cadenza.music import Note, Piece, Track, read_midi, write_midi

PROGRESSION = "C | Am | F | G7"


def _mxhm(kern: str) -> list[str]:
    """The chords of a kern file's **mxhm spine (its last column), in order."""
    lines = kern.split("\n")
    head = next(i for i, x in enumerate(lines) if x.startswith("**"))
    assert lines[head].endswith("\t**mxhm")
    return [x.rsplit("\t", 1)[1] for x in lines[head + 1 :] if x and x[0] not in "*!=" and not x.endswith("\t.")]


def test_markers_round_trip_and_follow_slices_and_transposition(tmp_path):
    piece = Piece([Track("Piano", 0, [Note(0.0, 60, 4.0), Note(4.0, 57, 4.0)])], chords=[(0.0, "C"), (4.0, "Am")])
    back = read_midi(write_midi(piece, tmp_path / "c.mid"))
    assert back.chords == [(0.0, "C"), (4.0, "Am")]
    from symusic import Score, TextMeta

    score = Score(str(tmp_path / "c.mid"))
    assert [(m.time, m.text) for m in score.markers] == [(0, "C"), (1920, "Am")]  # standard marker meta events, a bar apart
    score.markers.append(TextMeta(3840, "Verse"))  # a DAW's section marker names no chord
    score.dump_midi(str(tmp_path / "daw.mid"))
    assert read_midi(tmp_path / "daw.mid").chords == [(0.0, "C"), (4.0, "Am")]
    assert piece.slice(4.0, 8.0).chords == [(0.0, "Am")] and piece.transpose(2).chords == [(0.0, "D"), (4.0, "Bm")]
    assert len(Score(str(write_midi(Piece(piece.tracks), tmp_path / "plain.mid"))).markers) == 0  # no chords: no marker


def test_guided_chords_are_declared_where_the_sampler_counted_them():
    from cadenza.codecs.kern.chord_lines import declared_chords
    from cadenza.codecs.kern.harm import spine_of_chord_lines

    ctx = {"chords": ["C", "G7"], "chord_strength": 6.0}
    text = "*M2/4\n@\n4c\t4e\n@\n4d\t4g\n@\n"
    assert declared_chords(text, ctx) == [(8, "!!chord: C\n"), (16, "!!chord: G7\n"), (24, "!!chord: C\n")]
    assert declared_chords("4c\t4e\n@\n4d\t4g\n@\n", ctx, resumed=True) == [(0, "!!chord: C\n"), (8, "!!chord: G7\n"), (16, "!!chord: C\n")]
    assert declared_chords(text + "!!chord: F\n", ctx) == [] and declared_chords(text, {"chords": ["C"]}) == []  # its own lines; not guided
    kern = "!!!COM: x\n**kern\t**dynam\n=1\t=1\n!!chord: G7\t.\n4G\tp\n=2\t=2\n*-\t*-\n"
    assert spine_of_chord_lines(kern) == "!!!COM: x\n**kern\t**dynam\t**mxhm\n=1\t=1\t=1\n4G\tp\tG dominant\n=2\t=2\t=2\n*-\t*-\t*-\n"


def test_a_guided_kern_form_and_beam_show_the_chords(tmp_path):
    from cadenza.generation import generate

    form = generate("mozart-kern", tmp_path / "form", n=1, metre="4/4", key="C", chords=PROGRESSION, form="ABA", phrase_bars=2, seed=2, formats=("krn",))
    assert _mxhm(form[0].files["krn"].read_text()) == ["C major", "A minor", "F major", "G dominant", "C major", "A minor"]  # A, B, A again
    beam = generate("mozart-kern", tmp_path / "beam", n=1, bars=4, metre="4/4", key="C", chords=PROGRESSION, beam=2, seed=2, formats=("krn", "musicxml"))
    assert _mxhm(beam[0].files["krn"].read_text()) == ["C major", "A minor", "F major", "G dominant"]
    xml = beam[0].files["musicxml"].read_text()
    assert re.findall(r"<root-step>(\w)</root-step>", xml) == ["C", "A", "F", "G"] and xml.count("<harmony") == 4


def test_a_continued_kern_file_shows_the_chords_on_its_new_bars(tmp_path):
    from cadenza.generation import generate

    prompt = shared("corpora", "mozart-piano-sonatas", "sonata01-1.krn")
    got = generate("mozart-kern", tmp_path, n=1, bars=3, chords="F | Bb | C7", prompt=prompt, prompt_bars=2, seed=1)
    kern = got[0].files["krn"].read_text()
    assert _mxhm(kern) == ["F major", "B- major", "C dominant"]
    user = prompt.read_text(encoding="utf-8").split("\n")
    ours = kern.split("\n")
    first = next(i for i, x in enumerate(user) if x.startswith("**"))
    assert ours[:first] == user[:first] and ours[first] == user[first] + "\t**mxhm"  # the user's records, then the spine beside theirs
    assert "!!chord" not in kern and "!!chord" not in got[0].text  # the model's text is its own: guidance writes nothing in it
    assert read_midi(got[0].files["mid"]).chords == [(400.0, "F"), (404.0, "Bb"), (408.0, "C7")]  # the file's 100 bars of 4/4, then the new ones


def test_kern_infill_shows_the_chords_on_the_rewritten_bars_only(tmp_path):
    from cadenza.generation.infill import infill

    src = shared("corpora", "mozart-piano-sonatas", "sonata01-1.krn")
    got = infill("mozart-kern", src, (5, 8), tmp_path, n=1, seed=0, chords="F | C7 | F | Bb")
    kern = got[0].files["krn"].read_text()
    bars, at = [], None
    for line in kern.split("\n"):
        if line.startswith("="):
            at = line.split("\t")[0]
        elif line and line[0] not in "*!" and not line.endswith("\t."):
            bars.append((at, line.rsplit("\t", 1)[1]))
    assert bars == [("=5", "F major"), ("=6", "C dominant"), ("=7", "F major"), ("=8", "B- major")]  # bar 5 takes the first chord
    user, ours = src.read_text(encoding="utf-8").split("\n"), [x.rsplit("\t", 1)[0] if "\t" in x else x for x in kern.split("\n")]
    five, nine = user.index("=5\t=5\t=5"), user.index("=9\t=9\t=9")
    assert ours[: five + 1] == user[: five + 1] and ours[-(len(user) - nine) :] == user[nine:]  # the user's other bars, a spine beside them
    assert "!!chord" not in kern
    xml = got[0].files["musicxml"].read_text()
    assert re.findall(r"<root-step>(\w)</root-step>", xml) == ["F", "C", "F", "B"] and xml.count("<harmony") == 4
    assert read_midi(got[0].files["mid"]).chords == [(16.0, "F"), (20.0, "C7"), (24.0, "F"), (28.0, "Bb")]


def test_a_kern_sample_mid_has_a_marker_a_bar(tmp_path):
    from cadenza.generation import generate
    from cadenza.music.harmony import Chord
    from cadenza.music.humdrum.mxhm import MXHM_KIND, mxhm_chord, mxhm_value

    assert all(mxhm_chord(mxhm_value(Chord(r, q))) == Chord(r, q) for r in range(12) for q in MXHM_KIND) and mxhm_chord("none") is None
    got = generate("mozart-kern", tmp_path, n=1, bars=4, metre="3/4", key="F", chords="F | Bb | C7 | F", seed=0, formats=("krn", "mid"))
    assert read_midi(got[0].files["mid"]).chords == [(0.0, "F"), (3.0, "Bb"), (6.0, "C7"), (9.0, "F")]
    plain = generate("mozart-kern", tmp_path / "plain", n=1, bars=2, seed=2, formats=("krn", "mid"))
    assert read_midi(plain[0].files["mid"]).chords == []  # no chords asked: no markers (the file as before)


def test_a_notewise_sample_has_a_marker_a_bar_and_its_score_engraves_them(tmp_path):
    from cadenza.generation import generate
    from cadenza.render.convert import render

    got = generate("piano-notewise", tmp_path, n=1, bars=4, seed=0, chords=PROGRESSION)
    mid = got[0].files["mid"]
    piece = read_midi(mid)
    assert piece.chords == [(0.0, "C"), (4.0, "Am"), (8.0, "F"), (12.0, "G7")] and piece.end <= 16.0
    files = render(mid, ["krn", "svg"], tmp_path / "score")
    assert _mxhm(files["krn"][0].read_text()) == ["C major", "A minor", "F major", "G dominant"]
    svg = "".join(p.read_text() for p in files["svg"])
    harms = re.findall(r'class="harm">.*?</g>', svg)  # verovio's chord symbols
    assert ["".join(re.findall(r">([^<>]+)</tspan>", h)) for h in harms] == ["C", "Am", "F", "G7"]


def test_a_notewise_continuation_marks_its_new_bars(tmp_path):
    from cadenza.generation import generate

    notes = [Note(b * 4.0, p, 4.0) for b, pcs in enumerate([(48, 64, 67), (53, 65, 69)] * 2) for p in pcs]
    prompt = write_midi(Piece([Track("Piano", 0, sorted(notes))], chords=[(0.0, "C"), (4.0, "F")]), tmp_path / "cf.mid")
    got = generate("piano-notewise", tmp_path / "out", n=1, bars=2, chords="G | C", prompt=prompt, seed=1)
    full = read_midi(got[0].files["mid"])
    assert full.chords[:4] == [(0.0, "C"), (4.0, "F"), (16.0, "G"), (20.0, "C")]  # the file's own markers, then the new bars'
    assert read_midi(got[0].files["continuation"]).chords[:2] == [(0.0, "G"), (4.0, "C")]
