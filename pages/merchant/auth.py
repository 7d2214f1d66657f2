"""Merchant sessions: signing in and out, and the signed-in user of a page.

Pages are closed by default: `server/merchant_sign_in.py` sends visitors without a user to `/login`. Signing in
gives the browser a new session id (the cookie NiceGUI keys `app.storage.user` by): the login form runs over the
websocket, which cannot set cookies, so it sends the browser through `/login/complete` with a grant that only works
in that browser for a minute. A cookie copied or planted before sign-in therefore never becomes signed
in, and signing out clears the session so a copied cookie opens nothing afterwards.
"""

from __future__ import annotations

import re
import uuid
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import app, ui

from app.context import AppContext
from app.services.accounts import issue_sign_in_grant, open_sign_in_grant, user_by_id
from app.views import SignedInUser
from server.merchant_sign_in import HANDOVER_KEY, USER_KEY

HOME = "/customers"
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
        user_id = open_sign_in_grant(
            settings=context.settings, grant=grant, browser_id=request.session.get("id", ""), clock=context.clock
        )
        if user_id is None:
            return RedirectResponse("/login", status_code=303)
        app.storage.user.clear()  # the old session id keeps nothing
        request.session["id"] = str(uuid.uuid4())
        request.session[HANDOVER_KEY] = user_id
        return RedirectResponse(site_path(redirect_to), status_code=303)


def sign_in(context: AppContext, user: SignedInUser, target: str) -> None:
    """Send this browser through `/login/complete`, which gives it a new signed-in session and opens `target`."""
    grant = issue_sign_in_grant(
        settings=context.settings,
        user_id=user.user_id,
        browser_id=str(app.storage.browser.get("id", "")),
        clock=context.clock,
    )
    ui.navigate.to(f"/login/complete?{urlencode({'grant': grant, 'redirect_to': target})}")


def sign_out() -> None:
    """Leave through `/logout`: an HTTP request, so the session it clears is the one in this browser's cookie."""
    ui.navigate.to("/logout")


def end_session() -> None:
    """Forget the signed-in user of this request's session; a copy of its cookie then opens nothing."""
    app.storage.user.clear()


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
