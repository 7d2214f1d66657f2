"""Frees the server-side state of page loads whose browser never connects (link scanners, closed tabs, bots).

Each page load keeps a NiceGUI client of about 0.6 MB until it is deleted. Deleted elements are freed at once by
reference counting (`components.performance` cuts the reference cycles NiceGUI leaves), so no full garbage
collection is needed to get that memory back. Full collections walk every live object (with hundreds of clients
alive: a second of stalled requests), so objects from start-up are frozen out of collection, automatic full
collections are switched off, and one full collection runs every few minutes for what cycles remain elsewhere.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable

from nicegui import Client, app

from app.context import AppContext

# A real browser opens the page's websocket within a second or two; NiceGUI's own default waits 60 s,
# which lets the memory of unconnected page loads pile up under load.
UNCONNECTED_CLIENT_SECONDS = 20.0
PRUNE_INTERVAL_SECONDS = 5.0
FULL_COLLECTION_INTERVAL_SECONDS = 300.0
# Generation 0 and 1 collections stay as Python has them; generation 2 (full) only when we ask for it.
GC_THRESHOLDS = (700, 10, 1_000_000)


class ClientPruner:
    """Deletes clients that never connected; with `full_collection_interval`, also runs the full collections."""

    def __init__(
        self, full_collection_interval: float | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._full_collection_interval = full_collection_interval
        self._clock = clock
        self._last_full_collection = clock()

    def prune(self) -> None:
        Client.prune_instances(client_age_threshold=UNCONNECTED_CLIENT_SECONDS)
        if self._full_collection_interval is None:
            return
        now = self._clock()
        if now - self._last_full_collection >= self._full_collection_interval:
            gc.collect()
            self._last_full_collection = now


def register(context: AppContext) -> None:
    tuned = context.settings.gc_tuning
    pruner = ClientPruner(FULL_COLLECTION_INTERVAL_SECONDS if tuned else None)

    def start() -> None:
        if tuned:
            gc.freeze()
            gc.set_threshold(*GC_THRESHOLDS)
        app.timer(PRUNE_INTERVAL_SECONDS, pruner.prune)

    app.on_startup(start)
