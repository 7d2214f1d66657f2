"""Only pages of this site may open NiceGUI's socket.io connection: a handshake from another origin is refused.

NiceGUI's socket.io server accepts any `Origin`. A page's actions travel over that connection, so another site
that learned a page's client id could otherwise drive it from the victim's browser (cross-site websocket hijacking).
Browsers always send `Origin` with websocket and cross-origin requests; requests without one (not from a browser)
pass, as they carry no victim's cookies.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from server.nicegui_internals import SOCKET_PATH_PREFIX


def _hostname(netloc: str) -> str | None:
    """The host of `host[:port]`, in lower case; None when there is none or it cannot be read."""
    try:
        return urlsplit(f"//{netloc}").hostname or None
    except ValueError:  # an unclosed IPv6 bracket, say
        return None


class SameOriginSocketMiddleware:
    """Refuses socket.io requests (websocket and long-polling) whose `Origin` is neither this request's host nor
    `public_url`'s."""

    def __init__(self, app: ASGIApp, *, public_url: str) -> None:
        self.app = app
        self.public_host = urlsplit(public_url).hostname

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and scope["path"].startswith(SOCKET_PATH_PREFIX):
            headers = dict(scope["headers"])
            origin = headers.get(b"origin")
            if origin is not None and not self._allowed(origin.decode("latin-1"), headers):
                if scope["type"] == "websocket":
                    await send({"type": "websocket.close", "code": 1008})  # before accepting: an HTTP 403
                else:
                    await PlainTextResponse("Cross-origin requests are refused.", status_code=403)(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _allowed(self, origin: str, headers: dict[bytes, bytes]) -> bool:
        """The page's origin names this host (any port: cookies do not tell ports apart either, and behind a TLS
        proxy the app sees another scheme and port than the browser), or the public URL's host."""
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https"):  # "null" (sandboxed frames, files) and anything else
            return False
        host = _hostname(headers.get(b"host", b"").decode("latin-1"))
        origin_host = _hostname(parts.netloc)
        return origin_host is not None and origin_host in {host, self.public_host}
