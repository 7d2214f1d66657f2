"""Cards and invoice payments through the gateway seam, with each gateway: tokens in, no card data kept.

The card element's part (the browser confirming a setup or a 3-D Secure check with the gateway) is played by
`Browser`, which makes the same requests to the gateway that the card element makes.
"""

from __future__ import annotations

import logging
from datetime import datetime

import pytest
from sqlalchemy import delete, inspect, select, text

from app.db import Database
from app.enums import ChargeStatus, PaymentStatus
from app.errors import Forbidden, NotFound, ValidationFailed
from app.gateways.base import (
    AUTHENTICATION_FAILED,
    DECLINED,
    EXPIRED,
    INSUFFICIENT_FUNDS,
    INVALID_CVC,
    INVALID_EXPIRY,
    INVALID_NUMBER,
    NOT_PROCESSED,
    ChargeRequest,
    PaymentGateway,
    customer_message,
)
from app.gateways.test_mode import card_brand, card_error, parse_expiry, passes_luhn
from app.models import (
    Event,
    EventSource,
    Invoice,
    InvoiceStatus,
    Payment,
    PaymentMethod,
    Subscription,
    SubscriptionStatus,
)
from app.services.payments import (
    add_card,
    complete_payment,
    pay_invoice,
    payment_authentication,
    remove_card,
    set_default_card,
    start_card_setup,
)
from app.services.portal import get_invoice
from app.services.portal_links import PortalAccess
from tests.conftest import DEMO_NOW
from tests.payment_support import Browser, CardRefusedInBrowser, add_card_through
from tests.unit.portal_support import ACTOR, access_to, set_portal_settings

GOOD = "4242 4242 4242 4242"


def _clock() -> datetime:
    return DEMO_NOW


def _setup(database: Database, access: PortalAccess, gateway: PaymentGateway) -> str:
    with database.transaction() as session:
        return start_card_setup(session=session, access=access, gateway=gateway).client_secret


def _save(database: Database, access: PortalAccess, gateway: PaymentGateway, result: str, *, make_default=False):
    with database.transaction() as session:
        return add_card(
            session=session,
            access=access,
            setup_result=result,
            cardholder_name="Jenny Rosen",
            gateway=gateway,
            actor=ACTOR,
            clock=_clock,
            make_default=make_default,
        )


def _add(database: Database, access: PortalAccess, gateway: PaymentGateway, number: str = GOOD, **browser):
    """A card added as the portal adds it: setup, the browser confirms it with the gateway, the result is saved."""
    return add_card_through(gateway, database, access, number, cardholder_name="Jenny Rosen", clock=_clock, **browser)


def _cards(database: Database, access: PortalAccess) -> list[tuple[str, str, bool]]:
    with database.transaction() as session:
        return [
            (method.id, method.last4, method.is_default)
            for method in session.scalars(
                select(PaymentMethod).where(PaymentMethod.customer_id == access.customer_id).order_by(PaymentMethod.id)
            )
        ]


def _event_types(database: Database, access: PortalAccess) -> list[str]:
    with database.transaction() as session:
        return list(
            session.scalars(
                select(Event.type).where(Event.customer_id == access.customer_id).order_by(Event.created_at, Event.id)
            )
        )


def _dump(database: Database) -> list[str]:
    """Every row of every table in the database as text (on SQLite and PostgreSQL alike)."""
    preparer = database.engine.dialect.identifier_preparer
    with database.engine.connect() as connection:
        return [
            f"{table}: {tuple(row)}"
            for table in inspect(connection).get_table_names()
            for row in connection.execute(text(f"SELECT * FROM {preparer.quote(table)}"))  # noqa: S608
        ]


def test_card_checks_of_the_test_gateway() -> None:
    assert card_brand("4242 4242 4242 4242") == "visa"
    assert card_brand("5555-5555-5555-4444") == "mastercard" and card_brand("2223003122003222") == "mastercard"
    assert card_brand("378282246310005") == "amex" and card_brand("6011111111111117") == "discover"
    assert card_brand("3566002020360505") == "jcb" and card_brand("9999") == "unknown"
    assert passes_luhn("4242424242424242") and not passes_luhn("4242424242424241") and not passes_luhn("")
    assert parse_expiry("08/29") == (8, 2029) and parse_expiry(" 8 / 2031 ") == (8, 2031)
    assert parse_expiry("13/29") is None and parse_expiry("0829") is None


