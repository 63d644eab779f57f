"""The FastAPI application: options, the shared state, limits and error handling, the page.

Every error a client sees is JSON ``{"detail": "one line"}`` with a 4xx/5xx status, never a
traceback. Request bodies are limited before they are read: a declared length over the limit is
refused at once with 413, and a body that grows past it while arriving (chunked) is cut off.
"""

from __future__ import annotations

import asyncio
import json
import logging
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, AsyncIterator

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from cadenza import CadenzaError
from cadenza.files import one_line
from cadenza.web.jobs import Busy, JamFirst, ProgressTable, RenderPool, WorkerPool
from cadenza.web.models import ModelStore
from cadenza.web.plain import plain
from cadenza.web.results import ResultStore
from cadenza.web.uploads import WebError

STATIC = Path(__file__).parent / "static"
log = logging.getLogger("cadenza.web")


@dataclass(frozen=True)
class WebOptions:
    """How the server runs. ``models``: names or run folders (empty: every bundled model);
    ``out``: the output folder (None: a temporary one); ``keep``: jobs kept there."""

    host: str = "127.0.0.1"
    port: int = 8000
    models: tuple[str, ...] = ()
    out: Path | None = None
    keep: int = 200
    max_upload: int = 5 << 20
    workers: int = 2
    queue: int = 8
    jam_workers: int = 1
    jam_queue: int = 2
    nice: int = 10  # generation workers' CPU priority below jam replies' (0: the same)
    render_processes: bool = True  # engrave and synthesise in processes of their own (jobs.RenderPool)


@dataclass
class WebState:
    """What every request shares: app.state.web."""

    options: WebOptions
    models: ModelStore
    results: ResultStore
    pool: WorkerPool
    jam_pool: WorkerPool
    progress: ProgressTable = field(default_factory=ProgressTable)
    jam_first: JamFirst = field(default_factory=JamFirst)
    renderer: RenderPool | None = None  # None: render in the calling thread

    def render(self, *args: Any, **kwargs: Any) -> Any:
        """:func:`cadenza.render.render` in a render process (see :class:`RenderPool`)."""
        from cadenza.render import render

        return self.renderer.call(render, *args, **kwargs) if self.renderer is not None else render(*args, **kwargs)

    def limits(self) -> dict[str, Any]:
        return {"max_upload": self.options.max_upload, "bars": [1, 64], "variations": [1, 6], "suffixes": [".mid", ".midi", ".krn", ".musicxml", ".xml", ".mxl"]}


class BodyLimit:
    """ASGI middleware: refuse request bodies over ``limit`` bytes without reading them."""

    def __init__(self, app: Any, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            return await _too_large(send, self.limit)
        seen, over, started = 0, False, False

        async def limited() -> dict:
            nonlocal seen, over
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    over = True
                    raise WebError(413, "too large")
            return message

        async def guarded(message: dict) -> None:
            nonlocal started
            if over and not started:
                started = True
                return await _too_large(send, self.limit)
            if not over:
                started = True
                await send(message)

        try:
            await self.app(scope, limited, guarded)
        except WebError:
            if not started:
                await _too_large(send, self.limit)


async def _too_large(send: Any, limit: int) -> None:
    body = json.dumps({"detail": f"the request is larger than the {limit // (1 << 20)} MB upload limit"}).encode()
    await send({"type": "http.response.start", "status": 413, "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


def create_app(options: WebOptions = WebOptions()) -> FastAPI:
    from cadenza.web import jam, preview, routes, sounds
    from cadenza.web.docs import add_docs
    from cadenza.web.variations import warm

    state = WebState(options, ModelStore(list(options.models)), ResultStore(options.out, keep=options.keep),
                     WorkerPool(options.workers, options.queue, nice=options.nice), WorkerPool(options.jam_workers, options.jam_queue, "cadenza-jam"))
    state.renderer = RenderPool(options.workers, options.nice) if options.render_processes else None
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await asyncio.get_running_loop().run_in_executor(None, state.models.warm)
        await asyncio.wrap_future(state.jam_pool.submit(state.models.warm_jam))
        await asyncio.get_running_loop().run_in_executor(None, _quietly, sounds.warm)
        await asyncio.get_running_loop().run_in_executor(None, state.renderer.warm if state.renderer else (lambda f: f()), warm)
        yield
        if state.renderer is not None:
            state.renderer.close()
        state.pool.close()
        state.jam_pool.close()
        state.results.close()

    app = FastAPI(lifespan=lifespan, title="Cadenza", version="0.1.0", summary="Generate, continue and jam with Cadenza's music models.",
                  description="The page at `/` uses this API; scripts may call it too. Result URLs are served under `/files/`.",
                  docs_url=None, redoc_url=None)  # served from the package instead: web/docs.py
    app.state.web = state
    app.include_router(routes.router)
    app.include_router(jam.router)
    app.include_router(preview.router)
    app.include_router(sounds.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    add_docs(app)
    # the body limit leaves room for the multipart wrapping around a file of max_upload bytes
    app.add_middleware(BodyLimit, limit=options.max_upload + (64 << 10))

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    @app.exception_handler(WebError)
    async def web_error(_: Request, exc: WebError) -> JSONResponse:
        return JSONResponse({"detail": exc.message}, status_code=exc.status)

    @app.exception_handler(CadenzaError)
    async def cadenza_error(_: Request, exc: CadenzaError) -> JSONResponse:
        return JSONResponse({"detail": plain(exc)}, status_code=422)

    @app.exception_handler(Busy)
    async def busy(_: Request, exc: Busy) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=503, headers={"Retry-After": "5"})

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(x) for x in first.get("loc", ()) if x not in ("body", "query", "path"))
        return JSONResponse({"detail": f"{where}: {first.get('msg', 'invalid request')}" if where else first.get("msg", "invalid request")}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse({"detail": one_line(Exception(exc.detail)) if exc.detail else "error"}, status_code=exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error")
        return JSONResponse({"detail": f"internal error: {one_line(exc)}"}, status_code=500)

    return app


def _quietly(fn: Any) -> None:
    """Run ``fn``; a CadenzaError (no SoundFont) is logged, not fatal: the page falls back."""
    try:
        fn()
    except CadenzaError as exc:
        log.warning("%s", one_line(exc))


def serve(options: WebOptions = WebOptions()) -> None:
    """Run the server until interrupted (``cadenza serve``)."""
    import uvicorn

    app = create_app(options)
    print(f"Cadenza is at http://{options.host}:{options.port}/  (results in {app.state.web.results.root}; Ctrl+C stops)", flush=True)
    uvicorn.run(app, host=options.host, port=options.port, log_level="warning", timeout_graceful_shutdown=2)
