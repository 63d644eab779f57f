"""The API's documentation pages, ``/docs`` (Swagger UI) and ``/redoc`` (ReDoc), served whole
from installed packages, so that they work with no network, as the rest of the page does.

FastAPI's own pages load their scripts from a CDN and stay blank offline. The scripts come from
the ``fastapi-offline`` package (a dependency): its wheel ships Swagger UI 5 and ReDoc 2 with a
favicon and nothing else, under the MIT licence, and needs only FastAPI. (``swagger-ui-bundle``
ships an older Swagger UI 4 without ReDoc and pulls in Jinja2.) Only its files are used, mounted
under ``/static-docs``; the pages themselves are FastAPI's, pointed at them.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = "/static-docs"
# Nothing off this server, even what the scripts themselves would fetch (ReDoc's sidebar shows
# its maker's logo from their CDN; offline it hides it): inline code and data/blob URLs only.
LOCAL_ONLY = {"Content-Security-Policy": "default-src 'self' 'unsafe-inline' data: blob:"}


def assets_folder() -> Path:
    """The folder of Swagger UI's and ReDoc's scripts inside the installed ``fastapi_offline``."""
    return Path(str(files("fastapi_offline") / "static"))


def add_docs(app: FastAPI) -> None:
    """Serve ``/docs`` and ``/redoc`` from :func:`assets_folder`; ``app`` was made with
    ``docs_url=None, redoc_url=None``."""
    app.mount(ASSETS, StaticFiles(directory=assets_folder()), name="static-docs")
    openapi = app.openapi_url or "/openapi.json"
    redirect = app.swagger_ui_oauth2_redirect_url or "/docs/oauth2-redirect"

    @app.get("/docs", include_in_schema=False)
    def swagger() -> HTMLResponse:
        page = get_swagger_ui_html(openapi_url=openapi, title=f"{app.title}: API", oauth2_redirect_url=redirect,
                                   swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js", swagger_css_url=f"{ASSETS}/swagger-ui.css",
                                   swagger_favicon_url=f"{ASSETS}/favicon.png", swagger_ui_parameters=app.swagger_ui_parameters)
        page.headers.update(LOCAL_ONLY)
        return page

    @app.get(redirect, include_in_schema=False)
    def swagger_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        page = get_redoc_html(openapi_url=openapi, title=f"{app.title}: API", redoc_js_url=f"{ASSETS}/redoc.standalone.js",
                              redoc_favicon_url=f"{ASSETS}/favicon.png", with_google_fonts=False)
        page.headers.update(LOCAL_ONLY)
        return page
