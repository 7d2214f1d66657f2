"""Faults: a locked or unreachable database during Save and portal actions, and the same action submitted twice.

Each fault must give a clear message, write nothing half-way, and let a retry work; a double submit applies once.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from nicegui import ui
from nicegui.testing import User
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

import app.db
from app.config import Settings
from app.context import AppContext
from app.db import Database
from app.errors import Unavailable
from app.gateways.base import PaymentGateway
from app.models import Event, EventSource, Invoice, InvoiceStatus, Merchant, Subscription, SubscriptionStatus
from app.services.events import Actor
from app.services.merchants import get_account_details, update_account_details
from app.services.portal_links import issue_link
from pages.portal import LiveActions
from tests.conftest import only_on
from tests.hardening.support import snapshot, ticking_clock
from tests.payment_support import RecordingGateway
from tests.ui.conftest import log_in
from tests.ui.portal_setup import acme, customer_with, link_path, subscription_of

BUSY_TIMEOUT_MS = 150
sqlite_only = only_on("sqlite", "Holding SQLite's write lock from another connection")


@contextmanager
def write_lock(database_path: Path) -> Iterator[None]:
    """Hold SQLite's write lock from another connection, as a long-running writer elsewhere would."""
    holder = sqlite3.connect(database_path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        yield
        holder.execute("ROLLBACK")
    finally:
        holder.close()


@pytest.fixture
def short_busy_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    """Engines created from now on wait 150 ms (not 5 s) for a lock before giving up."""
    original = app.db._sqlite_pragmas

    def pragmas(dbapi_connection: Any, record: Any) -> None:
        original(dbapi_connection, record)
        dbapi_connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")

    monkeypatch.setattr(app.db, "_sqlite_pragmas", pragmas)


def _acme_id(database: Database) -> str:
    with database.transaction() as session:
        return acme(session).id


def _business_name(database: Database, merchant_id: str) -> str:
    with database.transaction() as session:
        return get_account_details(session=session, merchant_id=merchant_id).public_business_name


# --- The database layer ---------------------------------------------------------------------------------------


@sqlite_only
@pytest.mark.usefixtures("short_busy_timeout")
def test_a_write_blocked_by_a_lock_raises_unavailable_and_a_retry_works(
    settings: Settings, database_path: Path
) -> None:
    database = Database(settings.effective_database_url)
    with database.transaction() as session:
        details = get_account_details(session=session, merchant_id=acme(session).id)
    renamed = replace(details, public_business_name="Acme Renamed")
    before = snapshot(database)
    with write_lock(database_path), pytest.raises(Unavailable), database.transaction() as session:
        update_account_details(session=session, details=renamed)
    assert snapshot(database) == before
    with database.transaction() as session:
        update_account_details(session=session, details=renamed)
    assert _business_name(database, details.merchant_id) == "Acme Renamed"
    database.dispose()


def failing_once(database: Database, monkeypatch: pytest.MonkeyPatch) -> Callable[[], int]:
    """The next session the database opens fails as an unreachable server does; returns how many failed."""
    factory = database.session_factory
    failures = 0

    def flaky(**kwargs: Any) -> Any:
        nonlocal failures
        if failures == 0:
            failures += 1
            raise OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))
        return factory(**kwargs)

    monkeypatch.setattr(database, "session_factory", flaky)
    return lambda: failures


