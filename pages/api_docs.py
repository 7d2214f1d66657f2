"""`/docs`: the REST API's Swagger UI, served from this site (the `swagger-ui-py` package), so it works offline.

FastAPI's own docs page loads Swagger UI from a CDN, which the Content-Security-Policy forbids; here its files come from
`/docs/assets/`, so the page needs no exception to the site's policy.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib.resources import files
from typing import Any

from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from nicegui import app
from starlette.routing import BaseRoute

TITLE = "Customer portal API"
OPENAPI_URL = "/openapi.json"
ASSETS = "/docs/assets"
# Swagger UI 5 (OpenAPI 3.1, which FastAPI writes), as the swagger-ui-py package ships it.
SWAGGER_UI_FILES = files("swagger_ui") / "static"


def docs_page() -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url=OPENAPI_URL,
        title=TITLE,
        swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS}/favicon-32x32.png",
    )


def register(api_routes: Sequence[BaseRoute]) -> None:
    """`/docs` and `/openapi.json` for the REST API's routes (served by their own app, server/api_app.py)."""

    def api_schema() -> dict[str, Any]:
        """The OpenAPI document of the REST API alone (not of the site's pages and files), built once."""
        if app.openapi_schema is None:
            app.openapi_schema = get_openapi(title=TITLE, version="1", routes=api_routes)
        return app.openapi_schema

    app.openapi_url = OPENAPI_URL
    app.openapi = api_schema  # type: ignore[method-assign]
    app.setup()  # adds /openapi.json (no docs_url: FastAPI's CDN page stays off)
    app.mount(ASSETS, StaticFiles(directory=str(SWAGGER_UI_FILES)), name="swagger-ui")
    app.get("/docs", include_in_schema=False)(docs_page)
