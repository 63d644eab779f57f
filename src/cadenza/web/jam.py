"""Jam mode: the player's phrase in, the model's reply out, note by note, as it is sampled.

``POST /api/jam`` takes the phrase as JSON (notes in seconds) and answers a chunked stream of
JSON lines: ``start``, then ``on`` / ``off`` events (seconds from the reply's first note), then
``end`` with the server's time to first note; ``error`` with one line if it fails. The page
synthesises each note as it arrives. The reply is generation's streaming generator
(:func:`cadenza.generation.stream.stream_notes`): the codec reads each word as it is sampled, so
the first note leaves the server a few sampling steps after the phrase is read; silence before it
is dropped, as the player's pause already separates call from response. Replies run on their own small pool, and
come first (``jobs.JamFirst``): generations wait at their next step while a reply is sampled.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any, Callable, Iterator, Optional

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from cadenza import CadenzaError
from cadenza.files import one_line
from cadenza.generation.request import DEFAULT
from cadenza.web.models import jams
from cadenza.web.plain import plain
from cadenza.web.uploads import WebError

router = APIRouter()


class PlayedNote(BaseModel):
    pitch: int = Field(ge=0, le=127)
    start: float = Field(ge=0, le=600, description="seconds from the phrase's start")
    duration: float = Field(gt=0, le=60, description="seconds")
    velocity: int = Field(80, ge=1, le=127)


class Phrase(BaseModel):
    notes: list[PlayedNote] = Field(min_length=1, max_length=2000)
    model: Optional[str] = None
    bars: float = Field(2, gt=0, le=16, description="length of the reply in bars of the model's metre")
    temperature: float = Field(DEFAULT.options.temperature, ge=0.05, le=3)
    top_p: float = Field(DEFAULT.options.top_p, gt=0, le=1)
    seed: Optional[int] = None


def stream_reply(run: Any, phrase: Phrase, emit: Callable[[dict[str, Any]], None], stop: threading.Event, max_tokens: int = 3000,
                 arrived: float | None = None) -> None:
    """Sample the reply token by token (:func:`cadenza.generation.stream.stream_notes`), calling
    ``emit`` with each note event and a final ``end`` with the server's timings. Runs in a worker
    thread; ``stop`` ends it early (the player plays again). The first note says where its time
    went: ``wait_ms`` from the request's arrival (``arrived``, perf_counter) to sampling, and
    ``server_ms`` sampling to the note."""
    from cadenza.generation import SamplingOptions
    from cadenza.generation.stream import stream_notes

    began = time.perf_counter()
    if not jams(run):
        raise CadenzaError(f"{run.name} cannot jam: choose a notewise model")
    played = [(n.start, n.pitch, n.duration, n.velocity) for n in phrase.notes]
    options = SamplingOptions(temperature=phrase.temperature, top_p=phrase.top_p)
    seed = phrase.seed if phrase.seed is not None else int(time.time_ns() % (1 << 31))
    first = None
    for event in stream_notes(run, played, phrase.bars, options, seed, stop, max_tokens):
        if event["type"] == "on" and first is None:
            first = time.perf_counter() - began
            event["server_ms"] = round(first * 1000, 1)
            if arrived is not None:
                event["wait_ms"] = round((began - arrived) * 1000, 1)
        if event["type"] == "end":
            event = {"type": "end", "notes": event["notes"], "tokens": event["tokens"], "first_note_ms": None if first is None else round(first * 1000, 1),
                     "total_ms": round((time.perf_counter() - began) * 1000, 1), "seconds": event["seconds"]}
        emit(event)


@router.post("/api/jam", summary="Call and response: a phrase in, the reply streamed out as JSON lines (application/x-ndjson)")
async def jam(phrase: Phrase, request: Request) -> StreamingResponse:
    arrived = time.perf_counter()
    web = request.app.state.web
    name = phrase.model or web.models.jam_default()
    loaded = web.models.ready(name) or await asyncio.get_running_loop().run_in_executor(None, web.models.get, name)
    if not jams(loaded):
        raise WebError(422, f"{loaded.name} cannot jam: choose a notewise model")
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue = asyncio.Queue()
    stop = threading.Event()

    def emit(event: dict[str, Any]) -> None:
        loop.call_soon_threadsafe(queue.put_nowait, event)

    def work() -> None:
        try:
            with web.jam_first.reply():  # generations wait at their next step meanwhile
                stream_reply(loaded, phrase, emit, stop, arrived=arrived)
        except CadenzaError as exc:
            emit({"type": "error", "message": plain(exc)})
        except Exception as exc:  # noqa: BLE001 - the stream has begun: report it in the stream
            emit({"type": "error", "message": f"the reply failed ({one_line(exc)})"})
        finally:
            emit({"type": "_closed"})

    web.jam_pool.submit(work)  # Busy -> 503 before the stream begins

    async def lines() -> Iterator[bytes]:
        yield (json.dumps({"type": "start", "model": loaded.name}) + "\n").encode()
        try:
            while True:
                event = await queue.get()
                if event["type"] == "_closed":
                    return
                yield (json.dumps(event) + "\n").encode()
        finally:
            stop.set()  # the client went away or the reply ended

    return StreamingResponse(lines(), media_type="application/x-ndjson", headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
