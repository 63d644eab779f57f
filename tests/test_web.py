"""The web API (cadenza.web): every endpoint, bad uploads, traversal attempts, a burst of 20
requests, and the jam stream, against a real uvicorn server on a free port."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx  # declared in the dev extras, as fastapi, uvicorn and python-multipart are in the dependencies: a broken install fails, never skips
import pytest

from cadenza.music import Note, Piece, Track, write_midi
from cadenza.web import WebOptions, create_app
from cadenza.web.results import ResultStore
from conftest import free_port, live_server

FAST = {"model": "bach-notewise", "bars": "1", "variations": "1", "seed": "7"}
KERN = "**kern\t**kern\n*clefF4\t*clefG2\n*M4/4\t*M4/4\n=1\t=1\n4C\t4c\n4E\t4e\n4G\t4g\n4c\t4cc\n==\t==\n*-\t*-\n"


_free_port = free_port


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """(base URL, app) of a live server: 2 workers, 4 waiting, a 5 MB upload limit."""
    app = create_app(WebOptions(out=tmp_path_factory.mktemp("web-out"), workers=2, queue=4, keep=50))
    with live_server(app, free_port()) as url:
        yield url, app


@pytest.fixture(scope="module")
def client(server):
    with httpx.Client(base_url=server[0], timeout=120) as c:
        yield c


def _midi_bytes(tmp_path: Path, n: int = 8) -> bytes:
    piece = Piece([Track("piano", 0, [Note(i * 0.5, 60 + (i * 3) % 12, 0.5, 80) for i in range(n)])], [(0.0, 120.0)], [(0.0, 4, 4)])
    return write_midi(piece, tmp_path / "p.mid").read_bytes()


def _one_line(r) -> str:
    detail = r.json()["detail"]
    assert isinstance(detail, str) and "\n" not in detail and "Traceback" not in detail and detail
    return detail


# ---- the page, the schema, the model list --------------------------------------------------

def test_page_static_and_schema_are_served_offline(client):
    page = client.get("/")
    assert page.status_code == 200 and "Cadenza" in page.text and "/static/app.js" in page.text
    for name in ("app.js", "piano.js", "jam.js", "synth.js", "midifile.js", "style.css"):
        r = client.get(f"/static/{name}")
        assert r.status_code == 200, name
        assert "https://" not in r.text and "http://" not in r.text, f"{name} must not load anything from outside"
    paths = client.get("/openapi.json").json()["paths"]
    for p in ("/api/generate", "/api/continue", "/api/jam", "/api/models", "/api/jobs/{job}", "/files/{job}/{name}", "/api/health"):
        assert p in paths


def test_docs_pages_load_only_local_scripts(client):
    """/docs and /redoc name no CDN: every script, stylesheet and icon is a local URL answering 200."""
    import re

    for page, kinds in (("/docs", {".js": "javascript", ".css": "css", ".png": "image/png"}), ("/redoc", {".js": "javascript", ".png": "image/png"})):
        html = client.get(page)
        assert html.status_code == 200 and "/openapi.json" in html.text, page
        assert html.headers["content-security-policy"].startswith("default-src 'self'"), page  # nothing the scripts fetch leaves either
        urls = re.findall(r'(?:src|href)="([^"]+)"', html.text)
        assert urls and "http:" not in html.text and "https:" not in html.text, page
        assert all(u.startswith("/") and not u.startswith("//") for u in urls), urls
        assert {Path(u).suffix for u in urls} == set(kinds), (page, urls)
        for u in urls:
            got = client.get(u)
            assert got.status_code == 200 and kinds[Path(u).suffix] in got.headers["content-type"], u
            if u.endswith(".js"):
                assert len(got.content) > 100_000, u  # the whole bundle, not a stub
    assert client.get("/docs/oauth2-redirect").status_code == 200
    assert "/docs" not in client.get("/openapi.json").json()["paths"]


def test_models_and_health(client):
    data = client.get("/api/models").json()
    names = {m["name"]: m for m in data["models"]}
    assert {"mozart-kern", "bach-notewise", "piano-notewise"} <= set(names)
    assert data["default"] == "piano-notewise" and names["piano-notewise"]["jam"] and names["mozart-kern"]["continues"]
    assert names["mozart-kern"]["metre"] == "3/4"
    assert not [m["name"] for m in data["models"] if "--" in m["about"]], "a model's description names no command-line flag"
    assert client.get("/api/health").json()["ok"]


# ---- generate and continue ----------------------------------------------------------------

def test_generate_serves_every_file_and_repeats_with_the_seed(client):
    r = client.post("/api/generate", data={**FAST, "variations": "2", "job": "test-job-1"})
    assert r.status_code == 200, r.text
    data = r.json()
    assert len(data["variations"]) == 2 and data["seed"] == 7
    v = data["variations"][0]
    kinds = {"midi": b"MThd", "wav": b"RIFF", "png": b"\x89PNG", "svg": b"<", "musicxml": b"<"}
    for key, magic in kinds.items():
        got = client.get(v[key])
        assert got.status_code == 200 and got.content.lstrip()[: len(magic)] == magic, key
    assert client.get("/api/jobs/test-job-1").json()["stage"] == "done"
    again = client.post("/api/generate", data={**FAST, "variations": "2"}).json()["variations"][0]
    assert client.get(again["midi"]).content == client.get(v["midi"]).content
    krn = client.get(v["krn"])  # written on demand; verovio may refuse a piece: then a one-line 422
    assert krn.status_code == 200 and "**kern" in krn.text or krn.status_code == 422 and _one_line(krn)


def test_generate_kern_model_engraves_a_score(client):
    r = client.post("/api/generate", data={"model": "mozart-kern", "bars": "2", "variations": "1", "seed": "3", "form": "AB", "phrase_bars": "1"})
    assert r.status_code == 200, r.text
    v = r.json()["variations"][0]
    assert "<svg" in client.get(v["svg"]).text and "**kern" in client.get(v["krn"]).text


def test_generate_in_the_metre_and_key_asked_for(client):
    models = {m["name"]: m for m in client.get("/api/models").json()["models"]}
    assert models["mozart-kern"]["metre_key"] and not models["piano-notewise"]["metre_key"]
    r = client.post("/api/generate", data={"model": "mozart-kern", "bars": "2", "variations": "1", "seed": "5", "metre": "6/8", "key": "g"})
    assert r.status_code == 200, r.text
    krn = client.get(r.json()["variations"][0]["krn"]).text
    assert {line.split("\t")[0] for line in krn.splitlines() if line.startswith(("*M", "*k[")) and not line.startswith("*MM")} == {"*M6/8", "*k[b-e-]"}
    assert (r.json()["variations"][0]["metre"], r.json()["variations"][0]["key"]) == ("6/8", "g")  # the page shows what it wrote in
    bad = client.post("/api/generate", data={"model": "mozart-kern", "metre": "three"})
    assert bad.status_code == 422 and "metre" in bad.json()["detail"]


def test_metre_and_key_are_refused_for_a_model_that_cannot_choose_them(client):
    for data, words in (({"metre": "3/4"}, "metre: "), ({"key": "F"}, "key: "), ({"metre": "3/4", "key": "F"}, "metre and key: ")):
        r = client.post("/api/generate", data={**FAST, **data})
        assert r.status_code == 422 and _one_line(r).startswith(words + "bach-notewise writes in the metre and key it learnt"), r.text
        assert "mozart-kern" in _one_line(r)  # the models that can
        _plain_words(r.json()["detail"])


def test_generate_takes_chords_and_says_in_one_line_when_the_model_cannot(client):
    r = client.post("/api/generate", data={**FAST, "chords": "C | G7"})
    assert r.status_code == 200, r.text  # the bundled models have no chord tokens: they follow by chord guidance
    r = client.post("/api/generate", data={**FAST, "chords": "C | G7", "chord_strength": "0"})
    assert r.status_code == 422 and "chords" in _one_line(r)  # the model alone cannot
    r = client.post("/api/generate", data={**FAST, "chords": "C | Hx"})
    assert r.status_code == 422 and "Hx" in _one_line(r)


def test_continue_a_midi_and_a_kern_file(client, tmp_path):
    r = client.post("/api/continue", data={**FAST, "model": "piano-notewise"}, files={"file": ("played.mid", _midi_bytes(tmp_path), "audio/midi")})
    assert r.status_code == 200, r.text
    v = r.json()["variations"][0]
    assert v["prompt_quarters"] > 0 and client.get(v["continuation_midi"]).content[:4] == b"MThd"
    r = client.post("/api/continue", data=FAST, files={"file": ("tune.krn", KERN.encode(), "text/plain")})
    assert r.status_code == 200, r.text
    # a kern model continues what was played: the MIDI is written as a score first
    r = client.post("/api/continue", data={**FAST, "model": "mozart-kern"}, files={"file": ("played.mid", _midi_bytes(tmp_path), "audio/midi")})
    assert r.status_code == 200, r.text
    krn = client.get(r.json()["variations"][0]["krn"]).text
    assert "**kern\t**kern" in krn and krn.rstrip().endswith("*-\t*-")


def test_a_continuation_refuses_what_it_would_ignore_and_follows_chords(client, tmp_path):
    """form, metre and key shape new pieces; sent with an upload they are refused in the page's
    words, never silently dropped (issue #24). Chords go on into the new bars (issue #22)."""
    midi = _midi_bytes(tmp_path, 16)
    for field, value in (("form", "AAB"), ("metre", "3/4"), ("key", "F")):
        for route, extra in (("/api/continue", {}), ("/api/infill", {"rewrite": "1"})):
            r = client.post(route, data={**FAST, "model": "piano-notewise", field: value, **extra}, files={"file": ("played.mid", midi, "audio/midi")})
            assert r.status_code == 422 and _one_line(r).startswith(f"{field}: for new pieces only"), (route, field, r.text)
    r = client.post("/api/continue", data={**FAST, "model": "piano-notewise", "bars": "2", "chords": "F | C7"}, files={"file": ("played.mid", midi, "audio/midi")})
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("name, body, status", [
    ("empty.mid", b"", 400),
    ("garbage.mid", b"\x00\x01garbage" * 100, 400),
    ("truncated.mid", None, 422),
    ("notes.txt", b"hello", 415),
    ("midi-named.krn", b"MThd\x00\x00\x00\x06\x00\x00\x00\x01\x01\xe0", 400),
    ("malformed.krn", b"**kern\n4c\n4q&&\n*-\n*-\n*x\n", 422),
    ("broken.musicxml", b"<score-partwise><part", 422),
    ("noname", b"MThd", 415),
])
def test_bad_uploads_are_refused_in_one_line(client, tmp_path, name, body, status):
    if body is None:
        body = _midi_bytes(tmp_path)[:30]
    r = client.post("/api/continue", data=FAST, files={"file": (name, body, "application/octet-stream")})
    assert r.status_code == status, r.text
    _one_line(r)


def test_bad_fields_and_models_are_422(client, tmp_path):
    for data in ({**FAST, "bars": "0"}, {**FAST, "temperature": "0"}, {**FAST, "model": "nope"}, {**FAST, "variations": "x"}, {**FAST, "form": "A1"}):
        r = client.post("/api/generate", data=data)
        assert r.status_code == 422, data
        _one_line(r)
    r = client.post("/api/continue", data={**FAST, "model": "mozart-kern"}, files={"file": ("p.txt", b"not music", "text/plain")})
    assert r.status_code == 415  # not a music file: refused before any work
    _one_line(r)
    assert client.get("/api/jobs/never-started").status_code == 404


def test_a_60_mb_upload_is_refused_before_it_is_read(server):
    """Declared length: 413 after the headers, with 60 MB never sent."""
    host, port = server[0].removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(b"POST /api/continue HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 62914560\r\n\r\n--b\r\n")
        reply = b""
        while chunk := s.recv(4096):
            reply += chunk
    reply = reply.decode("latin-1")
    assert reply.startswith("HTTP/1.1 413") and "upload limit" in reply


def test_a_chunked_body_growing_past_the_limit_is_413(client):
    def chunks():
        head = b'--b\r\nContent-Disposition: form-data; name="file"; filename="big.mid"\r\nContent-Type: audio/midi\r\n\r\nMThd'
        yield head
        for _ in range(60):
            yield b"\x00" * (1 << 20)
        yield b"\r\n--b--\r\n"

    r = client.post("/api/continue", content=chunks(), headers={"Content-Type": "multipart/form-data; boundary=b"})
    assert r.status_code == 413 and "limit" in _one_line(r)


# ---- files: only from the output folder ---------------------------------------------------

def _raw_get(app, raw: str) -> tuple[int, bytes]:
    """GET with the path exactly as written (clients normalise '..' away; an attacker's does not)."""
    from urllib.parse import unquote

    sent: list[dict] = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http", "path": unquote(raw), "raw_path": raw.encode(),
             "query_string": b"", "headers": [(b"host", b"x")], "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80), "root_path": ""}
    asyncio.run(app(scope, receive, send))
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


@pytest.mark.parametrize("raw", [
    "/files/../x", "/files/../../etc/passwd", "/files/%2e%2e/%2e%2e/etc/passwd", "/files/job/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "/files/..%2f..%2fetc/passwd", "/files/%2e%2e%2f/config.json", "/files/x/..", "/files/./.", "/files/%252e%252e/x", "/static/../app.py",
    "/static/%2e%2e/app.py", "/files/job/.hidden",
])
def test_traversal_attempts_get_nothing(server, raw):
    status, body = _raw_get(server[1], raw)
    assert status in (400, 404) and b"root:" not in body and b"import" not in body


def test_result_store_is_bounded_and_checks_names(tmp_path):
    store = ResultStore(tmp_path / "out", keep=3)
    for _ in range(6):
        job, folder = store.new_job()
        (folder / "a.mid").write_bytes(b"MThd")
        store.finish(job)
    assert len(list((tmp_path / "out").iterdir())) <= 3
    assert store.path(job, "a.mid") and store.path(job, "../a.mid") is None and store.path("..", "a.mid") is None and store.path(job, ".a") is None


# ---- load -----------------------------------------------------------------------------------

def test_twenty_concurrent_requests_are_all_answered(server):
    def one(i: int) -> tuple[int, str]:
        with httpx.Client(base_url=server[0], timeout=180) as c:
            r = c.post("/api/generate", data={**FAST, "seed": str(i)})
            return r.status_code, r.json().get("detail", "")

    began = time.time()
    with ThreadPoolExecutor(20) as ex:
        got = list(ex.map(one, range(20)))
    statuses = [s for s, _ in got]
    assert set(statuses) <= {200, 429, 503} and statuses.count(200) >= 2, got
    assert all(d for s, d in got if s != 200), "a refusal says why"
    assert time.time() - began < 150


# ---- jam --------------------------------------------------------------------------------

def _jam(client) -> tuple[list[dict], dict[str, float]]:
    """A jam's events, and the client's milliseconds from the request to the first of each type."""
    notes = [{"pitch": 60 + i, "start": i * 0.25, "duration": 0.2} for i in range(8)]
    events, arrived = [], {}
    began = time.perf_counter()
    with client.stream("POST", "/api/jam", json={"notes": notes, "bars": 1, "seed": 3}) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/x-ndjson")
        for line in r.iter_lines():
            if line:
                events.append(json.loads(line))
                arrived.setdefault(events[-1]["type"], (time.perf_counter() - began) * 1000)
    return events, arrived


def test_jam_streams_notes_with_their_times(client, monkeypatch):
    from types import SimpleNamespace

    import cadenza.web.jam as jam

    events, arrived = _jam(client)
    kinds = [e["type"] for e in events]
    assert kinds[0] == "start" and kinds[-1] == "end" and "on" in kinds and "error" not in kinds
    ons, end = [e for e in events if e["type"] == "on"], events[-1]
    assert ons[0]["time"] == 0 and ons[0]["server_ms"] < 2000
    # the server's times against the client's clock: a note reaches the client after it leaves the server
    assert 0 < ons[0]["server_ms"] <= arrived["on"] and ons[0]["server_ms"] <= end["total_ms"] <= arrived["end"], (events, arrived)
    assert all(a["time"] <= b["time"] for a, b in zip(ons, ons[1:]))
    assert sum(e["type"] == "off" for e in events) == len(ons), "every note ends"
    # and read from the server's clock in milliseconds: with one that moves 125 ms a reading (the
    # start, the first note, the end), the reply reports exactly 125 and 250
    ticks = iter(range(0, 10_000, 125))
    monkeypatch.setattr(jam, "time", SimpleNamespace(perf_counter=lambda: next(ticks) / 1000, time_ns=time.time_ns))
    events, _ = _jam(client)
    first = next(e for e in events if e["type"] == "on")
    assert (first["server_ms"], events[-1]["first_note_ms"], events[-1]["total_ms"]) == (125.0, 125.0, 250.0), events[-1]


def test_jam_refuses_bad_phrases(client):
    assert client.post("/api/jam", json={"notes": []}).status_code == 422
    r = client.post("/api/jam", json={"notes": [{"pitch": 60, "start": 0, "duration": 0.3}], "model": "mozart-kern"})
    assert r.status_code == 422 and "cannot jam" in _one_line(r)
    _one_line(client.post("/api/jam", content=b"{not json", headers={"Content-Type": "application/json"}))


def test_serve_command_refuses_an_unknown_model_in_one_line():
    import subprocess
    import sys

    res = subprocess.run([sys.executable, "-m", "cadenza", "serve", "--model", "no-such-model", "--port", str(_free_port())], capture_output=True, text=True, timeout=120)
    assert res.returncode == 2
    assert "Traceback" not in res.stderr and "no-such-model" in res.stderr and len(res.stderr.strip().splitlines()) == 1


KERN_4 = ("**kern\t**kern\n*clefF4\t*clefG2\n*k[]\t*k[]\n*C:\t*C:\n*M4/4\t*M4/4\n"
          + "".join(f"={b}\t={b}\n4C\t4c\n4E\t4e\n4G\t4g\n4c\t4cc\n" for b in range(1, 5)) + "==\t==\n*-\t*-\n")


def test_infill_rewrites_the_bars_asked_and_keeps_the_rest(client):
    models = {m["name"]: m for m in client.get("/api/models").json()["models"]}
    assert models["mozart-kern"]["infills"]
    r = client.post("/api/infill", data={"model": "mozart-kern", "variations": "1", "seed": "2", "rewrite": "2-3"}, files={"file": ("scale.krn", KERN_4.encode(), "text/plain")})
    assert r.status_code == 200, r.text
    assert r.json()["rewrite"] == "2-3"
    krn = client.get(r.json()["variations"][0]["krn"]).text
    # bar 1 and bar 4 (with the header and the closing lines) are the file's own, line for line
    assert krn.startswith(KERN_4[: KERN_4.index("=2")]) and krn.endswith(KERN_4[KERN_4.index("=4"):]) and krn != KERN_4
    for data, words in (({"rewrite": "3-2"}, "backwards"), ({"rewrite": "7-8"}, "bar"), ({}, "which bars"), ({"rewrite": "two"}, "5-8")):
        bad = client.post("/api/infill", data={"model": "mozart-kern", **data}, files={"file": ("scale.krn", KERN_4.encode(), "text/plain")})
        assert bad.status_code == 422 and words in _one_line(bad), (data, bad.text)


# ---- messages in the page's words ----------------------------------------------------------

def _plain_words(detail: str) -> None:
    """No command-line flag and no parser's own text in a message the page shows."""
    import re

    assert not re.search(r"--[a-z]", detail), detail
    for library in ("iostream", "MiniMidi", "Invaild", "music21", "Exception", "ParseError", "symusic", "verovio"):
        assert library not in detail, detail


@pytest.mark.parametrize("path, data, name, body, words", [
    ("/api/continue", {**FAST, "model": "piano-notewise"}, "song.mid", b"MThd" + b"\xff" * 200, "song.mid: this MIDI file cannot be read"),
    ("/api/continue", {**FAST, "model": "mozart-kern"}, "song.mid", b"MThd\x00\x00\x00\x06\x00\x01\x00\x02\x01\xe0MTrk\x00\x00\x10\x00garbage", "song.mid: this MIDI file"),
    ("/api/infill", {"model": "mozart-kern", "rewrite": "2"}, "song.mid", b"MThd\x00\x00\x00\x06\x00\x01", "song.mid: this MIDI file"),
    ("/api/continue", {**FAST, "model": "mozart-kern"}, "tune.krn", b"**kern\n4c\n4q&&\n*-\n*-\n*x\n", "tune.krn:5: music after all spines ended"),  # the kern reader names the line (no music21 pre-read: issue #23's 3 s)
    ("/api/continue", {**FAST, "model": "piano-notewise"}, "tune.musicxml", b"<score-partwise><part", "tune.musicxml: this MusicXML file cannot be read"),
    ("/api/infill", {"model": "mozart-kern", "rewrite": "8-5"}, "scale.krn", KERN_4.encode(), "bars to rewrite 8-5"),
    ("/api/infill", {"model": "piano-notewise", "rewrite": "8-5"}, "p.mid", None, "bars to rewrite 8-5"),
])
def test_errors_name_the_page_fields_not_flags_or_libraries(client, tmp_path, path, data, name, body, words):
    r = client.post(path, data=data, files={"file": (name, _midi_bytes(tmp_path) if body is None else body, "application/octet-stream")})
    assert r.status_code == 422, r.text
    detail = _one_line(r)
    assert detail.startswith(words), detail
    _plain_words(detail)


def test_metre_and_key_errors_name_the_fields(client):
    for data, words in (({"metre": "5/3"}, "metre 5/3: give a time signature"), ({"key": "B#"}, "key B#: needs 12 sharps")):
        r = client.post("/api/generate", data={"model": "mozart-kern", "bars": "1", **data})
        assert r.status_code == 422 and _one_line(r).startswith(words), r.text
        _plain_words(r.json()["detail"])


def test_plain_drops_command_line_advice_and_keeps_the_page_fields():
    from cadenza.web.plain import plain

    assert plain("--prime is not valid kern at character 3 ('x'): bad (use --no-constrained to sample without the checker)") == "prime is not valid kern at character 3 ('x'): bad"
    assert plain("/srv/out/prompt.mid: 2 of 2 infill(s) failed after 4 tries (no bar); try other bars, --temperature or --seed",
                 {"/srv/out/prompt.mid": "mine.mid"}) == "mine.mid: 2 of 2 infill(s) failed after 4 tries (no bar); try other bars, temperature or seed"
    assert plain("run: this model was not trained to fill in the middle; train one with `cadenza train --fim-rate 0.5`") == "run: this model was not trained to fill in the middle"
    assert plain("--composer Liszt: unknown composer; this model knows Bach, Chopin") == "composer Liszt: unknown composer; this model knows Bach, Chopin"
    assert plain("--metre/--key: a notewise model has no metre or key to choose (use a kern model)") == "metre and key: a notewise model has no metre or key to choose (use a kern model)"
