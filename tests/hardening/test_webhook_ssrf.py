"""Webhook endpoints cannot reach into the server's own network (SSRF), however the address is written.

A merchant chooses the URL the server sends requests to. Without checks, that makes the server a proxy into its own
network (the cloud metadata service, databases, admin pages on loopback) and the delivery log a port scanner. Here
a real TCP listener on 127.0.0.1 stands for such a service: it must never see a connection.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.db import Database
from app.enums import EventType
from app.errors import ValidationFailed
from app.models import Customer, Merchant, WebhookDelivery, WebhookEndpoint
from app.services.webhooks import NOT_DELIVERED, create_endpoint, deliver_due, dispatch_events
from tests.conftest import DEMO_NOW
from tests.event_support import record_sample_event

# Every way the issue found to write this machine, a private network or a special-use name.
INTERNAL_HOSTS = (
    "127.0.0.1",
    "2130706433",  # 127.0.0.1 as one decimal number
    "127.1",
    "0x7f000001",
    "017700000001",  # octal
    "0",  # 0.0.0.0, which Linux connects to this machine
    "0.0.0.0",  # noqa: S104 - a URL's host here, not an address to bind
    "localhost",
    "localhost.",
    "app.localhost",
    "[::1]",
    "[::ffff:127.0.0.1]",
    "[::]",
    "10.0.0.5",
    "172.16.0.1",
    "192.168.1.1",
    "100.64.0.1",  # shared address space (carrier-grade NAT)
    "169.254.169.254",  # cloud metadata service
    "metadata.google.internal",
    "printer.local",
    "intranet",  # a single label: /etc/hosts or the search domain
    "224.0.0.1",
    "[ff02::1]",
    "240.0.0.1",
    "[2002:7f00:1::]",  # 6to4 around 127.0.0.1
)


def acme_id(database: Database) -> str:
    with database.transaction() as session:
        return session.scalars(select(Merchant.id).where(Merchant.invoice_prefix == "ACME")).one()


def save_endpoint(database: Database, url: str, *, allow_insecure: bool = False) -> str:
    with database.transaction() as session:
        created = create_endpoint(
            session=session,
            merchant_id=acme_id(database),
            url=url,
            description="",
            event_types=("*",),
            allow_insecure=allow_insecure,
            clock=lambda: DEMO_NOW,
        )
    return created.endpoint.url


@pytest.mark.parametrize("host", INTERNAL_HOSTS)
def test_an_endpoint_on_an_internal_host_is_refused_when_saved(database: Database, host: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        save_endpoint(database, f"https://{host}/hooks")
    assert refused.value.field_errors["url"] == "This address is on a private network; use a public https:// address."


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("https://1572395042/hooks", "https://93.184.216.34/hooks"),
        ("https://0x5db8d822:8443/hooks", "https://93.184.216.34:8443/hooks"),
        ("https://93.184.55330/hooks?a=1", "https://93.184.216.34/hooks?a=1"),
        ("https://hooks.example.com/portal", "https://hooks.example.com/portal"),
    ],
)
def test_a_numeric_host_is_stored_in_its_usual_form(database: Database, typed: str, stored: str) -> None:
    assert save_endpoint(database, typed) == stored


@pytest.mark.parametrize(
    "url", ["http://10.0.0.5/hooks", "https://10.0.0.5/hooks", "http://169.254.169.254/", "http://100.64.0.1/"]
)
def test_insecure_webhooks_allow_this_machine_only(database: Database, url: str) -> None:
    """ALLOW_INSECURE_WEBHOOKS is for a receiver on the developer's own machine, not for the rest of the network."""
    with pytest.raises(ValidationFailed):
        save_endpoint(database, url, allow_insecure=True)
    assert save_endpoint(database, "http://127.0.0.1:9/hooks", allow_insecure=True) == "http://127.0.0.1:9/hooks"


@dataclass
class Listener:
    """A TCP service on 127.0.0.1 that counts the connections it accepts."""

    port: int = 0
    connections: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)


