"""Webhook delivery against a real HTTP server on 127.0.0.1: signatures, retries, restarts, endpoints."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select, update

from app.db import Database
from app.enums import EventType
from app.errors import NotFound, ValidationFailed
from app.models import Invoice, Merchant, WebhookDelivery
from app.services.webhooks import (
    CLAIM_TIMEOUT,
    check_endpoint_url,
    create_endpoint,
    deliver_due,
    dispatch_events,
    list_deliveries,
    resend_delivery,
    rotate_secret,
    update_endpoint,
)
from app.views import MAX_DELIVERY_ATTEMPTS, WebhookEndpointSecret
from app.webhook_signature import SIGNATURE_HEADER, WebhookSignatureError, verify_signature
from tests.conftest import DEMO_NOW
from tests.event_support import record_sample_event


@dataclass
class Received:
    body: bytes
    headers: dict[str, str]


@dataclass
class Receiver:
    """A local endpoint: answers with the queued status codes (then 200) and keeps what it received."""

    url: str = ""
    answers: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.received.append(Received(body, dict(self.headers.items())))
            self.send_response(state.answers.pop(0) if state.answers else 200)
            self.end_headers()

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(DEMO_NOW)


def acme_id(database: Database) -> str:
    with database.transaction() as session:
        return session.scalars(select(Merchant.id).where(Merchant.invoice_prefix == "ACME")).one()


def add_endpoint(
    database: Database, url: str, clock: Clock, event_types: tuple[str, ...] = ("*",)
) -> WebhookEndpointSecret:
    with database.transaction() as session:
        return create_endpoint(
            session=session,
            merchant_id=acme_id(database),
            url=url,
            description="Local receiver",
            event_types=event_types,
            allow_insecure=True,
            clock=clock,
        )


def add_event(database: Database, clock: Clock, event_type: EventType = EventType.INVOICE_PAID) -> str:
    """An Acme event whose object's id is "in_test" (or the like for other types)."""
    with database.transaction() as session:
        customer_id = session.scalars(
            select(Invoice.customer_id).where(Invoice.merchant_id == acme_id(database)).order_by(Invoice.id).limit(1)
        ).one()
        object_id = f"{event_type.resource[:2]}_test"
        return record_sample_event(session, customer_id, event_type, object_id=object_id, clock=clock).id


def run_deliverer(database: Database, clock: Clock) -> int:
    dispatch_events(database=database, now=clock())
    return deliver_due(database=database, clock=clock, allow_loopback=True)


def deliveries(database: Database) -> list[WebhookDelivery]:
    with database.transaction() as session:
        return list(session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.created_at)))


def one_delivered_event(
    database: Database, receiver: Receiver, clock: Clock
) -> tuple[WebhookEndpointSecret, WebhookDelivery]:
    """An endpoint for every event, one event, and its (delivered) delivery."""
    endpoint = add_endpoint(database, receiver.url, clock)
    add_event(database, clock)
    run_deliverer(database, clock)
    [delivery] = deliveries(database)
    return endpoint, delivery


def test_an_event_is_delivered_with_a_signature_that_verifies(
    database: Database, receiver: Receiver, clock: Clock
) -> None:
    endpoint = add_endpoint(database, receiver.url, clock)
    event_id = add_event(database, clock)

    assert run_deliverer(database, clock) == 1

    [request] = receiver.received
    body = json.loads(request.body)
    assert set(body) == {"id", "type", "created", "data", "source"}
    assert (body["id"], body["type"], body["source"]) == (event_id, "invoice.paid", "system")
    assert body["created"] == int(DEMO_NOW.timestamp())
    assert (body["data"]["object"]["id"], body["data"]["object"]["object"]) == ("in_test", "invoice")
    assert request.headers["Content-Type"] == "application/json"
    header = request.headers[SIGNATURE_HEADER]
    assert header.startswith(f"t={int(DEMO_NOW.timestamp())},v1=")
    assert verify_signature(request.body, header, endpoint.secret, now=DEMO_NOW.timestamp())
    [delivery] = deliveries(database)
    assert delivery.status == "delivered" and delivery.attempts == 1 and delivery.last_status_code == 200
    assert run_deliverer(database, clock) == 0  # delivered means done


