"""The billing clock: cancellations at period end, renewals, payment retries, idempotency and the lease."""

from __future__ import annotations

import secrets
import threading
from datetime import datetime, timedelta

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from app.config import load_settings
from app.db import Database
from app.enums import PaymentStatus
from app.gateways import build_gateway
from app.gateways.base import ChargeRequest, GatewayPayment, PaymentGateway
from app.models import (
    Customer,
    Event,
    FailedPaymentAction,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Merchant,
    Payment,
    PaymentMethod,
    PortalSettings,
    Price,
    PriceInterval,
    Subscription,
    SubscriptionItem,
    SubscriptionStatus,
)
from app.services.billing import advance
from app.services.charges import RETRY_DELAYS
from app.services.events import SYSTEM
from app.services.leases import acquire_lease
from app.services.payments import complete_payment, payment_authentication
from app.services.portal_links import PortalAccess
from tests.conftest import DEMO_NOW, TEST_SECRET_KEY
from tests.payment_support import Browser, RecordingGateway, add_card_through

PERIOD_END = DEMO_NOW + timedelta(days=10)
# Monthly periods keep the day of the month: 6 Dec 2026, 6 Jan 2027, ...
MONTH_STARTS = [PERIOD_END.replace(year=2026 + (11 + n) // 12, month=(11 + n) % 12 + 1) for n in range(4)]


class CardGateway(RecordingGateway):
    """The built-in test gateway, which decides by the stored card's last 4 digits, recording every charge."""

    def __init__(self) -> None:
        super().__init__(build_gateway(load_settings(secret_key=TEST_SECRET_KEY, _env_file=None)))


def add_subscription(
    database: Database,
    *,
    last4: str = "4242",
    cancel_at_period_end: bool = False,
    status: SubscriptionStatus = SubscriptionStatus.ACTIVE,
    trial_end: datetime | None = None,
    quantity: int = 2,
) -> str:
    """A fresh Acme customer with one monthly Starter subscription ending at PERIOD_END."""
    with database.transaction() as session:
        merchant = session.scalars(select(Merchant).where(Merchant.invoice_prefix == "ACME")).one()
        price = session.scalars(
            select(Price).where(
                Price.merchant_id == merchant.id, Price.interval == PriceInterval.MONTH, Price.unit_amount == 900
            )
        ).one()
        # One live customer per email: the first is clock@example.com (mail tests write to it), later ones clock+….
        taken = session.scalar(
            select(Customer.id).where(
                Customer.merchant_id == merchant.id,
                Customer.email == "clock@example.com",
                Customer.deleted_at.is_(None),
            )
        )
        email = f"clock+{secrets.token_hex(4)}@example.com" if taken else "clock@example.com"
        customer = Customer(merchant_id=merchant.id, name="Clock Test", email=email)
        session.add(customer)
        session.flush()
        session.add(
            PaymentMethod(
                customer_id=customer.id, brand="visa", last4=last4, exp_month=12, exp_year=2030, is_default=True
            )
        )
        subscription = Subscription(
            merchant_id=merchant.id,
            customer_id=customer.id,
            status=status,
            current_period_start=PERIOD_END - timedelta(days=31),
            current_period_end=PERIOD_END,
            trial_end=trial_end,
            cancel_at_period_end=cancel_at_period_end,
        )
        subscription.items.append(SubscriptionItem(price_id=price.id, quantity=quantity))
        session.add(subscription)
        session.flush()
        return subscription.id


def subscription_state(database: Database, subscription_id: str) -> Subscription:
    with database.transaction() as session:
        return session.get_one(Subscription, subscription_id)


def invoices_of(database: Database, subscription_id: str) -> list[Invoice]:
    with database.transaction() as session:
        return list(
            session.scalars(
                select(Invoice).where(Invoice.subscription_id == subscription_id).order_by(Invoice.period_start)
            )
        )


def event_types(database: Database, subscription_id: str) -> list[str]:
    with database.transaction() as session:
        customer_id = session.get_one(Subscription, subscription_id).customer_id
        return list(
            session.scalars(select(Event.type).where(Event.customer_id == customer_id).order_by(Event.created_at))
        )


def test_cancel_at_period_end_keeps_the_subscription_active_until_the_period_ends(
    database: Database, test_gateway: PaymentGateway
) -> None:
    subscription_id = add_subscription(database, cancel_at_period_end=True)
    gateway = RecordingGateway(test_gateway)

    advance(database=database, now=PERIOD_END - timedelta(seconds=1), gateway=gateway)
    before = subscription_state(database, subscription_id)
    advance(database=database, now=PERIOD_END + timedelta(minutes=1), gateway=gateway)
    after = subscription_state(database, subscription_id)

    assert before.status == SubscriptionStatus.ACTIVE and before.ended_at is None
    assert after.status == SubscriptionStatus.CANCELED
    assert after.ended_at == PERIOD_END
    assert not after.cancel_at_period_end
    assert invoices_of(database, subscription_id) == []
    assert event_types(database, subscription_id) == ["customer.subscription.deleted"]
    assert not [charge for charge in gateway.charges if charge.last4 == "4242" and charge.amount_minor == 1800]


def test_renewal_with_a_good_card_pays_the_new_invoice_and_starts_the_next_period(
    database: Database, test_gateway: PaymentGateway
) -> None:
    subscription_id = add_subscription(database)
    with database.transaction() as session:
        next_number = session.scalars(
            select(Merchant.next_invoice_number).where(Merchant.invoice_prefix == "ACME")
        ).one()
    gateway = RecordingGateway(test_gateway)

    result = advance(database=database, now=PERIOD_END + timedelta(minutes=1), gateway=gateway)

    subscription = subscription_state(database, subscription_id)
    [invoice] = invoices_of(database, subscription_id)
    assert not result.skipped and result.invoices_created >= 1
    assert subscription.status == SubscriptionStatus.ACTIVE
    assert subscription.current_period_start == PERIOD_END
    assert subscription.current_period_end == MONTH_STARTS[1]
    assert invoice.status == InvoiceStatus.PAID
    assert invoice.number.startswith("ACME-") and int(invoice.number.removeprefix("ACME-")) >= next_number
    assert (invoice.total, invoice.amount_paid, invoice.amount_due) == (1800, 1800, 0)
    assert (invoice.period_start, invoice.period_end) == (PERIOD_END, subscription.current_period_end)
    assert invoice.attempt_count == 1 and invoice.next_payment_attempt is None
    assert event_types(database, subscription_id) == [
        "customer.subscription.updated",
        "invoice.created",
        "invoice.paid",
    ]


def test_a_charge_still_processing_is_asked_once_per_run_and_left_to_the_gateways_webhook(
    database: Database, test_gateway: PaymentGateway
) -> None:
    """A payment the gateway is still processing was asked again up to 1,000 times in one run."""
    subscription_id = add_subscription(database)

    class ProcessingGateway(RecordingGateway):
        def charge(self, request: ChargeRequest) -> GatewayPayment:
            super().charge(request)
            return GatewayPayment(gateway_payment_id=f"pi_{request.idempotency_key[-12:]}", state="processing")

    gateway = ProcessingGateway(test_gateway)
    advance(database=database, now=PERIOD_END + timedelta(minutes=1), gateway=gateway)
    advance(database=database, now=PERIOD_END + timedelta(minutes=2), gateway=gateway)

    [invoice] = invoices_of(database, subscription_id)
    assert invoice.status == InvoiceStatus.OPEN
    asked = [request for request in gateway.charges if request.metadata["invoice"] == invoice.id]
    assert 1 <= len(asked) <= 2  # once per run at most, with the same idempotency key
    assert len({request.idempotency_key for request in asked}) == 1
    assert subscription_state(database, subscription_id).status == SubscriptionStatus.ACTIVE


def test_a_declined_card_is_retried_after_1_3_and_5_days_then_the_subscription_is_unpaid(
    database: Database, test_gateway: PaymentGateway
) -> None:
    subscription_id = add_subscription(database, last4="0002")
    gateway = RecordingGateway(test_gateway)
    advance(database=database, now=PERIOD_END, gateway=gateway)
    [invoice] = invoices_of(database, subscription_id)
    assert subscription_state(database, subscription_id).status == SubscriptionStatus.PAST_DUE
    assert invoice.status == InvoiceStatus.OPEN and invoice.attempt_count == 1
    assert invoice.next_payment_attempt == PERIOD_END + timedelta(days=1)

    moment = PERIOD_END
    for attempt, delay in enumerate(RETRY_DELAYS, start=2):
        advance(database=database, now=moment + delay - timedelta(seconds=1), gateway=gateway)
        assert invoices_of(database, subscription_id)[0].attempt_count == attempt - 1  # not yet due
        moment += delay
        advance(database=database, now=moment, gateway=gateway)
        assert invoices_of(database, subscription_id)[0].attempt_count == attempt

    [invoice] = invoices_of(database, subscription_id)
    subscription = subscription_state(database, subscription_id)
    assert moment == PERIOD_END + timedelta(days=9)
    assert invoice.status == InvoiceStatus.OPEN and invoice.next_payment_attempt is None
    assert subscription.status == SubscriptionStatus.UNPAID
    keys = [charge.idempotency_key for charge in gateway.charges if charge.metadata["invoice"] == invoice.id]
    assert len(keys) == len(set(keys)) == 4  # a new attempt, and so a new key, for every retry
    types = event_types(database, subscription_id)
    assert types.count("invoice.payment_failed") == 4
    assert types[-1] == "customer.subscription.updated"  # past_due → unpaid


def test_after_the_last_failed_retry_the_subscription_is_canceled_when_the_merchant_chose_so(
    database: Database,
    test_gateway: PaymentGateway,
) -> None:
    subscription_id = add_subscription(database, last4="9995")
    with database.transaction() as session:
        merchant_id = session.get_one(Subscription, subscription_id).merchant_id
        session.get_one(PortalSettings, merchant_id).failed_payment_action = FailedPaymentAction.CANCEL

    advance(database=database, now=PERIOD_END + timedelta(days=9), gateway=RecordingGateway(test_gateway))

    subscription = subscription_state(database, subscription_id)
    assert subscription.status == SubscriptionStatus.CANCELED
    assert subscription.ended_at == PERIOD_END + timedelta(days=9)
    assert invoices_of(database, subscription_id)[0].attempt_count == 4
    assert event_types(database, subscription_id)[-1] == "customer.subscription.deleted"


def test_a_trial_end_starts_the_first_paid_period(database: Database, test_gateway: PaymentGateway) -> None:
    trial_end = DEMO_NOW + timedelta(days=3)
    subscription_id = add_subscription(database, status=SubscriptionStatus.TRIALING, trial_end=trial_end)

    advance(database=database, now=trial_end, gateway=RecordingGateway(test_gateway))

    subscription = subscription_state(database, subscription_id)
    [invoice] = invoices_of(database, subscription_id)
    assert subscription.status == SubscriptionStatus.ACTIVE
    assert subscription.current_period_start == trial_end
    assert invoice.period_start == trial_end and invoice.status == InvoiceStatus.PAID


def test_running_twice_for_the_same_moment_changes_nothing(database: Database, test_gateway: PaymentGateway) -> None:
    subscription_id = add_subscription(database, last4="0002")
    moment = PERIOD_END + timedelta(days=2)
    gateway = RecordingGateway(test_gateway)

    def snapshot() -> tuple[int, int, int, list[tuple[str, int]]]:
        with database.transaction() as session:
            return (
                session.scalar(select(func.count()).select_from(Invoice)) or 0,
                session.scalar(select(func.count()).select_from(Event)) or 0,
                session.scalar(select(func.count()).select_from(InvoiceLine)) or 0,
                [(inv.number, inv.attempt_count) for inv in invoices_of(database, subscription_id)],
            )

    advance(database=database, now=moment, gateway=gateway)
    first, charges = snapshot(), len(gateway.charges)
    second_result = advance(database=database, now=moment, gateway=gateway)

    assert snapshot() == first
    assert len(gateway.charges) == charges
    assert second_result.invoices_created == second_result.payments_failed == 0
    assert first[3][0][1] == 2  # the first charge and the retry after one day


def test_advance_catches_up_period_by_period(database: Database, test_gateway: PaymentGateway) -> None:
    subscription_id = add_subscription(database)

    advance(database=database, now=PERIOD_END + timedelta(days=95), gateway=RecordingGateway(test_gateway))

    invoices = invoices_of(database, subscription_id)
    assert [invoice.period_start for invoice in invoices] == MONTH_STARTS
    assert [invoice.period_end for invoice in invoices[:-1]] == MONTH_STARTS[1:]
    assert all(invoice.status == InvoiceStatus.PAID for invoice in invoices)
    assert sorted(invoice.number for invoice in invoices) == [invoice.number for invoice in invoices]


def test_one_invoice_per_subscription_period_is_enforced_by_the_database(
    database: Database, test_gateway: PaymentGateway
) -> None:
    subscription_id = add_subscription(database)
    advance(database=database, now=PERIOD_END, gateway=RecordingGateway(test_gateway))
    [invoice] = invoices_of(database, subscription_id)

    with pytest.raises(IntegrityError), database.transaction() as session:
        session.add(
            Invoice(
                merchant_id=invoice.merchant_id,
                customer_id=invoice.customer_id,
                subscription_id=subscription_id,
                number="ACME-DUPLICATE",
                status=InvoiceStatus.OPEN,
                currency="USD",
                period_start=invoice.period_start,
            )
        )


def test_two_concurrent_runs_do_the_work_once(database: Database, test_gateway: PaymentGateway) -> None:
    subscription_id = add_subscription(database)

    class BlockingGateway(RecordingGateway):
        def __init__(self) -> None:
            super().__init__(test_gateway)
            self.charging = threading.Event()
            self.may_finish = threading.Event()

        def charge(self, request: ChargeRequest) -> GatewayPayment:
            self.charging.set()
            assert self.may_finish.wait(10)
            return super().charge(request)

    gateway = BlockingGateway()
    results = []
    first = threading.Thread(
        target=lambda: results.append(advance(database=database, now=PERIOD_END, gateway=gateway, holder="first"))
    )
    first.start()
    assert gateway.charging.wait(10)
    second = advance(database=database, now=PERIOD_END, gateway=gateway, holder="second")
    gateway.may_finish.set()
    first.join(10)

    assert second.skipped
    assert len(results) == 1 and not results[0].skipped
    assert len(invoices_of(database, subscription_id)) == 1
    assert len({charge.idempotency_key for charge in gateway.charges}) == len(gateway.charges)


def test_a_lease_left_by_a_crashed_run_expires(database: Database, test_gateway: PaymentGateway) -> None:
    held = acquire_lease(
        database=database, name="billing-clock", holder="crashed", now=DEMO_NOW, ttl=timedelta(minutes=5)
    )
    blocked = advance(database=database, now=DEMO_NOW, gateway=RecordingGateway(test_gateway), clock=lambda: DEMO_NOW)
    later = advance(
        database=database,
        now=DEMO_NOW,
        gateway=RecordingGateway(test_gateway),
        clock=lambda: DEMO_NOW + timedelta(minutes=6),
    )
    assert held and blocked.skipped and not later.skipped


@pytest.mark.parametrize(
    ("last4", "status", "failure"),
    [
        ("4242", SubscriptionStatus.ACTIVE, None),
        ("0002", SubscriptionStatus.PAST_DUE, "Your card was declined."),
        ("9995", SubscriptionStatus.PAST_DUE, "Your card has insufficient funds."),
        ("0069", SubscriptionStatus.PAST_DUE, "Your card has expired."),
    ],
)
def test_the_built_in_test_gateway_decides_renewals_by_the_stored_card(
    database: Database, test_gateway: PaymentGateway, last4: str, status: SubscriptionStatus, failure: str | None
) -> None:
    subscription_id = add_subscription(database, last4=last4)

    advance(database=database, now=PERIOD_END, gateway=test_gateway)

    assert subscription_state(database, subscription_id).status == status
    with database.transaction() as session:
        customer_id = session.get_one(Subscription, subscription_id).customer_id
        failures = session.scalars(
            select(Event.data).where(Event.customer_id == customer_id, Event.type == "invoice.payment_failed")
        ).all()
    assert [(data["object"]["last_payment_error"] or {}).get("message") for data in failures] == (
        [failure] if failure else []
    )


def _subscription_with_gateway_card(database: Database, gateway: PaymentGateway, number: str) -> tuple[str, str]:
    """A clock-test subscription whose only card was saved through `gateway` (as the portal saves it)."""
    subscription_id = add_subscription(database)
    with database.transaction() as session:
        subscription = session.get_one(Subscription, subscription_id)
        session.execute(delete(PaymentMethod).where(PaymentMethod.customer_id == subscription.customer_id))
        access = PortalAccess("pl_test", subscription.merchant_id, subscription.customer_id, "")
    add_card_through(gateway, database, access, number, clock=lambda: DEMO_NOW)
    return subscription_id, subscription.customer_id


def test_renewals_are_charged_off_session_with_each_gateway(database: Database, gateway: PaymentGateway) -> None:
    paying, _ = _subscription_with_gateway_card(database, gateway, "4242 4242 4242 4242")
    failing, _ = _subscription_with_gateway_card(database, gateway, "4000 0000 0000 0341")

    advance(database=database, now=PERIOD_END, gateway=gateway)

    assert [invoice.status for invoice in invoices_of(database, paying)] == [InvoiceStatus.PAID]
    assert subscription_state(database, paying).status == SubscriptionStatus.ACTIVE
    assert subscription_state(database, failing).status == SubscriptionStatus.PAST_DUE  # dunning starts
    [invoice] = invoices_of(database, failing)
    assert (invoice.status, invoice.attempt_count) == (InvoiceStatus.OPEN, 1)
    assert invoice.next_payment_attempt == PERIOD_END + RETRY_DELAYS[0]
    with database.transaction() as session:
        payments = session.scalars(
            select(Payment).where(Payment.invoice_id.in_([invoice.id, invoices_of(database, paying)[0].id]))
        ).all()
    assert sorted(payment.status for payment in payments) == [PaymentStatus.FAILED, PaymentStatus.SUCCEEDED]
    assert all(payment.off_session for payment in payments)
    # Stripe names the payment intent of a decline in its error; localstripe does not, so only the paid one has it.
    assert all((p.gateway_payment_id or "").startswith("pi_") for p in payments if p.status == PaymentStatus.SUCCEEDED)


def test_a_renewal_that_needs_3d_secure_waits_for_the_customer(database: Database, gateway: PaymentGateway) -> None:
    subscription_id, customer_id = _subscription_with_gateway_card(database, gateway, "4000 0025 0000 3155")

    advance(database=database, now=PERIOD_END, gateway=gateway)

    assert subscription_state(database, subscription_id).status == SubscriptionStatus.PAST_DUE
    [invoice] = invoices_of(database, subscription_id)
    assert "invoice.payment_action_required" in event_types(database, subscription_id)
    access = PortalAccess("pl_test", invoice.merchant_id, customer_id, "")
    with database.transaction() as session:
        authentication = payment_authentication(session=session, access=access, invoice_id=invoice.id, gateway=gateway)
    confirmation = Browser(gateway).authenticate_payment(authentication.client_secret, approve=True)
    done = complete_payment(
        database=database,
        access=access,
        invoice_id=invoice.id,
        confirmation=confirmation,
        gateway=gateway,
        actor=SYSTEM,
        clock=lambda: PERIOD_END + timedelta(hours=1),
    )
    assert (done.status, done.subscription_status) == ("paid", SubscriptionStatus.ACTIVE)
    advance(database=database, now=PERIOD_END + RETRY_DELAYS[0], gateway=gateway)  # nothing left to retry
    assert [invoice.status for invoice in invoices_of(database, subscription_id)] == [InvoiceStatus.PAID]
