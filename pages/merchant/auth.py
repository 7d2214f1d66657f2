"""Merchant sessions: pages are closed by default; only public prefixes pass without a signed-in user."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import quote

from fastapi import Request, Response
from fastapi.responses import RedirectResponse
from nicegui import app, ui
from starlette.middleware.base import BaseHTTPMiddleware

from app.context import AppContext
from app.services.accounts import user_by_id
from app.views import SignedInUser

PUBLIC_PREFIXES = ("/login", "/portal/", "/healthz", "/api/", "/_nicegui", "/media/", "/docs", "/openapi.json")
USER_KEY = "merchant_user_id"


def is_safe_redirect(target: str) -> bool:
    """Only paths on this site: `/customers`, never `//evil.test` or `https://…`."""
    return target.startswith("/") and not target.startswith("//") and "\\" not in target


class MerchantAuthMiddleware(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        path = request.url.path
        if not path.startswith(PUBLIC_PREFIXES) and not app.storage.user.get(USER_KEY):
            target = path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?redirect_to={quote(target, safe='')}")
        return await call_next(request)


def install(_context: AppContext) -> None:
    app.add_middleware(MerchantAuthMiddleware)


def sign_in(user: SignedInUser) -> None:
    app.storage.user.clear()
    app.storage.user[USER_KEY] = user.user_id


def sign_out() -> None:
    app.storage.user.clear()
    ui.navigate.to("/login")


def signed_in_user(context: AppContext) -> SignedInUser | None:
    """The user of this browser session, or None (then the caller redirects to the login page)."""
    user_id = app.storage.user.get(USER_KEY)
    if not user_id:
        return None
    with context.database.transaction() as session:
        return user_by_id(session=session, user_id=user_id)


def require_user(context: AppContext) -> SignedInUser | None:
    """The signed-in user; when the session names a user that no longer exists, send the browser to log in."""
    user = signed_in_user(context)
    if user is None:
        app.storage.user.clear()
        ui.navigate.to("/login")
    return user