def test_a_tampered_body_a_wrong_secret_or_an_old_timestamp_fail_verification(
    database: Database, receiver: Receiver, clock: Clock
) -> None:
    endpoint = add_endpoint(database, receiver.url, clock)
    add_event(database, clock)
    run_deliverer(database, clock)
    [request] = receiver.received
    header = request.headers[SIGNATURE_HEADER]
    tampered = request.body.replace(b"in_test", b"in_fake")
    now = DEMO_NOW.timestamp()

    with pytest.raises(WebhookSignatureError, match="No signature matches"):
        verify_signature(tampered, header, endpoint.secret, now=now)
    with pytest.raises(WebhookSignatureError, match="No signature matches"):
        verify_signature(request.body, header, "whsec_wrong", now=now)
    with pytest.raises(WebhookSignatureError, match="tolerance"):
        verify_signature(request.body, header, endpoint.secret, now=now + 301)
    with pytest.raises(WebhookSignatureError, match="no timestamp"):
        verify_signature(request.body, "v1=abc", endpoint.secret, now=now)
    assert verify_signature(request.body.decode(), header, endpoint.secret, now=now + 299)


def test_a_server_error_is_retried_with_backoff_and_the_event_delivered_once(
    database: Database, receiver: Receiver, clock: Clock
) -> None:
    add_endpoint(database, receiver.url, clock)
    add_event(database, clock)
    receiver.answers = [500]

    run_deliverer(database, clock)
    [failed] = deliveries(database)
    assert failed.status == "pending" and failed.last_status_code == 500
    assert failed.next_attempt_at == DEMO_NOW + timedelta(minutes=1)
    assert run_deliverer(database, clock) == 0  # not due yet

    clock.now += timedelta(minutes=1)
    assert run_deliverer(database, clock) == 1
    clock.now += timedelta(days=2)
    assert run_deliverer(database, clock) == 0

    [delivered] = deliveries(database)
    assert delivered.status == "delivered" and delivered.attempts == 2
    assert delivered.delivered_at == DEMO_NOW + timedelta(minutes=1)
    assert len(receiver.received) == 2
    assert len({json.loads(request.body)["id"] for request in receiver.received}) == 1


def test_delivery_gives_up_after_12_attempts_over_about_a_day(
    database: Database, receiver: Receiver, clock: Clock
) -> None:
    add_endpoint(database, receiver.url, clock)
    add_event(database, clock)
    receiver.answers = [503] * 20

    dispatch_events(database=database, now=clock())
    for _ in range(MAX_DELIVERY_ATTEMPTS):
        assert deliver_due(database=database, clock=clock, allow_loopback=True) == 1
        [delivery] = deliveries(database)
        if delivery.next_attempt_at is not None:
            clock.now = delivery.next_attempt_at

    [delivery] = deliveries(database)
    assert (
        delivery.status == "failed" and delivery.attempts == MAX_DELIVERY_ATTEMPTS and delivery.next_attempt_at is None
    )
    assert timedelta(hours=18) <= clock.now - DEMO_NOW <= timedelta(hours=26)
    clock.now += timedelta(days=3)
    assert deliver_due(database=database, clock=clock, allow_loopback=True) == 0
    assert len(receiver.received) == MAX_DELIVERY_ATTEMPTS


def test_events_written_before_a_crash_are_delivered_after_a_restart(
    database: Database, receiver: Receiver, clock: Clock
) -> None:
    add_endpoint(database, receiver.url, clock)
    waiting = add_event(database, clock)  # the process died before dispatching it
    in_flight = add_event(database, clock, EventType.CUSTOMER_UPDATED)
    dispatch_events(database=database, now=clock())
    with database.transaction() as session:  # ... and this one died while being sent (claimed, never recorded)
        session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.event_id == in_flight)
            .values(next_attempt_at=clock() + CLAIM_TIMEOUT)
        )
    database.dispose()

    restarted = Database(str(database.engine.url))
    run_deliverer(restarted, clock)
    clock.now += CLAIM_TIMEOUT
    run_deliverer(restarted, clock)
    restarted.dispose()

    assert sorted(json.loads(request.body)["id"] for request in receiver.received) == sorted([waiting, in_flight])
    assert {delivery.status for delivery in deliveries(database)} == {"delivered"}


def test_an_endpoint_gets_only_the_event_types_it_chose_and_nothing_while_disabled(
    database: Database, receiver: Receiver, clock: Clock
) -> None:
    endpoint = add_endpoint(database, receiver.url, clock, event_types=("invoice.paid",))
    add_event(database, clock, EventType.PORTAL_LINK_CREATED)
    add_event(database, clock, EventType.INVOICE_PAID)
    run_deliverer(database, clock)
    with database.transaction() as session:
        update_endpoint(
            session=session,
            merchant_id=acme_id(database),
            endpoint_id=endpoint.endpoint.id,
            url=receiver.url,
            description="",
            event_types=["invoice.paid"],
            enabled=False,
            allow_insecure=True,
        )
    add_event(database, clock, EventType.INVOICE_PAID)
    run_deliverer(database, clock)

    assert [json.loads(request.body)["type"] for request in receiver.received] == ["invoice.paid"]


