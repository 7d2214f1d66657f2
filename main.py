"""Assembles the app: settings, database, pages and API, then serves it."""

from __future__ import annotations

from nicegui import ui

import pages
import server
from app.config import load_settings
from app.startup import build_context
from server.http_middleware import gzip_middleware

settings = load_settings()
context = build_context(settings)
api = server.install(context)
pages.register(context, api_routes=api.routes)

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
        gzip_middleware_factory=gzip_middleware,
    )
