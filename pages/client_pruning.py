"""Frees the server-side state of page loads whose browser never connects (link scanners, closed tabs, bots)."""

from __future__ import annotations

from nicegui import Client, app

from app.context import AppContext

# A real browser opens the page's websocket within a second or two; NiceGUI's own default waits 60 s,
# which lets the memory of unconnected page loads pile up under load.
UNCONNECTED_CLIENT_SECONDS = 20.0
PRUNE_INTERVAL_SECONDS = 5.0


def prune_unconnected_clients() -> None:
    Client.prune_instances(client_age_threshold=UNCONNECTED_CLIENT_SECONDS)


def register(_context: AppContext) -> None:
    app.on_startup(lambda: app.timer(PRUNE_INTERVAL_SECONDS, prune_unconnected_clients))
