"""The billing clock's bulk renewals: a batch of many kinds of due subscriptions comes out as the per-subscription
steps leave each kind, with the same events (types, payloads, moments), and a gateway outage leaves nothing lost."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, selectinload

from app.db import Database
from app.enums import PaymentStatus, PriceInterval
from app.gateways.base import ChargeRequest, GatewayPayment, GatewayUnavailable, PaymentGateway
from app.models import (
    Customer,
    EmailMessage,
    Event,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Payment,
    PaymentMethod,
    Price,
    Product,
    Subscription,
    SubscriptionItem,
    SubscriptionStatus,
)
from app.services import billing
from app.services.api_objects import InvoiceObject, SubscriptionObject
from app.services.billing import advance
from app.services.charges import RETRY_DELAYS
from app.services.renewals import RenewedBatch
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


def test_bulk_renewals_leave_the_rows_the_per_subscription_steps_leave(
    database: Database, test_gateway: PaymentGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    advance(database=database, now=PERIOD_END - timedelta(seconds=1), gateway=test_gateway)  # the demo's renewals
    seats, quarterly = _price(database, "Seats", 250, nickname="Seat"), _price(database, "Quarterly", 2400, count=3)
    kinds: list[dict[str, Any]] = [
        {},
        {"quantity": 3, "email": ""},  # no receipt without an address
        {"extra": (seats, 5)},  # two lines
        {"price": quarterly, "quantity": 1},
        {"last4": "0002"},  # declined: dunning
        {"last4": "3155"},  # 3-D Secure
    ]
    in_bulk = [_add_varied(database, add_subscription(database), **kind) for kind in kinds]
    one_by_one = [_add_varied(database, add_subscription(database), **kind) for kind in kinds]
    bulk_renew, left = billing.renew_batch, []

    def renew_some_one_by_one(*, subscription_ids: list[str], **arguments: Any) -> RenewedBatch:
        batch = bulk_renew(subscription_ids=[i for i in subscription_ids if i not in one_by_one], **arguments)
        left.extend(batch.left)
        batch.left += [i for i in subscription_ids if i in one_by_one]
        return batch

    monkeypatch.setattr(billing, "renew_batch", renew_some_one_by_one)
    advance(database=database, now=PERIOD_END, gateway=test_gateway)

    assert not set(in_bulk[:4]) & set(left)  # the plain renewals were renewed in bulk
    for bulk, single in zip(in_bulk, one_by_one, strict=True):
        assert _trail(database, bulk) == _trail(database, single)


def _price(database: Database, name: str, amount: int, *, nickname: str = "", count: int = 1) -> str:
    with database.transaction() as session:
        starter = session.scalars(select(Price).where(Price.unit_amount == 900)).first()
        assert starter is not None
        product = Product(merchant_id=starter.merchant_id, name=name)
        session.add(product)
        session.flush()
        price = Price(
            merchant_id=starter.merchant_id,
            product_id=product.id,
            nickname=nickname,
            unit_amount=amount,
            currency=starter.currency,
            interval=PriceInterval.MONTH,
            interval_count=count,
        )
        session.add(price)
        session.flush()
        return price.id


def _add_varied(
    database: Database,
    subscription_id: str,
    *,
    quantity: int = 2,
    email: str | None = None,
    price: str | None = None,
    extra: tuple[str, int] | None = None,
    last4: str = "4242",
) -> str:
    """Changes a fresh `add_subscription` one: its quantity, price, a second item, the customer's address, card."""
    with database.transaction() as session:
        subscription = session.get_one(Subscription, subscription_id)
        subscription.created_at = PERIOD_END - timedelta(days=40)
        [item] = subscription.items
        item.quantity = quantity
        item.price_id = price or item.price_id
        if extra:  # after the first in every order the items may come in (insertion, id)
            subscription.items.append(SubscriptionItem(id=f"{item.id}z", price_id=extra[0], quantity=extra[1]))
        if email is not None:  # else its own: one live customer per address
            session.get_one(Customer, subscription.customer_id).email = email
        card = session.scalars(select(PaymentMethod).where(PaymentMethod.customer_id == subscription.customer_id)).one()
        card.last4 = last4
    return subscription_id


def _trail(database: Database, subscription_id: str) -> dict[str, Any]:
    """Everything the clock left for a subscription's customer, its own ids and numbers replaced by names."""
    with database.transaction() as session:
        subscription = session.get_one(Subscription, subscription_id)
        customer_id = subscription.customer_id
        invoices = session.scalars(
            select(Invoice).where(Invoice.subscription_id == subscription_id).order_by(Invoice.period_start)
        ).all()
        lines = session.scalars(
            select(InvoiceLine)
            .where(InvoiceLine.invoice_id.in_([invoice.id for invoice in invoices]))
            .order_by(InvoiceLine.invoice_id, InvoiceLine.position)
        ).all()
        payments = session.scalars(
            select(Payment).where(Payment.customer_id == customer_id).order_by(Payment.created_at)
        ).all()
        cards = session.scalars(select(PaymentMethod).where(PaymentMethod.customer_id == customer_id)).all()
        events = session.scalars(select(Event).where(Event.customer_id == customer_id).order_by(Event.created_at)).all()
        mails = session.scalars(
            select(EmailMessage).where(EmailMessage.customer_id == customer_id).order_by(EmailMessage.created_at)
        ).all()
        rows: dict[str, Any] = {
            "subscription": _columns(subscription),
            "items": [_columns(item) for item in subscription.items],
            "invoices": [_columns(invoice) for invoice in invoices],
            "lines": [_columns(line) for line in lines],
            "payments": [_columns(payment) for payment in payments],
            "events": [_columns(event) for event in events],
            "mails": [_columns(mail) for mail in mails],
        }
        names = {subscription_id: "sub", customer_id: "cus", session.get_one(Customer, customer_id).email: "email"}
        for kind, found in [("si", subscription.items), ("in", invoices), ("il", lines), ("py", payments)]:
            names.update({row.id: f"{kind}{n}" for n, row in enumerate(found)})
        names.update({invoice.number: f"number{n}" for n, invoice in enumerate(invoices)})
        names.update({payment.gateway_payment_id: f"pi{n}" for n, payment in enumerate(payments)})
        names.update({card.id: f"pm{n}" for n, card in enumerate(cards)})
        names.update({card.gateway_payment_method_id: f"gpm{n}" for n, card in enumerate(cards)})
        names.update(
            {row.id: f"{kind}{n}" for kind, found in [("ev", events), ("em", mails)] for n, row in enumerate(found)}
        )
    return _named(rows, {key: name for key, name in names.items() if key})


def _columns(row: Any) -> dict[str, Any]:
    return {column.key: getattr(row, column.key) for column in row.__table__.columns}


def _named(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {key: _named(item, names) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_named(item, names) for item in value]
    if isinstance(value, str):
        for key, name in names.items():
            value = value.replace(key, name)
    return value