def test_an_unreachable_database_during_a_portal_action_changes_nothing_and_retry_works(
    app_context: AppContext, database: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    customer_id = customer_with(database, SubscriptionStatus.ACTIVE)
    actions = _live_actions(app_context, customer_id)
    subscription_id = subscription_of(database, customer_id).id
    actions.reload()  # the link's first use is recorded before the fault
    before = snapshot(database)
    failures = failing_once(database, monkeypatch)
    with pytest.raises(Unavailable):
        actions.cancel_subscription(subscription_id, "too_expensive", "")
    assert failures() == 1 and snapshot(database) == before
    actions.cancel_subscription(subscription_id, "too_expensive", "")
    assert subscription_of(database, customer_id).cancel_at_period_end


# --- Through the pages --------------------------------------------------------------------------------------------


@sqlite_only
async def test_save_during_a_lock_says_nothing_was_saved_and_saving_again_works(
    short_busy_timeout: None, user: User, app_env: Path, database: Database
) -> None:
    merchant_id = _acme_id(database)
    await log_in(user, then="/settings/account")
    name = user.find("Public business name")
    name.clear().type("Acme While Locked")
    with write_lock(app_env):
        user.find(kind=ui.button, content="Save").click()
        await user.should_see("nothing was saved", retries=30)
    assert _business_name(database, merchant_id) == "Acme Cloud"
    user.find(kind=ui.button, content="Save").click()
    await user.should_see("Saved", retries=30)
    assert _business_name(database, merchant_id) == "Acme While Locked"


@sqlite_only
async def test_a_portal_action_during_a_lock_is_explained_and_a_retry_applies_once(
    short_busy_timeout: None, user: User, app_env: Path, database: Database, settings: Settings
) -> None:
    customer_id = customer_with(database, SubscriptionStatus.ACTIVE)
    subscription_id = subscription_of(database, customer_id).id
    await user.open(link_path(database, settings, customer_id))
    before = snapshot(database, skip=("portal_links.last_used_at",))
    with write_lock(app_env):
        user.find(kind=ui.button, content="Cancel subscription").click()
        user.find(marker="confirm-cancel").click()
        await user.should_see("nothing was changed", retries=30)
    assert snapshot(database, skip=("portal_links.last_used_at",)) == before
    await user.should_see(kind=ui.button, content="Cancel subscription")
    user.find(kind=ui.button, content="Cancel subscription").click()
    user.find(marker="confirm-cancel").click()
    await user.should_see(kind=ui.button, content="Don't cancel", retries=30)
    assert _count_events(database, subscription_id, "customer.subscription.updated") == 1


async def test_a_portal_page_opened_while_the_database_is_down_says_so(
    user: User, database: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = link_path(database, settings, customer_with(database, SubscriptionStatus.ACTIVE))
    monkeypatch.setattr(Database, "transaction", _unavailable_transaction)
    response = await user.http_client.get(path)
    assert "This page is temporarily unavailable" in response.text
    assert "Traceback" not in response.text and "OperationalError" not in response.text
    pdf = await user.http_client.get(f"{path}/invoices/in_whatever/pdf")
    assert pdf.status_code == 503 and pdf.headers["retry-after"] == "5"


@contextmanager
def _unavailable_transaction(_self: Database) -> Iterator[Any]:
    raise Unavailable()
    yield  # pragma: no cover - a generator, like the real transaction()


# --- Double submits -----------------------------------------------------------------------------------------------


def _live_actions(app_context: AppContext, customer_id: str, gateway: PaymentGateway | None = None) -> LiveActions:
    """The actions of a portal page open on a fresh link, with a clock that moves like a real one."""
    context = replace(app_context, clock=ticking_clock())
    with context.database.transaction() as session:
        link = issue_link(
            session=session,
            settings=context.settings,
            merchant_id=acme(session).id,
            customer_id=customer_id,
            created_by="test",
            clock=context.clock,
        )
    token = link.url.rsplit("/portal/", 1)[1]
    return LiveActions(context, token, Actor(source=EventSource.PORTAL), gateway or context.gateway)


def _twice_at_once(*calls: Callable[[], object]) -> list[BaseException | None]:
    """Run the calls in parallel threads that start together, as two tabs submitting at the same moment."""
    start = threading.Barrier(len(calls))
    outcomes: list[BaseException | None] = [None] * len(calls)

    def run(index: int) -> None:
        start.wait()
        try:
            calls[index]()
        except BaseException as error:  # reported to the test below
            outcomes[index] = error

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def _count_events(database: Database, object_id: str, event_type: str) -> int:
    with database.transaction() as session:
        return session.scalar(select(func.count()).where(Event.object_id == object_id, Event.type == event_type)) or 0


def _settled(outcomes: list[BaseException | None]) -> bool:
    """Every submit either went through or was told to try again (never another error)."""
    return all(outcome is None or isinstance(outcome, Unavailable) for outcome in outcomes)


def test_two_tabs_paying_the_same_invoice_at_once_charge_and_pay_once(
    app_context: AppContext, database: Database
) -> None:
    with database.transaction() as session:
        invoice = session.scalars(
            select(Invoice)
            .join(Merchant, Merchant.id == Invoice.merchant_id)
            .where(Merchant.public_business_name == "Acme Cloud", Invoice.status == InvoiceStatus.OPEN)
            .order_by(Invoice.id)
        ).first()
        assert invoice is not None
        invoice_id, customer_id, total = invoice.id, invoice.customer_id, invoice.amount_due
    gateway = RecordingGateway(app_context.gateway)
    tabs = [_live_actions(app_context, customer_id, gateway) for _ in range(2)]
    outcomes = _twice_at_once(*(lambda tab=tab: tab.pay_invoice(invoice_id) for tab in tabs))
    assert _settled(outcomes), outcomes
    tabs[0].pay_invoice(invoice_id)  # the retry of a tab that was told to try again changes nothing more
    with database.transaction() as session:
        paid = session.get_one(Invoice, invoice_id)
        assert (paid.status, paid.amount_paid, paid.amount_due) == (InvoiceStatus.PAID, total, 0)
    assert gateway.charged == 1, [(c.idempotency_key, c.last4) for c in gateway.charges]
    assert _count_events(database, invoice_id, "invoice.paid") == 1


def test_two_tabs_cancelling_at_once_cancel_once(app_context: AppContext, database: Database) -> None:
    customer_id = customer_with(database, SubscriptionStatus.ACTIVE)
    subscription_id = subscription_of(database, customer_id).id
    tabs = [_live_actions(app_context, customer_id) for _ in range(2)]
    outcomes = _twice_at_once(*(lambda tab=tab: tab.cancel_subscription(subscription_id, "unused", "") for tab in tabs))
    assert _settled(outcomes), outcomes
    with database.transaction() as session:
        assert session.get_one(Subscription, subscription_id).cancel_at_period_end
    assert _count_events(database, subscription_id, "customer.subscription.updated") == 1


def _edit_headline(user: User) -> None:
    user.find("Headline").clear().type("Double-clicked")


def _edit_brand_colour(user: User) -> None:
    (brand,) = user.find(kind=ui.color_input, content="Brand colour").elements
    with user:
        brand.value = "#0f7b6c"


@pytest.mark.parametrize(
    ("page", "edit", "column", "value"),
    [
        ("/settings/portal", _edit_headline, "headline", "Double-clicked"),
        ("/settings/branding", _edit_brand_colour, "brand_color", "#0f7b6c"),
    ],
)
async def test_a_double_clicked_save_saves_once(
    user: User, database: Database, page: str, edit: Callable[[User], None], column: str, value: str
) -> None:
    await log_in(user, then=page)
    with database.transaction() as session:
        version = session.get_one(Merchant, acme(session).id).portal_settings.version
    edit(user)
    save = user.find(kind=ui.button, content="Save")
    save.click()
    save.click()
    await user.should_see("Saved", retries=30)
    with database.transaction() as session:
        settings = session.get_one(Merchant, acme(session).id).portal_settings
        assert (getattr(settings, column), settings.version) == (value, version + 1)
