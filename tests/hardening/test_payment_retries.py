"""Pay now when things go wrong: a charge whose transaction was lost is not charged again; a decline can be retried."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from app.db import Database
from app.errors import Unavailable
from app.models import Invoice, InvoiceStatus, PaymentMethod, SubscriptionStatus
from app.services.payments import pay_invoice
from app.services.portal_links import PortalAccess
from tests.conftest import DEMO_NOW
from tests.hardening.support import CountingGateway
from tests.unit.portal_support import ACTOR, access_to


def _clock() -> datetime:
    return DEMO_NOW


def _open_invoice(database: Database, access: PortalAccess) -> str:
    with database.transaction() as session:
        return session.scalars(
            select(Invoice.id).where(Invoice.customer_id == access.customer_id, Invoice.status == InvoiceStatus.OPEN)
        ).first() or pytest.fail("the past-due demo customer has an open invoice")


def _default_card_ends_in(database: Database, access: PortalAccess, last4: str) -> None:
    with database.transaction() as session:
        card = session.scalars(
            select(PaymentMethod).where(PaymentMethod.customer_id == access.customer_id, PaymentMethod.is_default)
        ).one()
        card.last4 = last4


def _pay(database: Database, access: PortalAccess, invoice_id: str, gateway: CountingGateway) -> str:
    with database.transaction() as session:
        paid = pay_invoice(
            session=session, access=access, invoice_id=invoice_id, gateway=gateway, actor=ACTOR, clock=_clock
        )
    return paid.status


def test_a_charge_whose_transaction_was_lost_is_not_charged_again_on_retry(database: Database) -> None:
    access = access_to(database, status=SubscriptionStatus.PAST_DUE)
    invoice_id, gateway = _open_invoice(database, access), CountingGateway()
    _default_card_ends_in(database, access, "4242")
    with pytest.raises(Unavailable), database.transaction() as session:
        pay_invoice(session=session, access=access, invoice_id=invoice_id, gateway=gateway, actor=ACTOR, clock=_clock)
        raise Unavailable()  # the card was charged, then the commit failed: the invoice is still open
    assert gateway.charges == 1
    assert _pay(database, access, invoice_id, gateway) == "paid"  # the customer clicks Pay now again
    assert gateway.charges == 1


def test_after_a_decline_each_new_attempt_is_a_new_charge(database: Database) -> None:
    access = access_to(database, status=SubscriptionStatus.PAST_DUE)
    invoice_id, gateway = _open_invoice(database, access), CountingGateway()
    _default_card_ends_in(database, access, "0341")  # saved, but declined when charged
    assert _pay(database, access, invoice_id, gateway) == "open"
    assert _pay(database, access, invoice_id, gateway) == "open"  # asking the bank again, not its old answer
    assert gateway.charges == 2
    _default_card_ends_in(database, access, "4242")  # e.g. the customer fixed it with the bank
    assert _pay(database, access, invoice_id, gateway) == "paid"
    assert gateway.charges == 3
