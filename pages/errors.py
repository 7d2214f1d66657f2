"""A friendly page for unexpected errors: what happened and what to do, never exception details."""

from __future__ import annotations

import logging
import secrets

from nicegui import app, ui

from app.context import AppContext

log = logging.getLogger(__name__)


def show_unexpected_error(exception: Exception) -> None:
    reference = secrets.token_hex(4)
    log.error("Unexpected error on a page (reference %s)", reference, exc_info=exception)
    with ui.column().classes("w-full max-w-md mx-auto q-pa-lg gap-3"):
        ui.label("Something went wrong on our side").classes("text-h5").props('role="heading" aria-level="1"')
        ui.label("Please reload the page and try again.")
        ui.label(f"If it keeps happening, contact support and mention reference {reference}.").classes(
            "text-caption text-grey-7"
        )


def register(_context: AppContext) -> None:
    app.on_page_exception(show_unexpected_error)
