"""Merchant sessions: signing in and out, and the signed-in user of a page.

Pages are closed by default: `server/merchant_sign_in.py` sends visitors without a user to `/login`. Signing in
gives the browser a new session id (the cookie NiceGUI keys `app.storage.user` by): the login form runs over the
websocket, which cannot set cookies, so it sends the browser through `/login/complete` with a grant that works once,
for a minute, in the browser whose login page asked for it. A cookie copied or planted before sign-in therefore
never becomes signed in. Signing out (a POST with a token) clears the session and starts a new one, so a copied
cookie opens nothing afterwards.
"""

from __future__ import annotations

import hmac
import re
import secrets
import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import app, ui

from app.context import AppContext
from app.services.accounts import issue_sign_in_grant, redeem_sign_in_grant, revoke_sign_ins, user_by_id
from app.views import SignedInUser
from components.theme import SIGN_OUT_FIELD
from server.merchant_sign_in import HANDOVER_KEY, USER_KEY
from server.nicegui_internals import storage_of

HOME = "/customers"
# In the session cookie: the keys of the browser's recent login pages, one of which a grant must name.
SIGN_IN_KEYS = "sign_in_keys"
MAX_SIGN_IN_KEYS = 5
# A path on this site: `/` and then anything but a second slash or a backslash. Browsers drop tabs and line breaks
# anywhere in a URL and read `\` as `/`, so "/\t/evil.example" and "/\\evil.example" are "//evil.example" to them:
# no control character (nor DEL) and no backslash anywhere.
_SITE_PATH = re.compile(r"/(?![/\\])[^\x00-\x1f\x7f\\]*")


def site_path(target: str) -> str:
    """`target` if it is a path on this site (`/customers?q=ann`), else the dashboard's home page."""
    return target if _SITE_PATH.fullmatch(target) else HOME


def register(context: AppContext) -> None:
    @app.get("/login/complete", include_in_schema=False)
    def complete_sign_in(request: Request, grant: str = "", redirect_to: str = HOME) -> RedirectResponse:
        """Start a new session for the user a fresh grant names, then open `redirect_to` (on this site only)."""
        with context.database.transaction() as session:
            handover = redeem_sign_in_grant(
                session=session,
                settings=context.settings,
                grant=grant,
                browser_keys=request.session.get(SIGN_IN_KEYS, []),
                clock=context.clock,
            )
        if handover is None:
            return RedirectResponse("/login", status_code=303)
        app.storage.user.clear()  # the old session id keeps nothing
        _start_new_session(request)
        request.session[HANDOVER_KEY] = handover
        return RedirectResponse(site_path(redirect_to), status_code=303)


def register_sign_out(context: AppContext) -> None:
    """`POST /logout`. Registered after the `/logout` page: NiceGUI's `ui.page` replaces every route of its path."""

    @app.post("/logout", include_in_schema=False)
    async def sign_out(request: Request) -> RedirectResponse:
        """Sign out with the token of a dashboard page's Sign out form; without it, ask first (`GET /logout`).

        A POST, not a link, and a token tied to this session: another site can neither link nor post here to sign a
        merchant out. The session's user is forgotten and the browser gets a new session id, so every copy of the
        cookie (and any hand-over still on its way) opens nothing afterwards.
        """
        token = (await request.form()).get(SIGN_OUT_FIELD)
        if not isinstance(token, str) or not hmac.compare_digest(token, _sign_out_token(context, request.session)):
            return RedirectResponse("/logout", status_code=303)
        user_id = app.storage.user.get(USER_KEY)
        app.storage.user.clear()
        if user_id:
            with context.database.transaction() as session:
                revoke_sign_ins(session=session, user_id=user_id, clock=context.clock)
        _start_new_session(request)
        return RedirectResponse("/login", status_code=303)


def _start_new_session(request: Request) -> None:
    request.session.clear()
    request.session["id"] = str(uuid.uuid4())


def new_sign_in_key() -> str:
    """A random key for this login page's grant, kept in the browser's cookie (the last few, for several tabs).

    The grant is bound to it rather than to the session id, which an attacker may have planted in the cookie before
    sign-in: the attacker's copy of the cookie lacks the key this page adds, so it cannot redeem the grant.
    """
    key = secrets.token_urlsafe(16)
    session = app.storage.browser
    session[SIGN_IN_KEYS] = [*session.get(SIGN_IN_KEYS, [])[-(MAX_SIGN_IN_KEYS - 1) :], key]
    return key


def sign_in(context: AppContext, user: SignedInUser, target: str, browser_key: str) -> None:
    """Send this browser through `/login/complete`, which gives it a new signed-in session and opens `target`."""
    with context.database.transaction() as session:
        grant = issue_sign_in_grant(
            session=session,
            settings=context.settings,
            user_id=user.user_id,
            browser_key=browser_key,
            clock=context.clock,
        )
    ui.navigate.to(f"/login/complete?{urlencode({'grant': grant, 'redirect_to': target})}")


def sign_out_token(context: AppContext) -> str:
    """The token a Sign out form of this browser session sends (see `POST /logout`)."""
    return _sign_out_token(context, app.storage.browser)


def _sign_out_token(context: AppContext, session: Mapping[str, Any]) -> str:
    message = f"sign-out:{session.get('id', '')}".encode()
    return hmac.new(context.settings.secret_key.encode(), message, "sha256").hexdigest()


def still_signed_in(user: SignedInUser) -> bool:
    """Whether this page's session still belongs to `user`: not after signing out in another tab."""
    request = ui.context.client.request
    if request is None:
        return False
    with storage_of(request):
        return app.storage.user.get(USER_KEY) == user.user_id


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
