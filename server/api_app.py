"""The REST API's own ASGI app, served ahead of NiceGUI's page middleware.

NiceGUI's middleware is made for browsers: it starts a session for every request that comes without one (a cookie,
and a user storage kept until its next pruning), and three of its layers are Starlette's BaseHTTPMiddleware, which
runs a task group for every read of a request body. API clients have no use for either, and a create paid for both:
8.3 CPU ms a request in the server process instead of 4.7, at ten clients (benchmarks/results/history.md). Here
`/api/` requests get what applies to them: the security headers, the body limit, gzip and the API's error shape.
"""

from __future__ import annotations

import logging
import secrets

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from nicegui import app
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from app.api import build_router
from app.api.errors import error_response, http_error_response
from app.context import AppContext
from server import request_limits
from server.http_middleware import gzip_middleware
from server.security_headers import SecurityHeadersMiddleware

log = logging.getLogger(__name__)
API_PREFIX = "/api/"


def build_api_app(context: AppContext, security_headers: dict[str, object]) -> FastAPI:
    """The `/api/v1` routes on an app of their own (its OpenAPI document is served by pages/api_docs.py)."""
    api = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    api.include_router(build_router(context))
    api.add_exception_handler(HTTPException, _route_error)  # type: ignore[arg-type]
    api.add_exception_handler(Exception, _unexpected_error)
    api.add_middleware(gzip_middleware)
    request_limits.install(api)
    api.add_middleware(SecurityHeadersMiddleware, **security_headers)  # type: ignore[arg-type]
    return api


def serve_ahead_of_pages(api: ASGIApp) -> None:
    """Have NiceGUI's app hand `/api/` requests to `api` before any of its own middleware runs.

    Starlette builds an app's middleware stack on its first request; the API goes in front of it then, so that the
    middleware NiceGUI adds in `ui.run` stays behind it. The class's builder, not the app's: installing twice (the
    tests run main.py once per test) replaces the front rather than stacking two.
    """
    build_page_stack = type(app).build_middleware_stack

    def build_stack() -> ASGIApp:
        return _ApiFirst(api, build_page_stack(app))

    app.build_middleware_stack = build_stack  # type: ignore[method-assign]


class _ApiFirst:
    def __init__(self, api: ASGIApp, pages: ASGIApp) -> None:
        self.api = api
        self.pages = pages

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(API_PREFIX):
            await self.api(scope, receive, send)
        else:
            await self.pages(scope, receive, send)


async def _route_error(request: Request, error: HTTPException) -> JSONResponse:
    """An unknown path or method under `/api/` (the routes' own refusals are answered by `ApiRoute`)."""
    if error.status_code == 404:
        return error_response(404, "not_found", f"No such API route: {request.method} {request.url.path}.")
    return http_error_response(error)


async def _unexpected_error(_request: Request, error: Exception) -> JSONResponse:
    reference = secrets.token_hex(4)
    log.error("Unexpected error in an API request (reference %s)", reference, exc_info=error)
    message = f"Something went wrong on our side. If it keeps happening, contact us with reference {reference}."
    return error_response(500, "api_error", message)
