"""Stripe's webhooks: only correctly signed, recent requests are read, and each event is applied once.

The payloads are Stripe's event format, signed here with the webhook secret as Stripe signs them (the end-to-end
test receives real ones from localstripe).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.config import Settings
from app.db import Database
from app.enums import InvoiceStatus, PaymentStatus, SubscriptionStatus
from app.gateways import build_gateway
from app.gateways.base import INSUFFICIENT_FUNDS, InvalidWebhook, PaymentGateway
from app.models import Event, Invoice, Payment, PaymentMethod, ProcessedGatewayEvent
from app.services.payments import apply_gateway_events, gateway_status
from tests.conftest import DEMO_NOW
from tests.payment_support import STRIPE_KEYS
from tests.unit.portal_support import access_to

SECRET = STRIPE_KEYS["STRIPE_WEBHOOK_SECRET"]


@pytest.fixture
def stripe_gateway(settings: Settings) -> PaymentGateway:
    """The Stripe gateway; reading webhooks makes no request, so no Stripe-compatible server is needed."""
    values = {key.lower(): value for key, value in STRIPE_KEYS.items()}
    return build_gateway(settings.model_copy(update={"payment_gateway": "stripe", **values}))


def _signed(event: dict[str, object], *, secret: str = SECRET, at: float | None = None) -> tuple[bytes, dict[str, str]]:
    payload = json.dumps(event).encode()
    timestamp = int(at if at is not None else time.time())
    signature = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return payload, {"stripe-signature": f"t={timestamp},v1={signature}"}


def _intent_event(event_id: str, kind: str, intent: dict[str, object]) -> dict[str, object]:
    return {"id": event_id, "object": "event", "type": kind, "created": int(time.time()), "data": {"object": intent}}


def _waiting_payment(database: Database) -> tuple[str, str]:
    """An open invoice whose Stripe payment waits for 3-D Secure: (payment id, invoice id)."""
    access = access_to(database, status=SubscriptionStatus.PAST_DUE)
    with database.transaction() as session:
        invoice = session.scalars(
            select(Invoice).where(Invoice.customer_id == access.customer_id, Invoice.status == InvoiceStatus.OPEN)
        ).one()
        payment = Payment(
            merchant_id=invoice.merchant_id,
            customer_id=invoice.customer_id,
            invoice_id=invoice.id,
            gateway="stripe",
            gateway_payment_id="pi_waiting",
            amount=invoice.amount_due,
            currency=invoice.currency,
            status=PaymentStatus.REQUIRES_ACTION,
            created_at=DEMO_NOW,
            updated_at=DEMO_NOW,
        )
        session.add(payment)
        session.flush()
        return payment.id, invoice.id


@pytest.mark.parametrize(
    "tamper",
    ["wrong secret", "changed body", "an hour old", "no signature"],
)
def test_requests_without_a_valid_recent_signature_are_refused(stripe_gateway: PaymentGateway, tamper: str) -> None:
    event = _intent_event("evt_1", "payment_intent.succeeded", {"id": "pi_1", "object": "payment_intent"})
    payload, headers = _signed(
        event,
        secret="whsec_other" if tamper == "wrong secret" else SECRET,
        at=time.time() - 3600 if tamper == "an hour old" else None,
    )
    if tamper == "changed body":
        payload = payload.replace(b"pi_1", b"pi_2")
    if tamper == "no signature":
        headers = {}
    with pytest.raises(InvalidWebhook):
        stripe_gateway.webhook_events(payload=payload, headers=headers)


def test_the_test_gateway_reads_no_webhooks(test_gateway: PaymentGateway) -> None:
    payload, headers = _signed(_intent_event("evt_1", "payment_intent.succeeded", {"id": "pi_1"}))
    with pytest.raises(InvalidWebhook):
        test_gateway.webhook_events(payload=payload, headers=headers)


def test_a_succeeded_payment_intent_pays_the_invoice_once(database: Database, stripe_gateway: PaymentGateway) -> None:
    payment_id, invoice_id = _waiting_payment(database)
    intent = {
        "id": "pi_waiting",
        "object": "payment_intent",
        "status": "succeeded",
        "metadata": {"payment": payment_id},
    }
    payload, headers = _signed(_intent_event("evt_paid", "payment_intent.succeeded", intent))
    events = stripe_gateway.webhook_events(payload=payload, headers=headers)
    assert apply_gateway_events(database=database, gateway=stripe_gateway, events=events, now=DEMO_NOW) == 1
    assert apply_gateway_events(database=database, gateway=stripe_gateway, events=events, now=DEMO_NOW) == 0
    with database.transaction() as session:
        assert session.get_one(Invoice, invoice_id).status == InvoiceStatus.PAID
        assert session.get_one(Payment, payment_id).status == PaymentStatus.SUCCEEDED
        paid = session.scalar(select(func.count()).where(Event.object_id == invoice_id, Event.type == "invoice.paid"))
        assert paid == 1
        status = gateway_status(session=session, gateway=stripe_gateway, public_url="https://billing.example.com")
    assert (status.name, status.webhook_url, status.last_webhook_at) == (
        "stripe",
        "https://billing.example.com/webhooks/stripe",
        DEMO_NOW,
    )
    assert status.webhook_events == (
        "payment_intent.succeeded",
        "payment_intent.payment_failed",
        "payment_method.detached",
    )


def test_a_webhook_that_overtakes_the_charges_answer_finds_the_payment_by_its_metadata(
    database: Database, stripe_gateway: PaymentGateway
) -> None:
    payment_id, invoice_id = _waiting_payment(database)
    with database.transaction() as session:
        payment = session.get_one(Payment, payment_id)
        payment.status, payment.gateway_payment_id = PaymentStatus.PROCESSING, None  # the charge is still on its way
    intent = {
        "id": "pi_new",
        "object": "payment_intent",
        "status": "requires_payment_method",
        "last_payment_error": {"code": "card_declined", "decline_code": "insufficient_funds"},
        "metadata": {"payment": payment_id},
    }
    payload, headers = _signed(_intent_event("evt_failed", "payment_intent.payment_failed", intent))
    apply_gateway_events(
        database=database,
        gateway=stripe_gateway,
        events=stripe_gateway.webhook_events(payload=payload, headers=headers),
        now=DEMO_NOW,
    )
    with database.transaction() as session:
        payment = session.get_one(Payment, payment_id)
        assert (payment.status, payment.gateway_payment_id, payment.failure_message) == (
            PaymentStatus.FAILED,
            "pi_new",
            INSUFFICIENT_FUNDS,
        )
        assert session.get_one(Invoice, invoice_id).status == InvoiceStatus.OPEN


def test_a_card_detached_at_stripe_is_removed_and_another_becomes_the_default(
    database: Database, stripe_gateway: PaymentGateway
) -> None:
    access = access_to(database)
    with database.transaction() as session:
        [old] = session.scalars(select(PaymentMethod).where(PaymentMethod.customer_id == access.customer_id)).all()
        old.gateway, old.gateway_payment_method_id, old.is_default = "stripe", "pm_gone", True
        newer = PaymentMethod(
            customer_id=access.customer_id,
            brand="visa",
            last4="4242",
            exp_month=1,
            exp_year=2031,
            gateway="stripe",
            gateway_payment_method_id="pm_kept",
            created_at=DEMO_NOW + timedelta(days=1),
        )
        session.add(newer)
        old_id = old.id
    event = {
        "id": "evt_detached",
        "object": "event",
        "type": "payment_method.detached",
        "created": int(time.time()),
        "data": {"object": {"id": "pm_gone", "object": "payment_method"}},
    }
    payload, headers = _signed(event)
    events = stripe_gateway.webhook_events(payload=payload, headers=headers)
    apply_gateway_events(database=database, gateway=stripe_gateway, events=events, now=DEMO_NOW)
    with database.transaction() as session:
        cards = session.scalars(select(PaymentMethod).where(PaymentMethod.customer_id == access.customer_id)).all()
        assert [(card.gateway_payment_method_id, card.is_default) for card in cards] == [("pm_kept", True)]
        detached = session.scalars(select(Event).where(Event.type == "payment_method.detached")).one()
        assert detached.object_id == old_id


def test_other_events_are_acknowledged_and_change_nothing(database: Database, stripe_gateway: PaymentGateway) -> None:
    payload, headers = _signed(_intent_event("evt_other", "customer.created", {"id": "cus_1", "object": "customer"}))
    events = stripe_gateway.webhook_events(payload=payload, headers=headers)
    assert apply_gateway_events(database=database, gateway=stripe_gateway, events=events, now=DEMO_NOW) == 1
    with database.transaction() as session:
        assert session.scalars(select(ProcessedGatewayEvent.type)).all() == ["customer.created"]