@pytest.mark.parametrize(
    ("number", "expiry", "cvc", "message"),
    [
        ("4000 0000 0000 0002", "12/30", "123", DECLINED),
        ("4000 0000 0000 9995", "12/30", "123", INSUFFICIENT_FUNDS),
        ("4000 0000 0000 0069", "12/30", "123", EXPIRED),
        ("4242 4242 4242 4241", "12/30", "123", INVALID_NUMBER),
        ("4242 4242 4242", "12/30", "123", INVALID_NUMBER),
        ("4242 abcd 4242 4242", "12/30", "123", INVALID_NUMBER),
        ("4242 4242 4242 4242 4242 4242", "12/30", "123", INVALID_NUMBER),
        ("４２４２４２４２４２４２４２４２", "12/30", "123", INVALID_NUMBER),  # full-width digits
        (GOOD, "10/26", "123", INVALID_EXPIRY),  # in the past
        (GOOD, "1026", "123", INVALID_EXPIRY),
        (GOOD, "", "123", INVALID_EXPIRY),
        (GOOD, "13/30", "123", INVALID_EXPIRY),
        (GOOD, "12/30", "12", INVALID_CVC),
        (GOOD, "12/30", "12a", INVALID_CVC),
        (GOOD, "12/30", "1234", INVALID_CVC),
        ("3782 822463 10005", "12/30", "123", INVALID_CVC),  # American Express has 4 digits
    ],
)
def test_the_test_gateway_refuses_cards_with_stripes_codes(number: str, expiry: str, cvc: str, message: str) -> None:
    error = card_error(number, expiry, cvc, DEMO_NOW)
    assert error is not None and customer_message(*error) == message


def test_stripe_error_codes_become_the_same_customer_messages() -> None:
    assert customer_message("card_declined", "insufficient_funds") == INSUFFICIENT_FUNDS
    assert customer_message("card_declined", "generic_decline") == DECLINED
    assert customer_message("expired_card") == EXPIRED == customer_message("card_declined", "expired_card")
    assert customer_message("payment_intent_authentication_failure") == AUTHENTICATION_FAILED
    assert customer_message("setup_intent_authentication_failure") == AUTHENTICATION_FAILED
    assert customer_message("authentication_required") == AUTHENTICATION_FAILED
    assert customer_message("processing_error") == NOT_PROCESSED == customer_message("")


