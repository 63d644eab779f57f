"""Issue #23, the musician's controls through the API: a conditioned model's composers offered and
obeyed, refusals in the page's words, the SoundFont piano the page plays live, and the notes each
variation carries for the page's player (exact for a known file)."""

from __future__ import annotations

import io
import wave

import numpy as np

from cadenza.music import Note, Piece, Track
from cadenza.render.samples import PITCHES, nearest
from cadenza.web.plain import plain
from cadenza.web.variations import playable
from test_web import FAST, _midi_bytes, _one_line, client, server  # noqa: F401 - one live server for this module

COMPOSERS = ["Albeniz", "Beethoven", "Brahms", "Chopin", "Clementi", "Grieg", "Haydn", "Liszt", "Mendelssohn", "Mozart", "Schubert", "Schumann", "Tchaikovsky"]


def test_models_say_which_labels_and_chords_they_take(client):  # noqa: F811
    models = {m["name"]: m for m in client.get("/api/models").json()["models"]}
    assert models["piano-notewise"]["labels"] == {"composer": COMPOSERS}
    assert models["mozart-kern"]["labels"] == {} and models["bach-notewise"]["labels"] == {}
    assert not any(m["chords"] for m in models.values())  # the bundled models predate --condition chords


def test_a_composer_is_asked_for_and_an_unknown_one_refused_in_words(client, tmp_path):  # noqa: F811
    asked = client.post("/api/generate", data={**FAST, "model": "piano-notewise", "composer": "Chopin"})
    plain_one = client.post("/api/generate", data={**FAST, "model": "piano-notewise"})
    assert asked.status_code == plain_one.status_code == 200, asked.text
    assert client.get(asked.json()["variations"][0]["midi"]).content != client.get(plain_one.json()["variations"][0]["midi"]).content
    bad = client.post("/api/generate", data={**FAST, "model": "piano-notewise", "composer": "Bach"})
    assert bad.status_code == 422 and _one_line(bad).startswith("composer Bach: unknown composer") and "--" not in bad.json()["detail"]
    with_prompt = client.post("/api/continue", data={**FAST, "model": "piano-notewise", "composer": "Chopin"},
                              files={"file": ("played.mid", _midi_bytes(tmp_path), "audio/midi")})
    assert with_prompt.status_code == 422 and _one_line(with_prompt) == "composer: for new pieces only; a continuation goes on in the style of its file" and "--" not in with_prompt.json()["detail"]


def test_plain_names_the_label_fields():
    text = "--prompt continues a music file; it cannot be combined with --composer/--style/--instrument (its own metre, key and bars are the start)"
    assert plain(text) == "the uploaded file continues a music file; it cannot be combined with composer, style/instrument (its own metre, key and bars are the start)"
    assert plain("--composer 'Bach': unknown composer") == "composer Bach: unknown composer"


def test_piano_samples_are_the_soundfont_piano_at_their_pitch(client):  # noqa: F811
    index = client.get("/api/piano").json()
    assert index["pitches"] == list(PITCHES) and index["pitches"][:3] == [22, 25, 28]
    assert all(abs(nearest(p) - p) <= 1 for p in range(21, 109))  # every key is played from a sample at most a semitone away
    r = client.get("/api/piano/70.wav")
    assert r.status_code == 200 and r.headers["content-type"] == "audio/wav"
    with wave.open(io.BytesIO(r.content)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 22050)
        x = np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(float)
    peak = np.argmax(np.abs(np.fft.rfft(x[:16384]))) * 22050 / 16384
    assert abs(peak / 466.16 - 1) < 0.01, peak  # B-flat 4
    assert 0.1 < np.abs(x).max() / 32767 < 1.0  # audible, not clipped
    missing = client.get("/api/piano/71.wav")
    assert missing.status_code == 404 and "no sample of pitch 71" in _one_line(missing)


def test_playable_gives_notes_bars_and_tempo_exactly():
    notes = [Note(i * 1.0, 60 + i, 1.0, 70 + i) for i in range(6)]
    piece = Piece([Track("piano", 0, notes)], [(0.0, 90.0)], [(0.0, 3, 4)])
    got = playable(piece)
    assert got == {"tempo": 90.0, "end": 6.0, "bars": [0.0, 3.0], "first_bar": 1, "notes": [[float(i), 1.0, 60 + i, 70 + i] for i in range(6)]}


def test_each_variation_carries_its_notes_for_the_player(client, tmp_path):  # noqa: F811
    r = client.post("/api/continue", data={**FAST, "model": "piano-notewise", "bars": "2"}, files={"file": ("played.mid", _midi_bytes(tmp_path), "audio/midi")})
    assert r.status_code == 200, r.text
    play = r.json()["variations"][0]["play"]
    prompt = [[i * 0.5, 0.5, 60 + (i * 3) % 12] for i in range(8)]  # _midi_bytes: eight eighths
    assert [n[:3] for n in play["notes"][:8]] == prompt and play["bars"][:2] == [0.0, 4.0]
    assert play["end"] >= 4.0 and all(0 <= n[0] < play["end"] for n in play["notes"])
