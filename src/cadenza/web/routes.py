"""The JSON API the page uses and scripts can call.

``POST /api/generate`` (form fields), ``POST /api/continue`` (the same, plus ``file``) and
``POST /api/infill`` (``file`` and ``rewrite``, the bars to write anew: ``"5-8"``) all
answer ``{"variations": [{"midi", "svg", "wav", "musicxml", "krn", "png", ...}]}`` with URLs
under ``/files/``. Work runs in the bounded pool; a client-chosen ``job`` id lets the page poll
``GET /api/jobs/{job}`` for progress meanwhile.
"""

from __future__ import annotations

import random
import re
from pathlib import Path
from typing import Any, Optional

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import FileResponse

from cadenza import CadenzaError
from cadenza.generation.request import DEFAULT
from cadenza.music.metre_key import Key, Metre
from cadenza.web.models import describe
from cadenza.web.plain import plain
from cadenza.web.uploads import WebError, read_prompt_file, save_upload
from cadenza.web.variations import playable, render_later, source_of, variation

router = APIRouter()
JOB_ID = re.compile(r"[A-Za-z0-9_-]{4,64}")
MEDIA = {".mid": "audio/midi", ".svg": "image/svg+xml", ".wav": "audio/wav", ".png": "image/png", ".krn": "text/plain; charset=utf-8",
         ".musicxml": "application/vnd.recordare.musicxml+xml", ".json": "application/json", ".txt": "text/plain; charset=utf-8"}


class Params:
    """The fields both generation endpoints take, checked into one place."""

    def __init__(self, model: Optional[str], bars: int, variations: int, seed: Optional[int], temperature: float, top_p: float,
                 form: Optional[str], phrase_bars: int, prompt_bars: int, job: Optional[str], metre: Optional[str] = None, key: Optional[str] = None,
                 rewrite: Optional[str] = None, chords: Optional[str] = None, labels: Optional[dict[str, str]] = None,
                 chord_strength: Optional[float] = None):
        def need(ok: bool, message: str) -> None:
            if not ok:
                raise WebError(422, message)

        need(1 <= bars <= 64, "bars must be between 1 and 64")
        need(1 <= variations <= 6, "variations must be between 1 and 6")
        need(0.05 <= temperature <= 3.0, "temperature must be between 0.05 and 3")
        need(0.0 < top_p <= 1.0, "top-p must be in (0, 1]")
        need(1 <= phrase_bars <= 16 and 1 <= prompt_bars <= 32, "phrase bars must be 1-16 and prompt bars 1-32")
        need(form is None or form == "" or re.fullmatch(r"[A-Za-z]{1,8}", form) is not None, "form must be letters such as AAB or ABA")
        need(job is None or JOB_ID.fullmatch(job) is not None, "job must be 4-64 letters, digits, _ or -")
        need(not chords or len(chords) <= 400, "chords: at most 400 characters, bar by bar such as F | C7 | F | Bb")
        need(all(len(v) <= 40 for v in (labels or {}).values()), "composer, style and instrument: at most 40 characters")
        need(not rewrite or re.fullmatch(r"\s*\d{1,4}\s*(-\s*\d{1,4}\s*)?", rewrite) is not None, "bars to rewrite must look like 5-8 or 3")
        self.model, self.bars, self.variations, self.temperature, self.top_p = model or None, bars, variations, temperature, top_p
        self.seed = random.SystemRandom().randrange(1_000_000) if seed is None else seed
        self.form, self.phrase_bars, self.prompt_bars, self.job = (form or None), phrase_bars, prompt_bars, job
        try:  # parsed here, once, into the values generation carries (a Metre, a Key); the message names the field
            self.metre, self.key = Metre.parse(metre) if metre else None, Key.parse(key) if key else None
        except CadenzaError as exc:
            raise WebError(422, plain(exc)) from None
        self.rewrite = (rewrite or "").strip() or None
        self.chords = (chords or "").strip() or None
        need(chord_strength is None or 0 <= chord_strength <= 100, "chord strength must be between 0 and 100 (0: the model alone)")
        self.chord_strength = chord_strength if self.chords else None
        self.labels = {k: v.strip() for k, v in (labels or {}).items() if v and v.strip()}


