"""Every portal action with the id of someone else's object: refused as not found, logged, and nothing changed."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import Database
from app.errors import NotFound, ValidationFailed
from app.gateways.base import PaymentGateway
from app.models import Invoice, PaymentMethod, Price, Subscription
from app.services import payments, portal
from app.services.invoice_pdf import render_invoice_pdf
from app.services.portal_links import PortalAccess
from tests.conftest import DEMO_NOW
from tests.hardening.support import snapshot
from tests.payment_support import RecordingGateway
from tests.unit.portal_support import ACTOR, access_to, set_portal_settings


@dataclass(frozen=True)
class Ids:
    """One object of each kind that a customer owns, and a price of their merchant."""

    subscription: str
    invoice: str
    payment_method: str
    price: str


def _ids(database: Database, access: PortalAccess) -> Ids:
    with database.transaction() as session:
        customer = access.customer_id
        return Ids(
            subscription=session.scalars(select(Subscription.id).where(Subscription.customer_id == customer)).first()
            or "",
            invoice=session.scalars(select(Invoice.id).where(Invoice.customer_id == customer)).first() or "",
            payment_method=session.scalars(
                select(PaymentMethod.id).where(PaymentMethod.customer_id == customer)
            ).first()
            or "",
            price=session.scalars(select(Price.id).where(Price.merchant_id == access.merchant_id)).first() or "",
        )


def _clock() -> datetime:
    return DEMO_NOW


Action = Callable[[Session, PortalAccess, Ids, Ids, PaymentGateway], object]
# Each action aims at the other customer's object (`theirs`) with the caller's own remaining arguments (`mine`).
ACTIONS: dict[str, tuple[Action, str]] = {
    "cancel": (
        lambda s, a, mine, theirs, g: portal.cancel_subscription(
            session=s, access=a, subscription_id=theirs.subscription, actor=ACTOR, clock=_clock
        ),
        "subscription",
    ),
    "undo cancellation": (
        lambda s, a, mine, theirs, g: portal.undo_cancellation(
            session=s, access=a, subscription_id=theirs.subscription, actor=ACTOR, clock=_clock
        ),
        "subscription",
    ),
    "preview plan change": (
        lambda s, a, mine, theirs, g: portal.preview_plan_change(
            session=s, access=a, subscription_id=theirs.subscription, price_id=mine.price, quantity=2, clock=_clock
        ),
        "subscription",
    ),
    "change plan": (
        lambda s, a, mine, theirs, g: portal.change_plan(
            session=s,
            access=a,
            subscription_id=theirs.subscription,
            price_id=mine.price,
            quantity=2,
            actor=ACTOR,
            clock=_clock,
        ),
        "subscription",
    ),
    "invoice details": (
        lambda s, a, mine, theirs, g: portal.get_invoice(session=s, access=a, invoice_id=theirs.invoice),
        "invoice",
    ),
    "invoice pdf": (
        lambda s, a, mine, theirs, g: render_invoice_pdf(
            session=s, access=a, invoice_id=theirs.invoice, locale="en_US"
        ),
        "invoice",
    ),
    "confirm payment": (
        lambda s, a, mine, theirs, g: payments.payment_authentication(
            session=s, access=a, invoice_id=theirs.invoice, gateway=g
        ),
        "invoice",
    ),
    "set default card": (
        lambda s, a, mine, theirs, g: payments.set_default_card(
            session=s, access=a, payment_method_id=theirs.payment_method, actor=ACTOR, clock=_clock
        ),
        "payment method",
    ),
    "remove card": (
        lambda s, a, mine, theirs, g: payments.remove_card(
            session=s, access=a, payment_method_id=theirs.payment_method, gateway=g, actor=ACTOR, clock=_clock
        ),
        "payment method",
    ),
}


@pytest.fixture
def everything_enabled(database: Database) -> PortalAccess:
    """An Acme customer's access, with every portal feature on (so refusals can only come from ownership)."""
    access = access_to(database)
    prices = _ids(database, access).price
    set_portal_settings(
        database,
        access.merchant_id,
        plan_switching=True,
        switchable_price_ids=[prices],
        cancellation_reasons=True,
    )
    return access


