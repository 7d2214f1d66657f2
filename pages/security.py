"""Security headers on every response; portal pages also get no-referrer so tokens do not leak.

Nothing but static assets and branding images may be cached: merchant pages show customers' data (a shared
computer's back button after sign-out), portal pages and API answers carry portal links.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Request, Response
from fastapi.responses import PlainTextResponse
from nicegui import app
from starlette.middleware.base import BaseHTTPMiddleware

from app.context import AppContext

# NiceGUI renders with Vue from inline bootstrap scripts and talks over a websocket, hence 'unsafe-inline',
# 'unsafe-eval' and ws:/wss:; everything else is restricted to this origin.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline' 'unsafe-eval'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self' ws: wss:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'self'",
    )
)
PORTAL_PREFIX = "/portal/"
# Responses that set their own caching (versioned static files and branding images).
CACHEABLE_PREFIXES = ("/_nicegui/", "/media/")


class SecurityHeadersMiddleware(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        if "\x00" in request.url.path or "%00" in request.url.query:
            # No id, token or search contains NUL, and PostgreSQL refuses it in text (an error, not a "not found").
            response: Response = PlainTextResponse(
                "Bad request", status_code=400, headers={"Cache-Control": "no-store"}
            )
        else:
            response = await call_next(request)
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        headers.setdefault("Referrer-Policy", "same-origin")
        if not request.url.path.startswith(CACHEABLE_PREFIXES):
            headers.setdefault("Cache-Control", "no-store")
        if request.url.path.startswith(PORTAL_PREFIX):
            headers["Referrer-Policy"] = "no-referrer"
            headers["Cache-Control"] = "no-store"
        return response


def install(_context: AppContext) -> None:
    app.add_middleware(SecurityHeadersMiddleware)
