"""The web app: ``cadenza serve`` opens a page to prompt, generate, hear and download music, and
to jam (call and response) with a model.

``app`` builds the FastAPI application (options, middleware, error handling, the page),
``routes`` the JSON API (generate, continue, models, progress, result files), ``jam`` the
streamed call-and-response endpoint and its step-by-step note decoder, ``jobs`` the bounded
worker pool, the render processes, jam-first priority and the progress table, ``variations``
what each sample is shown as (a continuation's or rewrite's new bars with context; the whole
piece rendered on request), ``preview`` an upload's notes for the prompt roll, ``results`` the
bounded output folder, ``uploads`` the size-limited, validated prompt files, ``models`` the
models, loaded once and shared, ``sounds`` the SoundFont piano notes the page plays live. ``static/``
is the page itself: plain HTML, CSS and JavaScript, no CDN, so it works offline.

Floor 9 (the top, beside ``cli``): may import generation, rendering, codecs and models; nothing
in Cadenza imports it. FastAPI and uvicorn are imported only here.
"""

from __future__ import annotations

from cadenza.web.app import WebOptions, create_app, serve

__all__ = ["WebOptions", "create_app", "serve"]
