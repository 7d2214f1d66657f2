"""Frees the server-side state of page loads whose browser never connects (link scanners, closed tabs, bots).

Each page load keeps a NiceGUI client of about 0.6 MB until it is deleted. Deleted elements are freed at once by
reference counting (`components.performance` cuts the reference cycles NiceGUI leaves), so no full garbage
collection is needed to get that memory back. Full collections walk every live object (with hundreds of clients
alive: a second of stalled requests), so objects from start-up are frozen out of collection, automatic full
collections are switched off, and one full collection runs every few minutes for what cycles remain elsewhere.
"""

from __future__ import annotations

import asyncio
import gc
import logging
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

log = logging.getLogger(__name__)


def unconnected_clients(older_than: float) -> list[Client]:
    """Clients whose browser never connected within `older_than` seconds (NiceGUI's own pruning criteria).

    A client that lost its connection has a deletion scheduled by NiceGUI after the reconnect timeout; it is left
    to that, so a page survives a short network drop.
    """
    cutoff = time.time() - older_than
    return [
        client
        for client in Client.instances.values()
        if not client.has_socket_connection and not client._delete_tasks and client.created <= cutoff
    ]


class ClientPruner:
    """Deletes clients that never connected; with `full_collection_interval`, also runs the full collections."""

    def __init__(
        self, full_collection_interval: float | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._full_collection_interval = full_collection_interval
        self._clock = clock
        self._last_full_collection = clock()

    async def prune(self) -> None:
        """Delete unconnected clients one at a time, letting requests run in between.

        Deleting a client costs about a millisecond (freeing its page); under load a few hundred are due at once,
        which deleted in one go stalled every request in flight for a fifth of a second.
        """
        for client in unconnected_clients(UNCONNECTED_CLIENT_SECONDS):
            if not client.is_deleted:
                try:
                    client.delete()
                except Exception:
                    log.exception("Could not delete unconnected client %s", client.id)
            await asyncio.sleep(0)  # yield to the event loop, not a timed wait
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
