"""Frees the server-side state of page loads whose browser never connects (link scanners, closed tabs, bots).

Each page load keeps a NiceGUI client (its whole page) until it is deleted. Deleted elements are freed at once by
reference counting (`server.nicegui_internals` cuts the reference cycles NiceGUI leaves), so no full garbage
collection is needed to get that memory back. A full collection walks every live object: with many clients alive
it stalls all requests for over a second and frees almost nothing. So objects from start-up are frozen out of
collection, automatic full collections are switched off, and the few cycles that outlive the young generations
are collected when few pages are alive (a short pause then), or once an hour whatever the load. The measurements
behind this are in benchmarks/results/history.md.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from nicegui import Client, app

from app.context import AppContext
from server.nicegui_internals import awaits_reconnection

# A real browser opens the page's websocket within a second or two; NiceGUI's own default waits 60 s,
# which lets the memory of unconnected page loads pile up under load.
UNCONNECTED_CLIENT_SECONDS = 20.0
PRUNE_INTERVAL_SECONDS = 5.0
# Generation 0 and 1 collections stay as Python has them; generation 2 (full) only when we ask for it.
GC_THRESHOLDS = (700, 10, 1_000_000)

log = logging.getLogger(__name__)


def is_unconnected(client: Client, older_than: float) -> bool:
    """Its browser never connected within `older_than` seconds (NiceGUI's own pruning criteria).

    A client that lost its connection has a deletion scheduled by NiceGUI after the reconnect timeout; it is left
    to that, so a page survives a short network drop.
    """
    return (
        not client.is_deleted
        and not client.has_socket_connection
        and not awaits_reconnection(client)
        and client.created <= time.time() - older_than
    )


@dataclass(frozen=True)
class FullCollections:
    """When full garbage collections run: `interval` after the last one as soon as at most `quiet_clients` pages
    are alive, and after `longest_interval` however many are."""

    interval: float = 300.0
    longest_interval: float = 3600.0
    quiet_clients: int = 50

    def due(self, seconds_since_last: float, clients_alive: int) -> bool:
        if seconds_since_last >= self.longest_interval:
            return True
        return seconds_since_last >= self.interval and clients_alive <= self.quiet_clients


class ClientPruner:
    """Deletes clients that never connected; with a `FullCollections` schedule, also runs the full collections."""

    def __init__(
        self, full_collections: FullCollections | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._full_collections = full_collections
        self._clock = clock
        self._last_full_collection = clock()

    async def prune(self) -> None:
        """Delete unconnected clients one at a time, letting requests run in between.

        Deleting a client frees its whole page; under load a few hundred are due at once, and deleting them in one go
        stalled every request in flight (benchmarks/results/history.md).
        """
        for client in list(Client.instances.values()):
            # Checked right before deleting: while this loop yields, a late browser may connect.
            if is_unconnected(client, UNCONNECTED_CLIENT_SECONDS):
                try:
                    client.delete()
                except Exception:
                    log.exception("Could not delete unconnected client %s", client.id)
                await asyncio.sleep(0)  # yield to the event loop, not a timed wait
        if self._full_collections is None:
            return
        now = self._clock()
        if self._full_collections.due(now - self._last_full_collection, len(Client.instances)):
            gc.collect()
            self._last_full_collection = now


def install(context: AppContext) -> None:
    tuned = context.settings.gc_tuning
    pruner = ClientPruner(FullCollections() if tuned else None)

    def start() -> None:
        if tuned:
            gc.freeze()
            gc.set_threshold(*GC_THRESHOLDS)
        app.timer(PRUNE_INTERVAL_SECONDS, pruner.prune)

    app.on_startup(start)