def _params(model: Optional[str] = Form(None), bars: int = Form(4), variations: int = Form(DEFAULT.n), seed: Optional[int] = Form(None),
            temperature: float = Form(DEFAULT.options.temperature), top_p: float = Form(DEFAULT.options.top_p), form: Optional[str] = Form(None),
            phrase_bars: int = Form(DEFAULT.phrase_bars), prompt_bars: int = Form(DEFAULT.prompt_bars), job: Optional[str] = Form(None),
            metre: Optional[str] = Form(None), key: Optional[str] = Form(None), rewrite: Optional[str] = Form(None), chords: Optional[str] = Form(None),
            composer: Optional[str] = Form(None), style: Optional[str] = Form(None), instrument: Optional[str] = Form(None),
            chord_strength: Optional[float] = Form(None)) -> Params:
    labels = {"composer": composer or "", "style": style or "", "instrument": instrument or ""}
    return Params(model, bars, variations, seed, temperature, top_p, form, phrase_bars, prompt_bars, job, metre, key, rewrite, chords, labels, chord_strength)


@router.get("/api/models", summary="The models this server offers and what each supports")
def models(request: Request) -> dict[str, Any]:
    web = request.app.state.web
    return {"default": web.models.default, "models": web.models.describe(), "limits": web.limits()}


@router.get("/api/health", summary="Liveness and the worker pool's load")
def health(request: Request) -> dict[str, Any]:
    return {"ok": True, "pool": request.app.state.web.pool.load}


@router.get("/api/jobs/{job}", summary="Progress of a generation the page started with this job id")
def job_progress(job: str, request: Request) -> dict[str, Any]:
    got = request.app.state.web.progress.get(job) if JOB_ID.fullmatch(job) else None
    if got is None:
        raise WebError(404, f"no job {job!r} (it has not started, or it finished long ago)")
    return got


@router.post("/api/generate", summary="New pieces from a model")
async def generate(request: Request, p: Params = Depends(_params)) -> dict[str, Any]:
    return await _run(request, p, None)


@router.post("/api/continue", summary="Continue an uploaded .mid, .krn or .musicxml file")
async def continue_(request: Request, file: UploadFile = File(..., description=".mid, .krn or .musicxml, at most the upload limit"), p: Params = Depends(_params)) -> dict[str, Any]:
    p.rewrite = None  # continuing never rewrites bars: that is /api/infill
    return await _run(request, p, file)


@router.post("/api/infill", summary="Rewrite some bars of an uploaded .krn, .mid or .musicxml file, keeping the rest")
async def infill(request: Request, file: UploadFile = File(..., description=".krn, .mid or .musicxml, at most the upload limit"), p: Params = Depends(_params)) -> dict[str, Any]:
    if not p.rewrite:
        raise WebError(422, "say which bars to rewrite, e.g. 5-8")
    run = request.app.state.web.models.get(p.model)
    if not run.infills:
        offer = [m for m in request.app.state.web.models.names() if request.app.state.web.models.get(m).infills]
        raise WebError(422, f"{run.name} was not trained to fill in the middle; choose one of ({', '.join(offer)})")
    return await _run(request, p, file)


async def _run(request: Request, p: Params, upload: UploadFile | None) -> dict[str, Any]:
    web = request.app.state.web
    run = web.models.get(p.model)  # unknown model: CadenzaError -> 422
    if upload is not None and not p.rewrite and not describe(run)["continues"]:
        raise WebError(422, f"{run.name} cannot continue a prompt; choose one of ({', '.join(m for m in web.models.names() if describe(web.models.get(m))['continues'])})")
    if upload is not None and p.labels:
        raise WebError(422, f"{', '.join(p.labels)}: for new pieces only; a {'rewrite' if p.rewrite else 'continuation'} goes on in the style of its file")
    given = [name for name, value in (("form", p.form), ("metre", p.metre), ("key", p.key)) if value]
    if upload is not None and given:  # refused, never silently dropped (issue #24)
        raise WebError(422, f"{', '.join(given)}: for new pieces only; a {'rewrite' if p.rewrite else 'continuation'} keeps its file's own form, metre and key")
    steer = [name for name in given if name != "form"]
    if steer and not run.codec.can("metre_key"):  # likewise refused, not dropped
        offer = [m for m in web.models.names() if web.models.get(m).codec.can("metre_key")]
        raise WebError(422, f"{' and '.join(steer)}: {run.name} writes in the metre and key it learnt; to choose them, choose one of ({', '.join(offer)})")
    job, folder = web.results.new_job()
    try:
        prompt = None
        if upload is not None:
            prompt = await save_upload(upload, folder, web.options.max_upload)
        web.progress.update(p.job, "queued", **web.pool.load)
        return await web.pool.run(_work, web, run, p, job, folder, prompt, upload.filename if upload else None)
    finally:
        web.results.finish(job)