def test_a_good_card_is_saved_without_its_number(
    database: Database, gateway: PaymentGateway, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    access = access_to(database)
    before = _cards(database, access)
    rows_before = set(_dump(database))
    view = _add(database, access, gateway, cvc="731")
    assert (view.last4, view.exp_month, view.exp_year, view.is_default) == ("4242", 12, 2034, False)
    assert len(_cards(database, access)) == len(before) + 1
    assert _event_types(database, access) == ["payment_method.attached"]
    with database.transaction() as session:
        method = session.get_one(PaymentMethod, view.id)
        assert (method.cardholder_name, method.gateway) == ("Jenny Rosen", gateway.name)
        assert method.gateway_payment_method_id.startswith("pm_")
    written = "\n".join(row for row in _dump(database) if row not in rows_before)
    assert "4242" in written  # the rows this action wrote: the last 4 digits, and nothing more
    for secret in ("4242424242424242", "4242 4242 4242 4242", "731"):
        assert secret not in written
        assert secret not in caplog.text


def test_the_gateway_customer_is_made_once(database: Database, gateway: PaymentGateway) -> None:
    access = access_to(database)
    _setup(database, access, gateway)
    with database.transaction() as session:
        first = session.execute(
            text("SELECT gateway, gateway_customer_id FROM customers WHERE id = :id"), {"id": access.customer_id}
        ).one()
    _setup(database, access, gateway)
    with database.transaction() as session:
        again = session.execute(
            text("SELECT gateway, gateway_customer_id FROM customers WHERE id = :id"), {"id": access.customer_id}
        ).one()
    assert tuple(first) == tuple(again) and first[0] == gateway.name and first[1]


def test_adding_the_same_card_twice_saves_it_once(database: Database, gateway: PaymentGateway) -> None:
    access = access_to(database)
    result = Browser(gateway).confirm_setup(_setup(database, access, gateway), GOOD)
    first = _save(database, access, gateway, result)
    assert _save(database, access, gateway, result) == first  # a double click
    assert _add(database, access, gateway) == first  # the same card through a second setup
    assert _event_types(database, access) == ["payment_method.attached"]


def test_first_card_becomes_the_default_and_make_default_switches(database: Database, gateway: PaymentGateway) -> None:
    access = access_to(database)
    with database.transaction() as session:
        session.execute(delete(PaymentMethod).where(PaymentMethod.customer_id == access.customer_id))
    first = _add(database, access, gateway)
    result = Browser(gateway).confirm_setup(_setup(database, access, gateway), "5555 5555 5555 4444")
    second = _save(database, access, gateway, result, make_default=True)
    assert first.is_default and second.is_default
    assert dict((last4, default) for _, last4, default in _cards(database, access)) == {"4242": False, "4444": True}
    assert _event_types(database, access).count("customer.updated") == 2


@pytest.mark.parametrize("number", ["4000 0000 0000 0002", "4000 0000 0000 9995", "4000 0000 0000 0069"])
def test_a_card_refused_by_the_gateway_is_not_saved(database: Database, gateway: PaymentGateway, number: str) -> None:
    access = access_to(database)
    with pytest.raises(CardRefusedInBrowser) as refused:
        Browser(gateway).confirm_setup(_setup(database, access, gateway), number)
    assert customer_message(refused.value.code, refused.value.decline_code) in (DECLINED, INSUFFICIENT_FUNDS, EXPIRED)
    assert _event_types(database, access) == [] and len(_cards(database, access)) == 1


def test_a_3d_secure_card_is_saved_only_when_authenticated(database: Database, gateway: PaymentGateway) -> None:
    access = access_to(database)
    with pytest.raises(CardRefusedInBrowser) as refused:
        Browser(gateway).confirm_setup(_setup(database, access, gateway), "4000 0025 0000 3155", authenticate=False)
    assert customer_message(refused.value.code) == AUTHENTICATION_FAILED
    assert len(_cards(database, access)) == 1
    assert _add(database, access, gateway, "4000 0025 0000 3155").last4 == "3155"


def test_a_setup_result_of_another_customer_or_made_up_is_refused(database: Database, gateway: PaymentGateway) -> None:
    access, other = access_to(database), access_to(database, skip=1)
    theirs = Browser(gateway).confirm_setup(_setup(database, other, gateway), GOOD)
    _setup(database, access, gateway)
    for result in (theirs, "seti_made_up", "", "x" * 5000):
        with pytest.raises(ValidationFailed) as error:
            _save(database, access, gateway, result)
        assert error.value.field_errors == {"card": NOT_PROCESSED}
    assert _event_types(database, access) == [] and len(_cards(database, access)) == 1


def test_the_cardholder_name_is_required(database: Database, test_gateway: PaymentGateway) -> None:
    access = access_to(database)
    result = Browser(test_gateway).confirm_setup(_setup(database, access, test_gateway), GOOD)
    with database.transaction() as session, pytest.raises(ValidationFailed) as error:
        add_card(
            session=session,
            access=access,
            setup_result=result,
            cardholder_name=" ",
            gateway=test_gateway,
            actor=ACTOR,
            clock=_clock,
        )
    assert error.value.field_errors == {"cardholder_name": "This field is required."}


def test_setting_the_default_and_removing_a_card(database: Database, gateway: PaymentGateway) -> None:
    access = access_to(database)
    [(old_id, _, old_default)] = _cards(database, access)
    new = _add(database, access, gateway)
    assert old_default and not new.is_default
    with database.transaction() as session, pytest.raises(ValidationFailed):
        remove_card(
            session=session, access=access, payment_method_id=old_id, gateway=gateway, actor=ACTOR, clock=_clock
        )
    with database.transaction() as session:
        assert set_default_card(
            session=session, access=access, payment_method_id=new.id, actor=ACTOR, clock=_clock
        ).is_default
        set_default_card(session=session, access=access, payment_method_id=new.id, actor=ACTOR, clock=_clock)
        remove_card(
            session=session, access=access, payment_method_id=old_id, gateway=gateway, actor=ACTOR, clock=_clock
        )
    assert _cards(database, access) == [(new.id, "4242", True)]
    assert sorted(_event_types(database, access)) == [
        "customer.updated",
        "payment_method.attached",
        "payment_method.detached",
    ]
    with database.transaction() as session:
        detached = session.scalars(select(Event).where(Event.type == "payment_method.detached")).one()
    assert (detached.object_id, detached.source, detached.ip_address) == (old_id, EventSource.PORTAL, "203.0.113.9")


@pytest.mark.parametrize("owner", ["neighbour", "globex"])
def test_another_customers_card_is_not_found_and_kept(
    database: Database, test_gateway: PaymentGateway, owner: str
) -> None:
    access = access_to(database)
    other = access_to(database, skip=1) if owner == "neighbour" else access_to(database, "Globex")
    [(card_id, _, _)] = _cards(database, other)
    with database.transaction() as session:
        # Make it removable if it were ours: it is no longer the default.
        session.get_one(PaymentMethod, card_id).is_default = False
    with database.transaction() as session, pytest.raises(NotFound):
        set_default_card(session=session, access=access, payment_method_id=card_id, actor=ACTOR, clock=_clock)
    with database.transaction() as session, pytest.raises(NotFound):
        remove_card(
            session=session, access=access, payment_method_id=card_id, gateway=test_gateway, actor=ACTOR, clock=_clock
        )
    assert _cards(database, other) == [(card_id, _cards(database, other)[0][1], False)]
    assert _event_types(database, other) == [] and _event_types(database, access) == []


def test_card_changes_are_refused_when_switched_off(database: Database, test_gateway: PaymentGateway) -> None:
    access = access_to(database)
    [(card_id, _, _)] = _cards(database, access)
    result = Browser(test_gateway).confirm_setup(_setup(database, access, test_gateway), GOOD)
    set_portal_settings(database, access.merchant_id, payment_method_update=False)
    with pytest.raises(Forbidden):
        _setup(database, access, test_gateway)
    with pytest.raises(Forbidden):
        _save(database, access, test_gateway, result)
    with database.transaction() as session, pytest.raises(Forbidden):
        set_default_card(session=session, access=access, payment_method_id=card_id, actor=ACTOR, clock=_clock)
    with database.transaction() as session, pytest.raises(Forbidden):
        remove_card(
            session=session, access=access, payment_method_id=card_id, gateway=test_gateway, actor=ACTOR, clock=_clock
        )
    assert len(_cards(database, access)) == 1 and _event_types(database, access) == []


# --- Paying open invoices -----------------------------------------------------------------------------------------


def _open_invoice(database: Database, access: PortalAccess) -> str:
    with database.transaction() as session:
        return session.scalars(
            select(Invoice.id).where(Invoice.customer_id == access.customer_id, Invoice.status == InvoiceStatus.OPEN)
        ).one()


def _pay(database: Database, access: PortalAccess, invoice_id: str, gateway: PaymentGateway):
    return pay_invoice(
        database=database, access=access, invoice_id=invoice_id, gateway=gateway, actor=ACTOR, clock=_clock
    )


def _default_card(database: Database, access: PortalAccess, gateway: PaymentGateway, number: str) -> None:
    """The customer's only card, and so the default: `number`, added through the gateway."""
    with database.transaction() as session:
        session.execute(delete(PaymentMethod).where(PaymentMethod.customer_id == access.customer_id))
    _add(database, access, gateway, number)


def _payments(database: Database, invoice_id: str) -> list[tuple[PaymentStatus, str | None, str]]:
    with database.transaction() as session:
        return [
            (payment.status, payment.gateway_payment_id, payment.failure_message)
            for payment in session.scalars(
                select(Payment).where(Payment.invoice_id == invoice_id).order_by(Payment.created_at, Payment.id)
            )
        ]


def test_paying_an_open_invoice_once_settles_the_subscription(database: Database, gateway: PaymentGateway) -> None:
    access = access_to(database, status=SubscriptionStatus.PAST_DUE)
    invoice_id = _open_invoice(database, access)
    _default_card(database, access, gateway, GOOD)
    paid = _pay(database, access, invoice_id, gateway)
    invoice = paid.invoice
    assert (paid.status, invoice.status, invoice.amount_due, invoice.paid_at) == ("paid", "paid", 0, DEMO_NOW)
    assert invoice.amount_paid == invoice.total > 0 and invoice.lines and paid.failure_message == ""
    assert paid.subscription_status == SubscriptionStatus.ACTIVE
    assert _pay(database, access, invoice_id, gateway).invoice == invoice  # a double click
    invoice_events = [kind for kind in _event_types(database, access) if kind.startswith(("invoice", "customer.sub"))]
    assert sorted(invoice_events) == ["customer.subscription.updated", "invoice.paid"]
    [(status, payment_intent, _)] = _payments(database, invoice_id)
    assert status == PaymentStatus.SUCCEEDED and payment_intent and payment_intent.startswith("pi_")


def test_a_card_that_fails_every_charge_is_explained_recorded_and_leaves_the_invoice_open(
    database: Database, gateway: PaymentGateway
) -> None:
    access = access_to(database, status=SubscriptionStatus.PAST_DUE)
    invoice_id = _open_invoice(database, access)
    _default_card(database, access, gateway, "4000 0000 0000 0341")  # saved, but declined when charged
    result = _pay(database, access, invoice_id, gateway)
    assert (result.status, result.invoice.status, result.failure_message) == ("failed", "open", DECLINED)
    with database.transaction() as session:
        event = session.scalars(select(Event).where(Event.type == "invoice.payment_failed")).one()
        assert session.get_one(Invoice, invoice_id).status == InvoiceStatus.OPEN
    assert event.object_id == invoice_id and event.data["object"]["last_payment_error"] == {"message": DECLINED}
    assert event.source == EventSource.PORTAL and event.portal_link_id == "pl_test"
    assert [status for status, _, _ in _payments(database, invoice_id)] == [PaymentStatus.FAILED]


@pytest.mark.parametrize(
    ("last4", "exp_year", "message"),
    [("9995", 2030, INSUFFICIENT_FUNDS), ("0069", 2030, EXPIRED), ("4242", 2025, EXPIRED)],
)
def test_the_test_gateway_decides_charges_by_the_stored_card(
    database: Database, test_gateway: PaymentGateway, last4: str, exp_year: int, message: str
) -> None:
    access = access_to(database, status=SubscriptionStatus.PAST_DUE)
    invoice_id = _open_invoice(database, access)
    with database.transaction() as session:
        card = session.scalars(select(PaymentMethod).where(PaymentMethod.customer_id == access.customer_id)).one()
        card.last4, card.exp_year = last4, exp_year
    result = _pay(database, access, invoice_id, test_gateway)
    assert (result.status, result.failure_message) == ("failed", message)


@pytest.mark.parametrize("approve", [True, False], ids=["confirmed", "refused"])
def test_a_payment_that_needs_3d_secure_is_confirmed_by_the_customer_in_the_browser(
    database: Database, gateway: PaymentGateway, approve: bool
) -> None:
    access = access_to(database, status=SubscriptionStatus.PAST_DUE)
    invoice_id = _open_invoice(database, access)
    _default_card(database, access, gateway, "4000 0025 0000 3155")
    waiting = _pay(database, access, invoice_id, gateway)
    assert (waiting.status, waiting.invoice.status, waiting.invoice.requires_action) == (
        "requires_action",
        "open",
        True,
    )
    with database.transaction() as session:
        assert get_invoice(session=session, access=access, invoice_id=invoice_id).requires_action
        authentication = payment_authentication(session=session, access=access, invoice_id=invoice_id, gateway=gateway)
    assert authentication.payment_method_id.startswith("pm_")
    confirmation = Browser(gateway).authenticate_payment(authentication.client_secret, approve=approve)
    done = complete_payment(
        database=database,
        access=access,
        invoice_id=invoice_id,
        confirmation=confirmation,
        gateway=gateway,
        actor=ACTOR,
        clock=_clock,
    )
    if approve:
        assert (done.status, done.invoice.status, done.invoice.requires_action) == ("paid", "paid", False)
        assert [status for status, _, _ in _payments(database, invoice_id)] == [PaymentStatus.SUCCEEDED]
    else:
        assert (done.status, done.invoice.status, done.failure_message) == ("failed", "open", AUTHENTICATION_FAILED)
        assert _payments(database, invoice_id)[0][::2] == (PaymentStatus.FAILED, AUTHENTICATION_FAILED)
    kinds = _event_types(database, access)
    assert "invoice.payment_action_required" in kinds
    assert ("invoice.paid" in kinds) is approve and ("invoice.payment_failed" in kinds) is not approve
    with database.transaction() as session, pytest.raises(ValidationFailed):
        payment_authentication(session=session, access=access, invoice_id=invoice_id, gateway=gateway)


def test_a_forged_confirmation_does_not_pay(database: Database, test_gateway: PaymentGateway) -> None:
    access = access_to(database, status=SubscriptionStatus.PAST_DUE)
    invoice_id = _open_invoice(database, access)
    _default_card(database, access, test_gateway, "4000 0025 0000 3155")
    _pay(database, access, invoice_id, test_gateway)
    done = complete_payment(
        database=database,
        access=access,
        invoice_id=invoice_id,
        confirmation="forged",
        gateway=test_gateway,
        actor=ACTOR,
        clock=_clock,
    )
    assert (done.status, done.invoice.status) == ("requires_action", "open")


def test_what_is_owed_stays_payable_with_invoice_history_off(database: Database, test_gateway: PaymentGateway) -> None:
    """The switch hides the history, not the debt: an open invoice is still paid (from the subscription's card)."""
    access = access_to(database, status=SubscriptionStatus.PAST_DUE)
    invoice_id = _open_invoice(database, access)
    set_portal_settings(database, access.merchant_id, invoice_history=False)
    _default_card(database, access, test_gateway, "4242424242424242")
    outcome = _pay(database, access, invoice_id, test_gateway)
    assert (outcome.status, outcome.invoice.status) == ("paid", "paid")
    with pytest.raises(Forbidden):  # paid now: history, which is switched off
        _pay(database, access, invoice_id, test_gateway)


def test_paying_needs_a_card_and_ones_own_invoice(database: Database, test_gateway: PaymentGateway) -> None:
    access = access_to(database, status=SubscriptionStatus.PAST_DUE)
    invoice_id = _open_invoice(database, access)
    other = access_to(database, status=SubscriptionStatus.UNPAID)
    with pytest.raises(NotFound):
        _pay(database, access, _open_invoice(database, other), test_gateway)
    with pytest.raises(NotFound):
        _pay(database, access_to(database, "Globex"), invoice_id, test_gateway)
    with database.transaction() as session:
        session.execute(delete(PaymentMethod).where(PaymentMethod.customer_id == access.customer_id))
    with pytest.raises(ValidationFailed) as error:
        _pay(database, access, invoice_id, test_gateway)
    assert error.value.field_errors == {"payment_method": "Add a card before paying."}
    with database.transaction() as session:
        assert session.get_one(Invoice, invoice_id).status == InvoiceStatus.OPEN
    assert _event_types(database, access) == [] and _event_types(database, other) == []


def test_a_card_of_another_gateway_is_not_sent_to_this_one(database: Database, gateway: PaymentGateway) -> None:
    access = access_to(database, status=SubscriptionStatus.PAST_DUE)
    invoice_id = _open_invoice(database, access)
    with database.transaction() as session:
        card = session.scalars(select(PaymentMethod).where(PaymentMethod.customer_id == access.customer_id)).one()
        card.gateway = "other"
    result = _pay(database, access, invoice_id, gateway)
    assert (result.status, result.failure_message) == (
        ChargeStatus.FAILED,
        "This card was saved with another payment processor. Add it again.",
    )


def test_the_test_gateway_never_charges_one_idempotency_key_twice(test_gateway: PaymentGateway) -> None:
    def request(last4: str) -> ChargeRequest:
        return ChargeRequest("tcus_1", "pm_test_1", last4, 1, 2030, 100, "USD", "key", False, now=DEMO_NOW)

    first = test_gateway.charge(request("0341"))
    assert test_gateway.charge(request("4242")) == first and first.state == "failed"


def test_the_subscription_stays_consistent_after_paying(database: Database, test_gateway: PaymentGateway) -> None:
    access = access_to(database, status=SubscriptionStatus.PAST_DUE)
    _pay(database, access, _open_invoice(database, access), test_gateway)
    with database.transaction() as session:
        status = session.scalars(select(Subscription.status).where(Subscription.customer_id == access.customer_id))
        assert status.one() == SubscriptionStatus.ACTIVE