@pytest.mark.parametrize("owner", ["same merchant", "other merchant"])
@pytest.mark.parametrize("action", list(ACTIONS))
def test_someone_elses_object_is_refused_logged_and_nothing_changes(
    database: Database,
    everything_enabled: PortalAccess,
    test_gateway: PaymentGateway,
    caplog: pytest.LogCaptureFixture,
    action: str,
    owner: str,
) -> None:
    access = everything_enabled
    other = access_to(database, skip=1) if owner == "same merchant" else access_to(database, "Globex")
    mine, theirs = _ids(database, access), _ids(database, other)
    assert all((theirs.subscription, theirs.invoice, theirs.payment_method))
    run, kind = ACTIONS[action]
    before = snapshot(database)
    with (
        caplog.at_level(logging.WARNING, logger="app.services.portal"),
        pytest.raises(NotFound),
        database.transaction() as session,
    ):
        run(session, access, mine, theirs, test_gateway)
    assert snapshot(database) == before
    refusals = [record.getMessage() for record in caplog.records if record.name == "app.services.portal.access"]
    assert len(refusals) == 1
    assert (
        access.link_id in refusals[0] and kind in refusals[0] and getattr(theirs, kind.replace(" ", "_")) in refusals[0]
    )


@pytest.mark.parametrize("owner", ["same merchant", "other merchant"])
def test_paying_someone_elses_invoice_is_refused_logged_and_charges_nothing(
    database: Database,
    everything_enabled: PortalAccess,
    gateway: PaymentGateway,
    caplog: pytest.LogCaptureFixture,
    owner: str,
) -> None:
    """Pay now talks to the gateway outside the transaction: ownership is checked before anything is charged."""
    other = access_to(database, skip=1) if owner == "same merchant" else access_to(database, "Globex")
    theirs = _ids(database, other)
    recording = RecordingGateway(gateway)
    before = snapshot(database)
    with caplog.at_level(logging.WARNING, logger="app.services.portal"), pytest.raises(NotFound):
        payments.pay_invoice(
            database=database,
            access=everything_enabled,
            invoice_id=theirs.invoice,
            gateway=recording,
            actor=ACTOR,
            clock=_clock,
        )
    assert snapshot(database) == before and recording.charges == []
    assert any(theirs.invoice in record.getMessage() for record in caplog.records)


def test_a_price_of_another_merchant_is_not_offered(database: Database, everything_enabled: PortalAccess) -> None:
    access = everything_enabled
    mine, globex = _ids(database, access), _ids(database, access_to(database, "Globex"))
    before = snapshot(database)
    for run in (portal.preview_plan_change, portal.change_plan):
        extra = {} if run is portal.preview_plan_change else {"actor": ACTOR}
        with pytest.raises(ValidationFailed) as refused, database.transaction() as session:
            run(
                session=session,
                access=access,
                subscription_id=mine.subscription,
                price_id=globex.price,
                quantity=1,
                clock=_clock,
                **extra,
            )
        assert set(refused.value.field_errors) == {"price_id"}
    assert snapshot(database) == before


@pytest.mark.parametrize("bad_id", ["", "sub_doesnotexist", "' OR 1=1 --", "x" * 10_000, "sub_\ninjected"])
def test_malformed_ids_are_simply_not_found(database: Database, everything_enabled: PortalAccess, bad_id: str) -> None:
    before = snapshot(database)
    with pytest.raises(NotFound), database.transaction() as session:
        portal.cancel_subscription(
            session=session, access=everything_enabled, subscription_id=bad_id, actor=ACTOR, clock=_clock
        )
    assert snapshot(database) == before
