"""The billing clock's bulk renewals: a batch of many kinds of due subscriptions comes out as the per-subscription
steps leave each kind, with the same events (types, payloads, moments), and a gateway outage leaves nothing lost."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, selectinload

from app.db import Database
from app.enums import PaymentStatus
from app.gateways.base import ChargeRequest, GatewayPayment, GatewayUnavailable, PaymentGateway
from app.models import (
    Event,
    Invoice,
    InvoiceStatus,
    Payment,
    PaymentMethod,
    Subscription,
    SubscriptionItem,
    SubscriptionStatus,
)
from app.services.api_objects import InvoiceObject, SubscriptionObject
from app.services.billing import advance
from app.services.charges import RETRY_DELAYS
from tests.payment_support import RecordingGateway
from tests.unit.test_billing import PERIOD_END, add_subscription, event_types, invoices_of, subscription_state


class OutageGateway(RecordingGateway):
    """The test gateway, unreachable while `down`."""

    down = True

    def charge(self, request: ChargeRequest) -> GatewayPayment:
        if self.down:
            self.charges.append(request)
            raise GatewayUnavailable("down")
        return super().charge(request)


def test_one_run_over_many_kinds_of_due_subscriptions(database: Database, test_gateway: PaymentGateway) -> None:
    advance(database=database, now=PERIOD_END - timedelta(seconds=1), gateway=test_gateway)  # the demo's renewals
    good = [add_subscription(database) for _ in range(3)]
    declined = add_subscription(database, last4="0002")
    needs_3d_secure = add_subscription(database, last4="3155")
    canceling = add_subscription(database, cancel_at_period_end=True)
    trialing = add_subscription(database, status=SubscriptionStatus.TRIALING, trial_end=PERIOD_END)
    without_card = add_subscription(database)
    with database.transaction() as session:
        customer_id = session.get_one(Subscription, without_card).customer_id
        session.execute(delete(PaymentMethod).where(PaymentMethod.customer_id == customer_id))
    gateway = RecordingGateway(test_gateway)

    result = advance(database=database, now=PERIOD_END, gateway=gateway)

    renewed = [*good, declined, needs_3d_secure, trialing, without_card]
    assert (result.invoices_created, result.payments_succeeded) == (len(renewed), 4)
    assert (result.payments_failed, result.subscriptions_canceled) == (3, 1)
    statuses = {sid: subscription_state(database, sid).status for sid in renewed}
    assert statuses == {
        **dict.fromkeys([*good, trialing], SubscriptionStatus.ACTIVE),
        **dict.fromkeys([declined, needs_3d_secure, without_card], SubscriptionStatus.PAST_DUE),
    }
    assert subscription_state(database, canceling).status == SubscriptionStatus.CANCELED
    for subscription_id in [*good, trialing]:
        assert event_types(database, subscription_id)[-3:] == [
            "customer.subscription.updated",
            "invoice.created",
            "invoice.paid",
        ]
    failures = {declined: "invoice.payment_failed", without_card: "invoice.payment_failed"}
    for subscription_id, failure in {**failures, needs_3d_secure: "invoice.payment_action_required"}.items():
        assert event_types(database, subscription_id) == [
            "customer.subscription.updated",
            "invoice.created",
            failure,
            "customer.subscription.updated",  # active → past_due
        ]
        [invoice] = invoices_of(database, subscription_id)
        assert (invoice.status, invoice.attempt_count) == (InvoiceStatus.OPEN, 1)
        assert invoice.next_payment_attempt == PERIOD_END + RETRY_DELAYS[0]
    numbers = sorted(int(invoices_of(database, sid)[0].number.removeprefix("ACME-")) for sid in renewed)
    assert numbers == list(range(numbers[0], numbers[0] + len(renewed)))
    assert gateway.charged == len(gateway.charges) == len(renewed) - 1  # once each; nothing without a card


def test_a_renewal_in_bulk_records_what_its_rows_say(database: Database, test_gateway: PaymentGateway) -> None:
    subscription_id = add_subscription(database)
    with database.transaction() as session:
        before = SubscriptionObject.from_row(_subscription(session, subscription_id)).model_dump(mode="json")

    advance(database=database, now=PERIOD_END + timedelta(minutes=1), gateway=test_gateway)

    with database.transaction() as session:
        subscription = _subscription(session, subscription_id)
        invoice = session.scalars(
            select(Invoice).where(Invoice.subscription_id == subscription_id).options(selectinload(Invoice.lines))
        ).one()
        events = session.scalars(
            select(Event).where(Event.customer_id == subscription.customer_id).order_by(Event.created_at)
        ).all()
        after = SubscriptionObject.from_row(subscription).model_dump(mode="json")
        paid = InvoiceObject.from_row(invoice).model_dump(mode="json")
        payment = session.scalars(select(Payment).where(Payment.invoice_id == invoice.id)).one()
    assert [event.type for event in events] == ["customer.subscription.updated", "invoice.created", "invoice.paid"]
    assert [event.created_at for event in events] == [PERIOD_END + timedelta(microseconds=n) for n in range(3)]
    assert events[0].data == {
        "object": after,
        "previous_attributes": {
            "current_period_start": before["current_period_start"],
            "current_period_end": before["current_period_end"],
        },
    }
    opened = {
        **paid,
        "status": "open",
        "amount_due": 1800,
        "amount_paid": 0,
        "paid_at": None,
        "attempt_count": 0,
        "next_payment_attempt": paid["created"],
    }
    assert events[1].data == {"object": opened}
    assert events[2].data == {"object": paid}
    assert {event.object_id for event in events} == {subscription_id, invoice.id}
    assert len({event.id for event in events}) == 3
    assert (payment.status, payment.off_session, payment.amount) == (PaymentStatus.SUCCEEDED, True, 1800)
    assert (payment.created_at, payment.updated_at) == (PERIOD_END, PERIOD_END)
    assert (payment.gateway_payment_id or "").startswith("pi_test_")


def test_a_gateway_outage_leaves_the_attempt_due_and_the_next_run_asks_again(
    database: Database, test_gateway: PaymentGateway
) -> None:
    subscription_id = add_subscription(database)
    gateway = OutageGateway(test_gateway)

    first = advance(database=database, now=PERIOD_END, gateway=gateway)
    [invoice] = invoices_of(database, subscription_id)
    assert first.invoices_created >= 1 and first.payments_succeeded == first.payments_failed == 0
    assert (invoice.status, invoice.next_payment_attempt) == (InvoiceStatus.OPEN, PERIOD_END)

    gateway.down = False
    second = advance(database=database, now=PERIOD_END, gateway=gateway)

    [invoice] = invoices_of(database, subscription_id)
    assert second.invoices_created == 0 and second.payments_succeeded >= 1
    assert invoice.status == InvoiceStatus.PAID
    keys = [request.idempotency_key for request in gateway.charges if request.metadata["invoice"] == invoice.id]
    assert len(keys) == 2 and len(set(keys)) == 1  # asked again with the same idempotency key
    assert event_types(database, subscription_id) == [
        "customer.subscription.updated",
        "invoice.created",
        "invoice.paid",
    ]


def _subscription(session: Session, subscription_id: str) -> Subscription:
    return session.scalars(
        select(Subscription)
        .where(Subscription.id == subscription_id)
        .options(selectinload(Subscription.items).selectinload(SubscriptionItem.price))
    ).one()
