import asyncio
import gc
import time
import weakref

import pytest
from nicegui import Client
from nicegui.outbox import Outbox
from nicegui.page import page
from nicegui.testing import User

from app.config import Settings
from app.db import Database
from app.models import SubscriptionStatus
from server import nicegui_internals
from server.client_pruning import UNCONNECTED_CLIENT_SECONDS, ClientPruner, FullCollections
from server.nicegui_internals import element_markers, mark_connected, outbox_stopped
from tests.ui.eventually import eventually
from tests.ui.portal_setup import customer_with, link_path


def _age_unconnected_clients() -> list[Client]:
    unconnected = [client for client in Client.instances.values() if not client.has_socket_connection]
    for client in unconnected:
        client.created = time.time() - UNCONNECTED_CLIENT_SECONDS - 1
    return unconnected


async def test_page_loads_that_never_connect_are_freed_after_the_grace_period(user: User) -> None:
    pruner = ClientPruner()
    response = await user.http_client.get("/login")  # a plain GET: no websocket ever connects
    assert response.status_code == 200
    unconnected = [client for client in Client.instances.values() if not client.has_socket_connection]
    assert unconnected
    await pruner.prune()
    assert all(client.id in Client.instances for client in unconnected)  # still within the grace period
    _age_unconnected_clients()
    await pruner.prune()
    assert all(client.id not in Client.instances for client in unconnected)


async def test_a_connected_page_is_never_pruned_however_old(user: User) -> None:
    await user.open("/login")
    assert user.client is not None and user.client.has_socket_connection
    user.client.created = time.time() - UNCONNECTED_CLIENT_SECONDS - 1
    await ClientPruner().prune()
    assert user.client.id in Client.instances
    await user.should_see("Sign in")


async def test_full_collections_wait_for_a_quiet_moment_and_not_longer_than_the_longest_interval(
    user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    collections: list[int] = []
    monkeypatch.setattr(gc, "collect", lambda generation=2: collections.append(generation) or 0)
    now = [1000.0]
    schedule = FullCollections(interval=300, longest_interval=3600, quiet_clients=len(Client.instances) + 1)
    pruner = ClientPruner(schedule, clock=lambda: now[0])
    untuned = ClientPruner()
    now[0] += 299
    await pruner.prune()
    await untuned.prune()
    assert collections == []  # quiet, but too soon
    now[0] += 1
    await pruner.prune()
    assert collections == [2]
    busy = [Client(page("/"), request=None) for _ in range(2)]  # more pages alive than a quiet moment has
    now[0] += 3599
    await pruner.prune()
    assert collections == [2]
    now[0] += 1
    await pruner.prune()
    assert collections == [2, 2]  # the longest interval is up: busy or not
    for client in busy:
        client.delete()


def test_the_schedule_collects_when_quiet_after_the_interval_and_always_after_the_longest() -> None:
    schedule = FullCollections(interval=300, longest_interval=3600, quiet_clients=50)
    assert not schedule.due(299, clients_alive=0)
    assert schedule.due(300, clients_alive=50)
    assert not schedule.due(3599, clients_alive=51)
    assert schedule.due(3600, clients_alive=5000)


async def test_a_pruned_portal_page_is_freed_by_reference_counting_alone(
    user: User, database: Database, settings: Settings
) -> None:
    """No reference cycles outlive a deleted portal page, so its memory needs no full garbage collection."""
    customer_id = customer_with(database, SubscriptionStatus.ACTIVE)
    path = link_path(database, settings, customer_id)
    gc.collect()
    gc.disable()
    try:
        before = set(Client.instances)
        response = await user.http_client.get(path)
        assert response.status_code == 200
        (client,) = (client for client_id, client in Client.instances.items() if client_id not in before)
        client_gone = weakref.ref(client)
        elements = [weakref.ref(element) for element in client.elements.values()]
        markers = {marker for element in client.elements.values() for marker in element_markers(element)}
        # What a browser sees first; the sections below the fold wait (in a task) for a connection that never comes.
        assert {"portal-subscriptions", "portal-payment-methods"} <= markers
        assert "portal-invoices" not in markers
        # Each element's classes, style and props: NiceGUI's own cycles, cut by server.nicegui_internals.
        element_parts = [
            weakref.ref(part)
            for element in client.elements.values()
            for part in (element.classes, element.style, element.props)
        ]
        del client
        _age_unconnected_clients()
        await ClientPruner().prune()
        # The client's outbox task lets go of it when it next wakes (within 0.1 s).
        await eventually(lambda: client_gone() is None, "the pruned client to be freed")
        alive = [type(item).__name__ for ref in (*elements, *element_parts) if (item := ref()) is not None]
    finally:
        gc.enable()
    assert alive == []


async def test_an_outbox_starts_sending_only_once_its_browser_connects(
    user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[Outbox] = []

    async def record(outbox: Outbox) -> None:
        started.append(outbox)

    monkeypatch.setattr(nicegui_internals, "_original_outbox_loop", record)
    client = Client(page("/"), request=None)  # a page load whose browser has not connected
    (loop,) = (task for task in asyncio.all_tasks() if task.get_name() == f"outbox loop {client.id}")
    await asyncio.sleep(0)  # one turn of the event loop: the task runs until it waits
    assert not loop.done()
    assert started == []
    mark_connected(client)  # what NiceGUI does at the browser's handshake (and when deleting the client)
    await loop
    assert started == [client.outbox]
    client.delete()


async def test_cancelling_an_outbox_loop_stops_it_even_when_the_loop_swallows_the_cancellation(
    user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def swallowing(outbox: Outbox) -> None:
        """Like NiceGUI's loop when Python 3.11's wait_for swallows a cancellation: it runs on until stopped."""
        while not outbox_stopped(outbox):
            try:
                await asyncio.sleep(0)
            except asyncio.CancelledError:
                continue

    monkeypatch.setattr(nicegui_internals, "_original_outbox_loop", swallowing)
    client = Client(page("/"), request=None)
    (loop,) = (task for task in asyncio.all_tasks() if task.get_name() == f"outbox loop {client.id}")
    mark_connected(client)
    await asyncio.sleep(0)  # one turn: the loop is running
    loop.cancel()
    done, _ = await asyncio.wait({loop}, timeout=5)  # a bound for the failure case, not a wait for success
    client.outbox.stop()  # should it still run, this ends it: a failure then fails instead of hanging the suite
    assert loop in done and loop.cancelled()
    client.delete()
