"""The page's piano sound: a few notes of the SoundFont piano the WAVs use
(:mod:`cadenza.render.samples`), served for Web Audio to pitch-shift, so the keys, jam replies
and the player sound like the rendered audio rather than an oscillator (issue #23).

``GET /api/piano`` lists the sampled pitches; ``GET /api/piano/{pitch}.wav`` is one of them,
made once at start-up (:func:`warm`, about half a second) and cached for a day by the browser.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from cadenza.render.samples import PITCHES, RATE, SECONDS, piano_note
from cadenza.web.uploads import WebError

router = APIRouter()


@router.get("/api/piano", summary="The pitches of the piano samples the page plays live, and where each is")
def piano() -> dict[str, Any]:
    return {"pitches": list(PITCHES), "rate": RATE, "seconds": SECONDS, "url": "/api/piano/{pitch}.wav"}


@router.get("/api/piano/{pitch}.wav", summary="One piano sample: the SoundFont's piano holding this pitch (mono WAV)")
def piano_sample(pitch: int) -> Response:
    if pitch not in PITCHES:
        raise WebError(404, f"no sample of pitch {pitch}; the samples are {PITCHES[0]}, {PITCHES[1]} ... {PITCHES[-1]}")
    return Response(piano_note(pitch), media_type="audio/wav", headers={"Cache-Control": "public, max-age=86400"})


def warm() -> None:
    """Make every sample now, before the page asks for them."""
    for p in PITCHES:
        piano_note(p)
