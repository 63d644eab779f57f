"""Jam mode: the player's phrase in, the model's reply out, note by note, as it is sampled.

``POST /api/jam`` takes the phrase as JSON (notes in seconds) and answers a chunked stream of
JSON lines: ``start``, then ``on`` / ``off`` events (seconds from the reply's first note), then
``end`` with the server's time to first note; ``error`` with one line if it fails. The page
synthesises each note as it arrives. Notewise words are decoded one at a time (a strike sounds
now, a release ends a note, a wait moves time on), so the first note leaves the server a few
sampling steps after the phrase is read; silence before it is dropped, as the player's pause
already separates call from response. Replies run on their own small pool so a long
generation never delays one.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Optional

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from cadenza import CadenzaError
from cadenza.files import one_line
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
    temperature: float = Field(1.0, ge=0.05, le=3)
    top_p: float = Field(0.95, gt=0, le=1)
    seed: Optional[int] = None


@dataclass
class Reply:
    """Reads sampled notewise words and says, per word, which notes start or stop and when."""

    lowest: int
    note_range: int
    seconds_per_step: float
    limit_steps: int
    now: int = 0
    origin: Optional[int] = None  # the step of the first note
    sounding: dict[int, int] = field(default_factory=dict)  # pitch -> step struck

    def _t(self, step: int) -> float:
        return round((step - (self.origin or 0)) * self.seconds_per_step, 4)

    @property
    def finished(self) -> bool:
        return self.origin is not None and self.now - self.origin >= self.limit_steps

    def read(self, word: str) -> list[dict[str, Any]]:
        from cadenza.codecs.notewise import read_word

        got = read_word(word, self.note_range)
        if got is None:
            return []
        what, _, n = got
        if what == "wait":
            if self.origin is not None:
                self.now = min(self.now + n, self.origin + self.limit_steps)
            return []
        pitch = self.lowest + n
        out = []
        if pitch in self.sounding and (what == "release" or self.sounding[pitch] < self.now):
            del self.sounding[pitch]
            out.append({"type": "off", "pitch": pitch, "time": self._t(self.now)})
        if what == "strike" and pitch not in self.sounding:
            if self.origin is None:
                self.origin = self.now
            self.sounding[pitch] = self.now
            out.append({"type": "on", "pitch": pitch, "time": self._t(self.now), "velocity": 80})
        return out

    def close(self) -> list[dict[str, Any]]:
        end = max(self.now, max(self.sounding.values(), default=self.now) + 1)
        out = [{"type": "off", "pitch": p, "time": self._t(end)} for p in self.sounding]
        self.sounding.clear()
        return out


def phrase_ids(loaded: Any, phrase: Phrase) -> tuple[list[int], float]:
    """The phrase as model ids, at the model's own tempo; returns the ids and seconds a step."""
    from cadenza.codecs.grid import LOWEST
    from cadenza.music import Note, Piece, Track

    codec, ctx = loaded.codec, loaded.context
    qpm = float(ctx.get("tempo") or 120.0)
    num, den = (ctx.get("time_signature") or [4, 4])[:2]
    low, size = LOWEST[codec.options.note_range], codec.options.note_range
    t0 = min(n.start for n in phrase.notes)
    q = qpm / 60.0
    notes = []
    for n in phrase.notes:
        pitch = n.pitch
        while pitch < low:
            pitch += 12
        while pitch >= low + size:
            pitch -= 12
        notes.append(Note((n.start - t0) * q, pitch, max(n.duration * q, 1.0 / codec.options.steps_per_quarter), n.velocity))
    piece = Piece([Track("piano", 0, sorted(notes))], [(0.0, qpm)], [(0.0, int(num), int(den))], name="jam")
    words, _ = codec.fit_prompt(codec.encode_piece(piece), loaded.vocab, "the phrase")
    stoi = {w: i for i, w in enumerate(loaded.vocab)}
    return [stoi[w] for w in words], 60.0 / qpm / codec.options.steps_per_quarter


def stream_reply(loaded: Any, phrase: Phrase, emit: Callable[[dict[str, Any]], None], stop: threading.Event, max_tokens: int = 3000) -> None:
    """Sample the reply token by token, calling ``emit`` with each note event (and a final
    ``end``). Runs in a worker thread; ``stop`` ends it early (the player plays again)."""
    import torch

    from cadenza.codecs.grid import LOWEST
    from cadenza.generation import choose, SamplingOptions

    began = time.perf_counter()
    if not loaded.jams:
        raise CadenzaError(f"{loaded.name} cannot jam: choose a notewise model")
    ids, step_s = phrase_ids(loaded, phrase)
    num, den = (loaded.context.get("time_signature") or [4, 4])[:2]
    spq = loaded.codec.options.steps_per_quarter
    reply = Reply(LOWEST[loaded.codec.options.note_range], loaded.codec.options.note_range, step_s, max(1, round(phrase.bars * num * 4 / den * spq)))
    opt = SamplingOptions(temperature=phrase.temperature, top_p=phrase.top_p)
    gen = torch.Generator().manual_seed(phrase.seed if phrase.seed is not None else int(time.time_ns() % (1 << 31)))
    model, vocab = loaded.model, loaded.vocab
    first = None
    count = 0
    with torch.no_grad():
        logits, state = model(torch.tensor([ids], dtype=torch.long), model.init_state(1))
        last = logits[:, -1]
        for tokens in range(1, max_tokens + 1):
            if stop.is_set() or reply.finished:
                break
            tok = choose(last, opt, gen)
            for event in reply.read(vocab[int(tok)]):
                if event["type"] == "on":
                    count += 1
                    if first is None:
                        first = time.perf_counter() - began
                        event["server_ms"] = round(first * 1000, 1)
                emit(event)
            logits, state = model(tok.view(1, 1), state)
            last = logits[:, -1]
    for event in reply.close():
        emit(event)
    emit({"type": "end", "notes": count, "tokens": tokens, "first_note_ms": None if first is None else round(first * 1000, 1),
          "total_ms": round((time.perf_counter() - began) * 1000, 1), "seconds": reply._t(reply.now)})


@router.post("/api/jam", summary="Call and response: a phrase in, the reply streamed out as JSON lines (application/x-ndjson)")
async def jam(phrase: Phrase, request: Request) -> StreamingResponse:
    web = request.app.state.web
    loaded = await asyncio.get_running_loop().run_in_executor(None, web.models.get, phrase.model or web.models.jam_default())
    if not loaded.jams:
        raise WebError(422, f"{loaded.name} cannot jam: choose a notewise model")
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue = asyncio.Queue()
    stop = threading.Event()

    def emit(event: dict[str, Any]) -> None:
        loop.call_soon_threadsafe(queue.put_nowait, event)

    def work() -> None:
        try:
            stream_reply(loaded, phrase, emit, stop)
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
