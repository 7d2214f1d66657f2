"""Two app processes on one PostgreSQL (and one Redis for NiceGUI's storage), as behind a load balancer.

What a customer changes through one process is seen through the other, a merchant session started on one is valid on
the other, and the background work runs once across both: one renewal per due period, one delivery per webhook event.
Runs when `TEST_DATABASE_URL` names a PostgreSQL server (`make test` starts one with scripts/with-postgres.sh).
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TypeVar
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from app.clock import system_clock
from app.db import Database, migrate
from app.enums import EventType, WebhookDeliveryStatus
from app.models import Customer, Event, Invoice, Lease, Subscription, WebhookDelivery
from app.services.api_keys import create_api_key
from app.services.billing import CYCLE, LEASE_NAME
from app.services.demo_data import load_demo_data
from app.services.webhooks import create_endpoint
from app.webhook_signature import SIGNATURE_HEADER, verify_signature
from tests.conftest import DEMO_PASSWORD, POSTGRES_URL, postgres_database
from tests.e2e.conftest import Server, log_in, running_server
from tests.event_support import record_sample_event
from tests.unit.portal_support import access_to, merchant_id_of

pytestmark = pytest.mark.skipif(
    not POSTGRES_URL, reason="needs PostgreSQL in TEST_DATABASE_URL (make test runs it under scripts/with-postgres.sh)"
)
# Set by scripts/with-redis.sh; the processes get it as NICEGUI_REDIS_URL.
REDIS_URL = os.environ.get("TEST_REDIS_URL", "")
T = TypeVar("T")


def eventually(check: Callable[[], T], what: str, timeout: float = 30.0) -> T:
    """Poll `check` until it returns something truthy (the other processes work on their own clocks)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.05)  # polling interval of a condition in other processes
    raise AssertionError(f"expected {what} within {timeout} s")


class WebhookReceiver:
    """A merchant's endpoint on this machine: records each request's body and signature header, answers 200."""

    def __init__(self) -> None:
        self.requests: list[tuple[bytes, str]] = []
        lock = threading.Lock()
        received = self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with lock:
                    received.append((body, self.headers[SIGNATURE_HEADER]))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *_args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/webhooks"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def event_ids(self) -> Counter[str]:
        return Counter(json.loads(body)["id"] for body, _ in list(self.requests))


@dataclass(frozen=True)
class Cluster:
    servers: tuple[Server, Server]
    database: Database
    merchant_id: str
    api_key: str
    receiver: WebhookReceiver
    signing_secret: str


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """Demo data in a new PostgreSQL database, an Acme webhook endpoint for every event, then two processes."""
    with postgres_database() as url, WebhookReceiver() as receiver, ExitStack() as stack:
        database = Database(url)
        stack.callback(database.dispose)
        migrate(database.engine)
        with database.transaction() as session:
            load_demo_data(session=session, password=DEMO_PASSWORD, now=system_clock())
            acme = merchant_id_of(session, "Acme Cloud")
            for customer in session.scalars(select(Customer).where(Customer.merchant_id == acme)):
                customer.locale = "en_US"
            endpoint = create_endpoint(
                session=session,
                merchant_id=acme,
                url=receiver.url,
                description="Scale-out test",
                event_types=["*"],
                allow_insecure=True,
                clock=system_clock,
            )
            api_key = create_api_key(session=session, merchant_id=acme).secret
        shared = {
            "DATABASE_URL": url,
            "DEMO_DATA": "0",
            "BILLING_CLOCK_INTERVAL_SECONDS": "1",
            "ALLOW_INSECURE_WEBHOOKS": "1",
            **({"NICEGUI_REDIS_URL": REDIS_URL} if REDIS_URL else {}),
        }
        servers = []
        for name in ("process-1", "process-2"):
            data_dir = tmp_path_factory.mktemp(name)  # no shared disk, as on two machines
            servers.append(
                stack.enter_context(running_server(data_dir, NICEGUI_STORAGE_PATH=str(data_dir / "nicegui"), **shared))
            )
        yield Cluster(
            servers=(servers[0], servers[1]),
            database=database,
            merchant_id=acme,
            api_key=api_key,
            receiver=receiver,
            signing_secret=endpoint.secret,
        )


def test_a_portal_change_made_through_one_process_is_seen_through_the_other(page: Page, cluster: Cluster) -> None:
    first, second = cluster.servers
    customer_id = access_to(cluster.database).customer_id
    response = httpx.post(
        f"{second.url}/api/v1/portal_sessions",
        json={"customer": customer_id},
        headers={"Authorization": f"Bearer {cluster.api_key}"},
    )
    assert response.status_code == 201, response.text
    link = urlsplit(response.json()["url"])
    path = link.path + (f"?{link.query}" if link.query else "")

    page.goto(first.url + path)
    billing = page.get_by_role("region", name="Billing details")
    billing.get_by_role("button", name="Update billing details").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Email").fill("billing.through.one@example.com")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_be_hidden()
    expect(billing.get_by_text("billing.through.one@example.com")).to_be_visible()

    page.goto(second.url + path)
    expect(
        page.get_by_role("region", name="Billing details").get_by_text("billing.through.one@example.com")
    ).to_be_visible()


