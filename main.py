"""Assembles the app: settings, database, pages and API, then serves it."""

from __future__ import annotations

from functools import partial

from nicegui import ui
from starlette.middleware.gzip import GZipMiddleware

import pages
import server
from app.config import load_settings
from app.startup import build_context

settings = load_settings()
context = build_context(settings)
server.install(context)
pages.register(context)

if __name__ in {"__main__", "__mp_main__"}:
    print(f"Customer portal dashboard: {settings.effective_public_url}/login", flush=True)
    if settings.demo_data:
        print(f"Demo login: owner@acme.test / {settings.demo_password}", flush=True)
    ui.run(
        host=settings.host,
        port=settings.port,
        title="Customer portal",
        language="en-US",  # <html lang> of the dashboard; the portal's pages set their customer's language
        storage_secret=settings.storage_secret,
        session_middleware_kwargs={"https_only": settings.secure_cookies, "same_site": "lax"},
        reload=False,
        show=False,
        reconnect_timeout=settings.reconnect_timeout_seconds,
        # Level 6 instead of Starlette's 9: much less time per page for slightly more bytes
        # (figures: benchmarks/results/history.md, "Figures behind the tuning in the code").
        gzip_middleware_factory=partial(GZipMiddleware, minimum_size=500, compresslevel=6),
    )
