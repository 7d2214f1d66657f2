"""Runtime wiring around the pages: NiceGUI tuning, HTTP middleware and the work that runs in the background."""

from __future__ import annotations

from fastapi import FastAPI
from nicegui import app

from app.context import AppContext
from server import background_loops, client_pruning, log_hygiene, request_limits
from server.api_app import build_api_app, serve_ahead_of_pages
from server.merchant_sign_in import MerchantSignInMiddleware
from server.nicegui_internals import apply_patches
from server.page_limits import LivePageLimitMiddleware
from server.same_origin import SameOriginSocketMiddleware
from server.security_headers import SecurityHeadersMiddleware, content_security_policy


def install(context: AppContext) -> FastAPI:
    """Tune NiceGUI, add the middleware, put the REST API in front (returned, for its documentation) and have the
    background work start and stop with the app.

    Early pruning and its garbage-collection schedule rely on the patches (which free a deleted page without a full
    collection): without them, NiceGUI's own pruning remains.
    """
    log_hygiene.install()
    tuned = apply_patches()
    app.add_middleware(MerchantSignInMiddleware, context=context)
    request_limits.install(app)  # outside the sign-in check: a body too large is refused before anything else
    app.add_middleware(
        LivePageLimitMiddleware,
        per_link=context.settings.max_pages_per_portal_link,
        per_address=context.settings.max_pages_per_client_address,
    )
    app.add_middleware(SameOriginSocketMiddleware, public_url=context.settings.effective_public_url)
    security_headers = {
        "https_only": context.settings.secure_cookies,
        "content_security_policy": content_security_policy(context.gateway.browser_sources()),
    }
    # Added last, so outermost: sign-in redirects get the headers too.
    app.add_middleware(SecurityHeadersMiddleware, **security_headers)  # type: ignore[arg-type]
    api = build_api_app(context, security_headers)
    serve_ahead_of_pages(api)
    background_loops.install(context)
    if tuned:
        client_pruning.install(context)
    return api