def test_portal_settings_saved_through_one_process_show_on_the_next_page_load_of_both(
    page: Page, cluster: Cluster
) -> None:
    """Each process keeps the merchant's settings between page loads; a Save must reach both at once."""
    first, second = cluster.servers
    response = httpx.post(
        f"{first.url}/api/v1/portal_sessions",
        json={"customer": access_to(cluster.database, skip=2).customer_id},
        headers={"Authorization": f"Bearer {cluster.api_key}"},
    )
    assert response.status_code == 201, response.text
    path = urlsplit(response.json()["url"]).path
    headline = "Saved through the first process"
    for server in (first, second):  # both have read the settings once
        page.goto(server.url + path)
        expect(page.get_by_role("region", name="Subscriptions")).to_be_visible()
        expect(page.get_by_text(headline)).to_have_count(0)

    log_in(page, first.url, "/settings/portal")
    page.get_by_label("Headline").fill(headline)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved", exact=True)).to_be_visible()

    for server in (second, first):
        page.goto(server.url + path)
        expect(page.get_by_text(headline)).to_be_visible()


def test_a_merchant_session_started_on_one_process_is_valid_on_the_other(page: Page, cluster: Cluster) -> None:
    if not REDIS_URL:
        pytest.skip("needs Redis in TEST_REDIS_URL for NiceGUI's storage (scripts/with-redis.sh); else sticky sessions")
    first, second = cluster.servers

    def signed_in_on(server: Server) -> bool:
        page.goto(f"{server.url}/customers")  # the session cookie is the same: cookies do not depend on the port
        return page.url == f"{server.url}/customers"

    log_in(page, first.url, "/customers")
    eventually(lambda: signed_in_on(second), "the second process to know the session")  # Redis is written async
    expect(page.get_by_role("heading", name="Customers")).to_be_visible()

    page.goto(f"{second.url}/customers")
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login"))
    eventually(lambda: not signed_in_on(first), "the first process to forget the session")
    expect(page).to_have_url(re.compile(rf"^{re.escape(first.url)}/login\?"))


def test_the_billing_clock_renews_a_due_subscription_once_across_processes(cluster: Cluster) -> None:
    database, pids = cluster.database, {server.pid for server in cluster.servers}
    customer_id = access_to(database, skip=1).customer_id
    with database.transaction() as session:
        subscription = session.scalars(select(Subscription).where(Subscription.customer_id == customer_id)).one()
        # Due now, while both processes' billing clocks tick every second.
        due = system_clock().replace(microsecond=0)
        subscription.current_period_end = due
        subscription_id = subscription.id

    def renewal() -> Invoice | None:
        with database.transaction() as session:
            return session.scalars(
                select(Invoice).where(
                    Invoice.subscription_id == subscription_id,
                    Invoice.billing_reason == CYCLE,
                    Invoice.period_start == due,
                    Invoice.attempt_count > 0,
                )
            ).one_or_none()

    invoice = eventually(renewal, "the renewal invoice, charged")
    holders: set[int] = set()

    def both_processes_ran_billing_since() -> bool:
        with database.transaction() as session:
            holder = session.get_one(Lease, LEASE_NAME).holder
        holders.add(int(holder.split(":")[1]))  # host:pid:run
        return holders >= pids

    eventually(both_processes_ran_billing_since, "a billing run in each process after the renewal")
    with database.transaction() as session:
        renewals = session.scalar(
            select(func.count()).where(Invoice.subscription_id == subscription_id, Invoice.period_start >= due)
        )
        outcomes = session.scalars(
            select(Event.type).where(
                Event.object_id == invoice.id, Event.type.in_(("invoice.paid", "invoice.payment_failed"))
            )
        ).all()
        subscription = session.get_one(Subscription, subscription_id)
    assert renewals == 1
    assert len(outcomes) == 1
    assert subscription.current_period_end > due + timedelta(days=27)


def test_each_webhook_event_is_delivered_once_across_processes(cluster: Cluster) -> None:
    database = cluster.database
    with database.transaction() as session:  # a burst for both processes' deliverers to compete over
        customer_id = session.scalars(select(Customer.id).where(Customer.merchant_id == cluster.merchant_id)).first()
        assert customer_id is not None
        for number in range(120):
            record_sample_event(session, customer_id, EventType.CUSTOMER_UPDATED, object_id=f"cus_burst{number}")

    def all_delivered() -> list[str] | None:
        with database.transaction() as session:
            pending = session.scalar(
                select(func.count()).where(WebhookDelivery.status != WebhookDeliveryStatus.DELIVERED)
            )
            undispatched = session.scalar(select(func.count()).where(Event.dispatched_at.is_(None)))
            ids = session.scalars(select(Event.id).where(Event.merchant_id == cluster.merchant_id)).all()
        return (
            list(ids) if pending == 0 and undispatched == 0 and set(cluster.receiver.event_ids()) >= set(ids) else None
        )

    event_ids = eventually(all_delivered, "every Acme event delivered", timeout=60)
    received = cluster.receiver.event_ids()
    assert len(event_ids) > 120  # the burst, plus what the portal and billing tests did
    assert received == Counter(event_ids)  # each exactly once, nothing else
    for body, header in cluster.receiver.requests:
        assert verify_signature(body, header, cluster.signing_secret)