def _work(web: Any, run: Any, p: Params, job: str, folder: Path, prompt: Path | None, shown: str | None) -> dict[str, Any]:
    """Sample, then render each variation; runs in a worker thread."""
    from cadenza.generation import Request, SamplingOptions, generate
    from cadenza.generation.infill import parse_bars

    def tick(done: int, total: int | None = None, *_: Any) -> None:
        web.jam_first.wait()  # a jam reply being sampled goes first
        web.progress.update(p.job, "sampling", done, total or 0)

    tick(0)
    names = {str(prompt): Path(shown or prompt.name).name} if prompt is not None else {}
    formats = tuple(dict.fromkeys((*run.codec.sample_formats, "mid")))
    try:
        ask = Request(n=p.variations, seed=p.seed, bars=p.bars, options=SamplingOptions(temperature=p.temperature, top_p=p.top_p), labels=p.labels)
        if prompt is not None and p.rewrite:
            if prompt.suffix != ".krn":  # kern files are read by the codec itself, bar by bar
                read_prompt_file(prompt, names[str(prompt)])
            ask = ask.but(prompt=prompt, rewrite=parse_bars(p.rewrite), chords=p.chords, chord_strength=p.chord_strength)
        elif prompt is not None:
            if prompt.suffix != ".krn":  # as above; reading a 200-bar .krn first took 1.4 s of a 3 s budget
                read_prompt_file(prompt, names[str(prompt)])
            ask = ask.but(prompt=prompt, prompt_bars=p.prompt_bars, chords=p.chords, chord_strength=p.chord_strength)
        else:
            ask = ask.but(form=p.form, phrase_bars=p.phrase_bars, chords=p.chords, chord_strength=p.chord_strength, metre=p.metre, key=p.key)
        samples = generate(run, folder, ask, formats=formats, progress=tick)
    except CadenzaError as exc:  # in the page's words: its fields, the user's file name, no flags
        raise WebError(422, plain(exc, names, {"bars": "bars to rewrite"} if p.rewrite else None)) from None
    rewrite = parse_bars(p.rewrite) if prompt is not None and p.rewrite else None
    variations = []
    for k, s in enumerate(samples):
        web.jam_first.wait()
        web.progress.update(p.job, "rendering", k, len(samples))
        variations.append(variation(web, run, p, s, rewrite))
    web.progress.update(p.job, "done", len(samples), len(samples))
    return {"job": job, "model": run.name, "seed": p.seed, "bars": p.bars, "prompt": shown, "rewrite": p.rewrite if prompt is not None else None, "variations": variations}


@router.get("/files/{job}/{name}", summary="A result file (only from the server's output folder)")
async def result_file(job: str, name: str, request: Request) -> FileResponse:
    web = request.app.state.web
    path = web.results.path(job, name)
    if path is None:
        raise WebError(404, "no such file")
    if not path.is_file() and source_of(path) is not None:
        await web.pool.run(_later, web, path)
    if not path.is_file():
        raise WebError(404, "no such file (results are removed after a while; generate again)")
    return FileResponse(path, media_type=MEDIA.get(path.suffix, "application/octet-stream"), filename=name if path.suffix != ".svg" else None,
                        content_disposition_type="attachment" if path.suffix in (".mid", ".krn", ".musicxml") else "inline")


@router.get("/api/score/{job}/{name}", summary="The score pages of a whole piece (a continuation's or a rewrite's), engraved when first asked for")
async def whole_score(job: str, name: str, request: Request) -> dict[str, Any]:
    web = request.app.state.web
    path = web.results.path(job, name)
    if path is None or path.suffix != ".svg" or source_of(path) is None:
        raise WebError(404, "no such piece (results are removed after a while; generate again)")
    pages = sorted(path.parent.glob(f"{path.stem}-[0-9]*.svg"), key=lambda x: int(x.stem.rsplit("-", 1)[1]))
    if not pages:
        pages = await web.pool.run(_later, web, path)
    mid = path.with_suffix(".mid")
    return {"svg_pages": [web.results.url(x) for x in pages], "play": await web.pool.run(playable, mid) if mid.is_file() else None}


def _later(web: Any, path: Path) -> list[Path]:
    """Render a whole piece's file on first request; a 422 in words when it cannot be."""
    try:
        return render_later(path, render=web.render)
    except CadenzaError as exc:
        kind = {".krn": "kern", ".musicxml": "MusicXML", ".wav": "audio", ".svg": "a score"}.get(path.suffix, path.suffix[1:])
        raise WebError(422, f"{kind} is not available for this piece ({plain(exc, {str(x): path.stem for x in path.parent.iterdir()})})") from None
