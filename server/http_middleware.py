"""The base of this app's middleware (plain ASGI, for HTTP requests only), and its compression."""

from __future__ import annotations

from abc import ABC, abstractmethod
from functools import partial

from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

# Level 6 instead of Starlette's 9: much less time per page for slightly more bytes
# (figures: benchmarks/results/history.md, "Figures behind the tuning in the code").
gzip_middleware = partial(GZipMiddleware, minimum_size=500, compresslevel=6)


class HttpMiddleware(ABC):
    """Runs `handle` for HTTP requests; websockets and lifespan events pass through untouched.

    Plain ASGI rather than Starlette's BaseHTTPMiddleware, whose extra task and stream per request every page
    load would pay.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self.handle(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    @abstractmethod
    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None: ...
