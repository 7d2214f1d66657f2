"""The merchant sign-in check: dashboard pages are closed by default; only public prefixes pass without a user.

The signed-in user lives in the session's server-side storage under `USER_KEY`. `/login/complete`
(`pages/merchant/auth.py`) cannot write that storage for a session id it has just created, so it leaves the user
under `HANDOVER_KEY` in the signed session cookie, and this middleware moves it over on the next request.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import app
from starlette.types import Receive, Scope, Send

from server.http_middleware import HttpMiddleware

PUBLIC_PREFIXES = (
    "/login",
    "/logout",
    "/portal/",
    "/healthz",
    "/api/",
    "/_nicegui",
    "/media/",
    "/docs",
    "/openapi.json",
)
USER_KEY = "merchant_user_id"
# In the (signed) session cookie between `/login/complete` and the next request, which moves it into the new
# session's server-side storage: that storage only exists from the first request that carries the new id.
HANDOVER_KEY = "signed_in_user"


class MerchantSignInMiddleware(HttpMiddleware):
    """Sends requests for non-public paths without a signed-in user to `/login`, to come back afterwards."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope)
        path = request.url.path
        if HANDOVER_KEY in request.session:
            app.storage.user.clear()
            app.storage.user[USER_KEY] = request.session.pop(HANDOVER_KEY)
        if not path.startswith(PUBLIC_PREFIXES) and not app.storage.user.get(USER_KEY):
            target = path + (f"?{request.url.query}" if request.url.query else "")
            await RedirectResponse(f"/login?redirect_to={quote(target, safe='')}")(scope, receive, send)
            return
        await self.app(scope, receive, send)
