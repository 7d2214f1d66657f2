"""Security headers on every response; portal pages also get no-referrer so tokens do not leak.

Nothing but static assets and branding images may be cached: merchant pages show customers' data (a shared
computer's back button after sign-out), portal pages and API answers carry portal links.
"""

from __future__ import annotations

from fastapi.responses import PlainTextResponse
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.gateways.base import BrowserSources
from server.http_middleware import HttpMiddleware


def content_security_policy(gateway: BrowserSources | None = None) -> str:
    """NiceGUI renders with Vue from inline bootstrap scripts, hence 'unsafe-inline' and 'unsafe-eval'; everything
    else, its websocket included ('self' covers ws:/wss: to this host), is restricted to this origin, plus exactly the
    payment gateway's card element origins (Stripe.js, its frames and API; none for the built-in test gateway)."""
    gateway = gateway or BrowserSources()
    script = " ".join(("'self' 'unsafe-inline' 'unsafe-eval'", *gateway.script))
    connect = " ".join(("'self'", *gateway.connect))
    frame = " ".join(("'self'", *gateway.frame))
    return "; ".join(
        (
            "default-src 'self'",
            f"script-src {script}",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data: blob:",
            "font-src 'self' data:",
            f"connect-src {connect}",
            f"frame-src {frame}",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'self'",
        )
    )


CONTENT_SECURITY_POLICY = content_security_policy()
PORTAL_PREFIX = "/portal/"
# Responses that set their own caching (versioned static files and branding images).
CACHEABLE_PREFIXES = ("/_nicegui/", "/media/")
# Browsers then use only https for this host, for a year; sent when PUBLIC_URL is https (RFC 6797: a browser ignores
# it over plain http, and a site served over http must never promise https).
STRICT_TRANSPORT_SECURITY = "max-age=31536000; includeSubDomains"


def add_security_headers(
    headers: MutableHeaders, path: str, *, https_only: bool, policy: str = CONTENT_SECURITY_POLICY
) -> None:
    headers.setdefault("Content-Security-Policy", policy)
    if https_only:
        headers.setdefault("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "SAMEORIGIN")
    headers.setdefault("Referrer-Policy", "same-origin")
    if not path.startswith(CACHEABLE_PREFIXES):
        headers.setdefault("Cache-Control", "no-store")
    if path.startswith(PORTAL_PREFIX):
        headers["Referrer-Policy"] = "no-referrer"
        headers["Cache-Control"] = "no-store"


class SecurityHeadersMiddleware(HttpMiddleware):
    """Adds the headers above to every response, and refuses paths and queries that contain NUL.

    `https_only`: the site is served over https only (PUBLIC_URL), so browsers are told to never use plain http.
    `content_security_policy`: the policy with the payment gateway's origins (`content_security_policy(...)`).
    """

    def __init__(
        self, app: ASGIApp, *, https_only: bool, content_security_policy: str = CONTENT_SECURITY_POLICY
    ) -> None:
        super().__init__(app)
        self.https_only = https_only
        self.content_security_policy = content_security_policy

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                add_security_headers(
                    MutableHeaders(scope=message),
                    path,
                    https_only=self.https_only,
                    policy=self.content_security_policy,
                )
            await send(message)

        if "\x00" in path or b"%00" in scope["query_string"]:
            # No id, token or search contains NUL, and PostgreSQL refuses it in text (an error, not a "not found").
            refusal = PlainTextResponse("Bad request", status_code=400, headers={"Cache-Control": "no-store"})
            await refusal(scope, receive, send_with_headers)
            return
        await self.app(scope, receive, send_with_headers)