def test_after_rotation_both_secrets_sign_for_a_day(database: Database, receiver: Receiver, clock: Clock) -> None:
    old = add_endpoint(database, receiver.url, clock)
    with database.transaction() as session:
        new = rotate_secret(session=session, merchant_id=acme_id(database), endpoint_id=old.endpoint.id, clock=clock)
    add_event(database, clock)
    run_deliverer(database, clock)
    clock.now += timedelta(days=1, seconds=1)
    add_event(database, clock)
    run_deliverer(database, clock)

    first, second = receiver.received
    now = clock.now.timestamp()
    assert new.secret != old.secret
    assert verify_signature(first.body, first.headers[SIGNATURE_HEADER], old.secret, tolerance=0, now=now)
    assert verify_signature(first.body, first.headers[SIGNATURE_HEADER], new.secret, tolerance=0, now=now)
    assert verify_signature(second.body, second.headers[SIGNATURE_HEADER], new.secret, now=now)
    with pytest.raises(WebhookSignatureError):
        verify_signature(second.body, second.headers[SIGNATURE_HEADER], old.secret, now=now)


def test_resend_sends_again_and_the_log_shows_every_attempt(
    database: Database, receiver: Receiver, clock: Clock
) -> None:
    endpoint, delivery = one_delivered_event(database, receiver, clock)
    clock.now += timedelta(minutes=5)

    resent = resend_delivery(
        database=database, merchant_id=acme_id(database), delivery_id=delivery.id, clock=clock, allow_loopback=True
    )

    assert resent.status == "delivered" and resent.attempts == 2 and resent.last_attempt_at == clock.now
    assert len(receiver.received) == 2
    with database.transaction() as session:
        log = list_deliveries(session=session, merchant_id=acme_id(database), endpoint_id=endpoint.endpoint.id)
    [row] = log.deliveries
    assert (row.event_type, row.attempts, row.last_status_code) == ("invoice.paid", 2, 200)
    assert row.last_response_ms is not None


def test_another_merchants_endpoints_and_deliveries_are_not_found(
    database: Database, receiver: Receiver, clock: Clock
) -> None:
    endpoint, delivery = one_delivered_event(database, receiver, clock)
    with database.transaction() as session:
        globex = session.scalars(select(Merchant.id).where(Merchant.invoice_prefix == "GLX")).one()
        with pytest.raises(NotFound):
            list_deliveries(session=session, merchant_id=globex, endpoint_id=endpoint.endpoint.id)
        with pytest.raises(NotFound):
            rotate_secret(session=session, merchant_id=globex, endpoint_id=endpoint.endpoint.id, clock=clock)
    with pytest.raises(NotFound):
        resend_delivery(database=database, merchant_id=globex, delivery_id=delivery.id, clock=clock)


@pytest.mark.parametrize(
    ("url", "allow_insecure", "accepted"),
    [
        ("https://hooks.example.com/portal", False, True),
        ("http://hooks.example.com/portal", False, False),
        ("http://127.0.0.1:9000/hooks", False, False),
        ("http://127.0.0.1:9000/hooks", True, True),
        ("http://localhost/hooks", True, True),
        ("http://example.com/hooks", True, False),
        ("https://10.0.0.5/hooks", False, False),
        ("https://169.254.169.254/latest", False, False),
        ("https://localhost/hooks", False, False),
        ("ftp://example.com", False, False),
        ("", False, False),
    ],
)
def test_endpoint_urls_must_be_https_on_a_public_host(url: str, allow_insecure: bool, accepted: bool) -> None:
    assert (check_endpoint_url(url, allow_insecure=allow_insecure) is None) is accepted


def test_an_endpoint_needs_event_types(database: Database, clock: Clock) -> None:
    with pytest.raises(ValidationFailed) as failed, database.transaction() as session:
        create_endpoint(
            session=session,
            merchant_id=acme_id(database),
            url="http://example.com/x",
            description="",
            event_types=[],
            allow_insecure=False,
            clock=clock,
        )
    assert set(failed.value.field_errors) == {"url", "event_types"}