@pytest.fixture
def internal_service() -> Iterator[Listener]:
    state = Listener()
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.05)
    state.port = server.getsockname()[1]
    stopping = threading.Event()

    def accept() -> None:
        while not stopping.is_set():
            try:
                connection, _ = server.accept()
            except TimeoutError:
                continue
            with state._lock:
                state.connections += 1
            connection.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield state
    stopping.set()
    thread.join()
    server.close()


def deliver_one_event_to(database: Database, urls: list[str], *, allow_loopback: bool = False) -> dict[str, str]:
    """Endpoints stored as they are (saved before these checks, or a name that now points inwards), one event;
    returns each URL's delivery error."""
    merchant_id = acme_id(database)
    with database.transaction() as session:
        for url in urls:
            session.add(
                WebhookEndpoint(
                    merchant_id=merchant_id, url=url, event_types=["*"], secret="whsec_x", created_at=DEMO_NOW
                )
            )
        customer_id = session.scalars(select(Customer.id).where(Customer.merchant_id == merchant_id).limit(1)).one()
        record_sample_event(session, customer_id, EventType.CUSTOMER_UPDATED)
    later = DEMO_NOW + timedelta(seconds=1)
    dispatch_events(database=database, now=later)
    deliver_due(database=database, clock=lambda: later, limit=100, allow_loopback=allow_loopback)
    with database.transaction() as session:
        rows = session.execute(
            select(WebhookEndpoint.url, WebhookDelivery.last_error, WebhookDelivery.attempts).join(
                WebhookDelivery, WebhookDelivery.endpoint_id == WebhookEndpoint.id
            )
        ).all()
    assert all(attempts == 1 for _, _, attempts in rows)
    return {url: error for url, error, _ in rows}


def test_deliveries_never_connect_to_an_internal_address(database: Database, internal_service: Listener) -> None:
    port = internal_service.port
    hosts = ("127.0.0.1", "2130706433", "127.1", "0x7f000001", "017700000001", "0", "localhost", "localhost.")
    urls = [f"https://{host}:{port}/hooks" for host in hosts] + [f"http://[::ffff:127.0.0.1]:{port}/hooks"]
    errors = deliver_one_event_to(database, urls)
    assert internal_service.connections == 0
    assert set(errors.values()) == {NOT_DELIVERED}


def test_a_name_that_resolves_inwards_at_delivery_is_not_connected(
    database: Database, internal_service: Listener, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DNS rebinding: the name was public when saved; when the request is sent it answers with 127.0.0.1."""
    url = f"https://hooks.example.com:{internal_service.port}/hooks"
    assert save_endpoint(database, url) == url
    with database.transaction() as session:
        session.query(WebhookEndpoint).delete()
    resolve = socket.getaddrinfo

    def rebound(host: str, *args: object, **kwargs: object) -> list:
        return resolve("127.0.0.1" if host == "hooks.example.com" else host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebound)
    assert deliver_one_event_to(database, [url]) == {url: NOT_DELIVERED}
    assert internal_service.connections == 0


def test_the_delivery_log_does_not_tell_open_from_closed_ports(database: Database, internal_service: Listener) -> None:
    """Even where a connection is allowed (loopback, in insecure mode), failures read the same."""
    with socket.create_server(("127.0.0.1", 0)) as closed:
        closed_port = closed.getsockname()[1]
    open_url = f"https://127.0.0.1:{internal_service.port}/hooks"  # accepts, then hangs up: no TLS, no HTTP
    closed_url = f"https://127.0.0.1:{closed_port}/hooks"
    errors = deliver_one_event_to(database, [open_url, closed_url], allow_loopback=True)
    assert errors == {open_url: NOT_DELIVERED, closed_url: NOT_DELIVERED}


def test_insecure_webhooks_still_refuse_other_internal_addresses_at_delivery(
    database: Database, internal_service: Listener
) -> None:
    errors = deliver_one_event_to(
        database, ["http://10.0.0.5/hooks", "http://169.254.169.254/latest"], allow_loopback=True
    )
    assert set(errors.values()) == {NOT_DELIVERED}
