"""The merchant sign-in check: dashboard pages are closed by default; only public prefixes pass without a user.

The signed-in user lives in the session's server-side storage under `USER_KEY`. `/login/complete`
(`pages/merchant/auth.py`) cannot write that storage for a session id it has just created, so it leaves a hand-over
under `HANDOVER_KEY` in the signed session cookie, and this middleware takes the user over on the next request. The
hand-over names a `SignInGrant` row and works once: a copy of that cookie replayed later (after sign-out, say)
signs nobody in.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Request
from fastapi.responses import JSONResponse, RedirectResponse
from nicegui import app
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from app.context import AppContext
from app.services.accounts import take_over_sign_in
from server.http_middleware import HttpMiddleware
from server.nicegui_internals import page_session_id, upload_client_id

PUBLIC_PREFIXES = (
    "/login",
    "/logout",
    "/portal/",
    "/p/",  # customers' own pages: the merchant's sign-in page and the email confirmation
    "/healthz",
    "/_nicegui",
    "/media/",
    "/docs",
    "/openapi.json",
    "/payments/",  # the card element's script, loaded by portal pages
    "/test-gateway/",  # the built-in test gateway's tokenisation, called by the card element
    "/webhooks/",  # the payment gateway's signed events
)
USER_KEY = "merchant_user_id"
# In the (signed) session cookie between `/login/complete` and the next request, which moves the user into the new
# session's server-side storage: that storage only exists from the first request that carries the new id.
HANDOVER_KEY = "sign_in_handover"


class MerchantSignInMiddleware(HttpMiddleware):
    """Sends requests for non-public paths without a signed-in user to `/login`, to come back afterwards, and refuses
    uploads (NiceGUI's upload routes) but a signed-in merchant's to their own page."""

    def __init__(self, app: ASGIApp, *, context: AppContext) -> None:
        super().__init__(app)
        self.context = context

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope)
        path = request.url.path
        if HANDOVER_KEY in request.session:
            await self._take_over(str(request.session.pop(HANDOVER_KEY)))
        if (client_id := upload_client_id(path)) is not None and not self._may_upload(request, client_id):
            await JSONResponse({"detail": "Sign in to upload."}, status_code=403)(scope, receive, send)
            return
        if not path.startswith(PUBLIC_PREFIXES) and not app.storage.user.get(USER_KEY):
            target = path + (f"?{request.url.query}" if request.url.query else "")
            await RedirectResponse(f"/login?redirect_to={quote(target, safe='')}")(scope, receive, send)
            return
        await self.app(scope, receive, send)

    @staticmethod
    def _may_upload(request: Request, client_id: str) -> bool:
        """Uploads (branding images) are for a signed-in merchant, to a page that was built for this browser."""
        session_id = request.session.get("id")
        return (
            bool(app.storage.user.get(USER_KEY)) and session_id is not None and page_session_id(client_id) == session_id
        )

    async def _take_over(self, handover: str) -> None:
        def take_over() -> str | None:
            with self.context.database.transaction() as session:
                user = take_over_sign_in(session=session, handover=handover, clock=self.context.clock)
                return user.user_id if user else None

        user_id = await run_in_threadpool(take_over)
        if user_id is not None:
            app.storage.user.clear()
            app.storage.user[USER_KEY] = user_id
