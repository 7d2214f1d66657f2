"""Pay now when things go wrong: a charge whose outcome was lost is not charged again; a decline can be retried.

Each attempt is a `Payment` written before the gateway is asked, and its id is the idempotency key: asking again
after the answer could not be recorded uses the same key, which a gateway answers without charging again (the test
gateway from its memory; Stripe from its idempotency store).
"""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import delete, select

from app.db import Database
from app.enums import PaymentStatus
from app.errors import Unavailable
from app.gateways.base import PaymentGateway
from app.models import Invoice, InvoiceStatus, Payment, PaymentMethod, SubscriptionStatus
from app.services import charges
from app.services.payments import pay_invoice
from app.services.portal_links import PortalAccess
from tests.conftest import DEMO_NOW
from tests.payment_support import RecordingGateway, add_card_through
from tests.unit.portal_support import ACTOR, access_to


def _clock() -> datetime:
    return DEMO_NOW


def _open_invoice(database: Database, access: PortalAccess) -> str:
    with database.transaction() as session:
        return session.scalars(
            select(Invoice.id).where(Invoice.customer_id == access.customer_id, Invoice.status == InvoiceStatus.OPEN)
        ).first() or pytest.fail("the past-due demo customer has an open invoice")


def _pay(database: Database, access: PortalAccess, invoice_id: str, gateway: PaymentGateway) -> str:
    outcome = pay_invoice(
        database=database, access=access, invoice_id=invoice_id, gateway=gateway, actor=ACTOR, clock=_clock
    )
    return outcome.invoice.status


def test_a_charge_whose_outcome_was_lost_is_asked_again_with_the_same_key(
    database: Database, gateway: PaymentGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    access = access_to(database, status=SubscriptionStatus.PAST_DUE)
    with database.transaction() as session:
        session.execute(delete(PaymentMethod).where(PaymentMethod.customer_id == access.customer_id))
    add_card_through(gateway, database, access, "4242 4242 4242 4242", make_default=True)
    invoice_id, recording = _open_invoice(database, access), RecordingGateway(gateway)
    record = charges.apply_payment_result

    def database_lost(**_arguments: object) -> None:
        raise Unavailable()  # the card was charged, then recording it failed: the invoice is still open

    monkeypatch.setattr(charges, "apply_payment_result", database_lost)
    with pytest.raises(Unavailable):
        _pay(database, access, invoice_id, recording)
    monkeypatch.setattr(charges, "apply_payment_result", record)
    assert _pay(database, access, invoice_id, recording) == "paid"  # the customer clicks Pay now again
    assert len(recording.charges) == 2 and recording.charged == 1  # asked twice, with one idempotency key
    with database.transaction() as session:
        statuses = session.scalars(select(Payment.status).where(Payment.invoice_id == invoice_id)).all()
    assert statuses == [PaymentStatus.SUCCEEDED]


def test_after_a_decline_each_new_attempt_is_a_new_charge(database: Database, gateway: PaymentGateway) -> None:
    access = access_to(database, status=SubscriptionStatus.PAST_DUE)
    invoice_id, recording = _open_invoice(database, access), RecordingGateway(gateway)
    add_card_through(
        gateway, database, access, "4000 0000 0000 0341", make_default=True
    )  # saved, but declined when charged
    assert _pay(database, access, invoice_id, recording) == "open"
    assert _pay(database, access, invoice_id, recording) == "open"  # asking the bank again, not its old answer
    assert recording.charged == 2
    add_card_through(
        gateway, database, access, "4242 4242 4242 4242", make_default=True
    )  # the customer adds a card that works
    assert _pay(database, access, invoice_id, recording) == "paid"
    assert recording.charged == 3
