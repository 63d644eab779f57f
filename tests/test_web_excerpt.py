"""Issue #23: a continuation or a rewrite shows the new bars with a little context (the whole
piece one click away), fast; MIDI-model piano music engraved on two staves through the kern
writer, readable (at most 1% of notes more than 4 ledger lines off their staff); the Kern
download of a MIDI model's variation works."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from cadenza.music import Note, Piece, Track, read_midi
from cadenza.render.excerpt import bar_starts, excerpt
from cadenza.render.hands import far_notes, piano_kern, split_hands
from cadenza.web import WebOptions, create_app
from conftest import free_port, live_server, shared


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    app = create_app(WebOptions(out=tmp_path_factory.mktemp("web-out"), workers=2, queue=4, keep=50))
    with live_server(app, free_port()) as url, httpx.Client(base_url=url, timeout=300) as c:
        yield c


def _bars_of_svg(svg: str) -> int:
    return svg.count('class="measure"')


def test_a_200_bar_upload_continues_with_only_the_new_bars_rendered(client):
    sonata = shared("corpora", "mozart-piano-sonatas", "sonata16-1.krn")  # 210 bars, 6 minutes
    data = {"model": "mozart-kern", "bars": "4", "variations": "1"}
    files = {"file": (sonata.name, sonata.read_bytes(), "text/plain")}
    client.post("/api/continue", data={**data, "seed": "1"}, files=files).raise_for_status()  # the first request warms the model
    # (how long it takes is a benchmark's question, not a test's: the 3 s target of issue #23 is
    # measured where the README quotes it; here, that the whole movement is not rendered)
    t = time.perf_counter()
    r = client.post("/api/continue", data={**data, "seed": "2"}, files=files)
    assert r.status_code == 200, r.text
    print(f"continuation of a 210-bar upload: {time.perf_counter() - t:.2f} s")
    v = r.json()["variations"][0]
    shown = v["shown"]
    assert shown["first_bar"] >= 200 and shown["last_bar"] - shown["first_bar"] <= 8, shown  # 2 prompt bars + the new ones
    assert len(v["svg_pages"]) == 1 and 3 <= _bars_of_svg(client.get(v["svg"]).text) <= 9
    wav = client.get(v["wav"])
    assert wav.status_code == 200 and len(wav.content) < 44_100 * 4 * 30  # seconds, not the 6-minute movement
    # the whole piece, one click away: its score engraved when asked for, its WAV and kern served
    whole = client.get(v["whole"]["score"])
    assert whole.status_code == 200 and len(whole.json()["svg_pages"]) > 5
    assert client.get(v["midi"]).status_code == 200 and read_midi_bytes(client.get(v["midi"]).content).end > 600
    krn = client.get(v["krn"])
    assert krn.status_code == 200 and krn.text.count("\n=") > 200


def read_midi_bytes(data: bytes) -> Piece:
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".mid") as f:
        f.write(data)
        f.flush()
        return read_midi(Path(f.name))


def test_rewritten_bars_are_shown_between_their_neighbours(client):
    sonata = shared("corpora", "mozart-piano-sonatas", "sonata16-1.krn")
    r = client.post("/api/infill", data={"model": "mozart-kern", "variations": "1", "seed": "3", "rewrite": "9-10"},
                    files={"file": (sonata.name, sonata.read_bytes(), "text/plain")})
    assert r.status_code == 200, r.text
    v = r.json()["variations"][0]
    assert (v["shown"]["first_bar"], v["shown"]["last_bar"]) == (7, 12), v["shown"]
    start, end = v["shown"]["new_quarters"]
    assert start == pytest.approx(6.0) and end == pytest.approx(12.0)  # two 3/4 bars in, two long
    assert client.get(v["png"]).status_code == 200 and len(v["svg_pages"]) == 1
    svg = client.get(v["svg"]).text
    assert svg.count('data-rewritten="1"') == 2 and _bars_of_svg(svg) == 6  # bars 9-10 coloured, 7-8 and 11-12 around them


def test_kern_download_of_a_notewise_variation_is_a_grand_staff(client):
    r = client.post("/api/generate", data={"model": "piano-notewise", "bars": "2", "variations": "1", "seed": "5"})
    assert r.status_code == 200, r.text
    v = r.json()["variations"][0]
    krn = client.get(v["krn"])
    assert krn.status_code == 200, krn.text
    assert krn.text.count("**kern") == 2 and "*clefF4" in krn.text and "*clefG2" in krn.text
    svg = client.get(v["svg"]).text
    assert svg.count('class="staff"') >= 2 * _bars_of_svg(svg) > 0  # every bar on two staves


def test_excerpt_counts_bars_as_the_score_does():
    notes = [Note(0.0, 67, 1.0)] + [Note(1.0 + i, 60 + i % 12, 1.0) for i in range(24)]  # a one-beat pickup in 3/4
    piece = Piece([Track("piano", 0, notes)], [(0.0, 120.0)], [(0.0, 1, 4), (1.0, 3, 4)])
    starts, first = bar_starts(piece)
    assert first == 0 and starts[:3] == [0.0, 1.0, 4.0]
    ex = excerpt(piece, 13.0, None, before=2)  # the new bars begin at bar 5 (13 quarters)
    assert (ex.first_bar, ex.offset, ex.new[0]) == (3, 7.0, 6.0)
    assert min(n.start for n in ex.piece.notes) == 0.0
    # a prompt whose last bar ends with a rest: the new bars begin at the barline after it
    rest = Piece([Track("piano", 0, [n for n in notes if not 11.0 <= n.start < 13.0])], [(0.0, 120.0)], [(0.0, 1, 4), (1.0, 3, 4)])
    assert excerpt(rest, 11.0, None, before=2).new[0] == 6.0


def test_hands_follow_the_music_not_middle_c():
    # a left-hand run climbing over middle C under a right-hand melody stays in the left hand
    left = [Note(i * 0.5, 48 + 2 * i, 0.5) for i in range(10)]  # C3 .. D4
    right = [Note(i * 1.0, 76 + (i % 3), 1.0) for i in range(5)]
    hands = split_hands(Piece([Track("piano", 0, left + right)]))
    assert sorted(n.pitch for n in hands.tracks[0].notes) == [n.pitch for n in left]
    assert sorted(n.pitch for n in hands.tracks[1].notes) == sorted(n.pitch for n in right)


def test_far_notes_get_an_ottava_or_a_clef():
    # a right hand at the top of the keyboard and a left hand climbing into the treble
    notes = [Note(i * 0.25, 96 + i % 5, 0.25) for i in range(16)] + [Note(4 + i * 0.5, 70 + i % 3, 0.5) for i in range(8)]
    notes += [Note(i * 1.0, 40, 1.0) for i in range(4)] + [Note(4 + i * 1.0, 64, 1.0) for i in range(4)]
    kern = piano_kern(Piece([Track("piano", 0, notes)]))
    far, total = far_notes(kern)
    assert total >= len(notes) and far == 0, kern  # tied pieces count as notes
    assert "*8va" in kern or "*15ma" in kern


def test_notewise_scores_keep_notes_near_the_staff(tmp_path):
    """The target of issue #23: at most 1% of a MIDI model's notes more than 4 ledger lines off
    their staff (8 piano-notewise samples of 16 bars, seed 3: 0.95%; one clef a staff for the whole piece: 16%)."""
    from cadenza.generation import Request, generate, open_run

    samples = generate(open_run("piano-notewise"), tmp_path, Request(n=8, seed=3, bars=16))
    far = total = 0
    for s in samples:
        f, n = far_notes(piano_kern(read_midi(s.files["mid"])))
        far, total = far + f, total + n
    print(f"piano-notewise: {far} of {total} notes far off their staff ({100 * far / total:.2f}%)")
    assert total > 2000 and far / total <= 0.01
