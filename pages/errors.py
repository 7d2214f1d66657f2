"""A friendly page for unexpected errors: what happened and what to do, never exception details."""

from __future__ import annotations

import logging
import secrets

from nicegui import app, ui

from app.context import AppContext
from app.errors import Unavailable

log = logging.getLogger(__name__)

UNAVAILABLE_TITLE = "This page is temporarily unavailable"
UNAVAILABLE_TEXT = "We could not reach our records just now. Nothing was changed. Please reload the page in a moment."


def show_unavailable() -> None:
    """The page for a database that is down or locked (already logged as a warning); reloading later helps."""
    _error_page(UNAVAILABLE_TITLE, UNAVAILABLE_TEXT, "")


def show_unexpected_error(exception: Exception) -> None:
    if isinstance(exception, Unavailable):
        show_unavailable()
        return
    reference = secrets.token_hex(4)
    log.error("Unexpected error on a page (reference %s)", reference, exc_info=exception)
    _error_page(
        "Something went wrong on our side",
        "Please reload the page and try again.",
        f"If it keeps happening, contact support and mention reference {reference}.",
    )


def _error_page(title: str, text: str, caption: str) -> None:
    with ui.column().classes("w-full max-w-md mx-auto q-pa-lg gap-3"):
        ui.label(title).classes("text-h5").props('role="heading" aria-level="1"')
        ui.label(text)
        if caption:
            ui.label(caption).classes("text-caption text-grey-7")


def register(_context: AppContext) -> None:
    app.on_page_exception(show_unexpected_error)
