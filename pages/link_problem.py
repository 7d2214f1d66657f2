"""The page a customer sees when a portal link cannot be used (expired, revoked or not valid)."""

from __future__ import annotations

from nicegui import ui

from app.context import AppContext
from app.errors import LinkError, LinkExpired, LinkRevoked

TITLES = {
    LinkExpired: "This link has expired",
    LinkRevoked: "This link is no longer valid",
}


def show_link_problem(_context: AppContext, error: LinkError) -> None:
    """Say what happened and what to do next; never a stack trace."""
    title = TITLES.get(type(error), "This link is not valid")
    with ui.column().classes("w-full max-w-md mx-auto q-pa-lg gap-3"):
        ui.label(title).classes("text-h5").props('role="heading" aria-level="1"')
        ui.label("Ask the business that sent it to you for a new link.")
