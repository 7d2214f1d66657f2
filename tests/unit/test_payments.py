"""Cards and invoice payments in the portal: the test gateway's cards, ownership, events, and no card data kept."""

from __future__ import annotations

import logging
from datetime import datetime

import pytest
from sqlalchemy import delete, inspect, select, text

from app.db import Database
from app.errors import Forbidden, NotFound, ValidationFailed
from app.models import Event, EventSource, Invoice, InvoiceStatus, PaymentMethod, Subscription, SubscriptionStatus
from app.services.payments import (
    CardInput,
    CardOnFile,
    TestGateway,
    add_card,
    card_brand,
    parse_expiry,
    passes_luhn,
    pay_invoice,
    remove_card,
    set_default_card,
)
from app.services.portal_links import PortalAccess
from tests.conftest import DEMO_NOW
from tests.unit.portal_support import ACTOR, access_to, set_portal_settings

GOOD = "4242 4242 4242 4242"


def _clock() -> datetime:
    return DEMO_NOW


def _card(number: str = GOOD, expiry: str = "12/30", cvc: str = "123", name: str = "Jenny Rosen") -> CardInput:
    return CardInput(number=number, expiry=expiry, cvc=cvc, cardholder_name=name, postal_code="94103")


def _add(database: Database, access: PortalAccess, card: CardInput, *, make_default: bool = False):
    with database.transaction() as session:
        return add_card(
            session=session,
            access=access,
            card=card,
            gateway=TestGateway(),
            actor=ACTOR,
            clock=_clock,
            make_default=make_default,
        )


def _cards(database: Database, access: PortalAccess) -> list[tuple[str, str, bool]]:
    with database.transaction() as session:
        return [
            (method.id, method.last4, method.is_default)
            for method in session.scalars(
                select(PaymentMethod).where(PaymentMethod.customer_id == access.customer_id).order_by(PaymentMethod.id)
            )
        ]


def _event_types(database: Database, access: PortalAccess) -> list[str]:
    """The customer's event types (events of one test share the clock's instant, so compare them sorted)."""
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


def test_card_checks() -> None:
    assert card_brand("4242 4242 4242 4242") == "visa"
    assert card_brand("5555-5555-5555-4444") == "mastercard" and card_brand("2223003122003222") == "mastercard"
    assert card_brand("378282246310005") == "amex" and card_brand("6011111111111117") == "discover"
    assert card_brand("3566002020360505") == "jcb" and card_brand("9999") == "unknown"
    assert passes_luhn("4242424242424242") and not passes_luhn("4242424242424241") and not passes_luhn("")
    assert parse_expiry("08/29") == (8, 2029) and parse_expiry(" 8 / 2031 ") == (8, 2031)
    assert parse_expiry("13/29") is None and parse_expiry("0829") is None
    assert "4242" not in repr(_card()) and "123" not in repr(_card()).replace("cardholder", "")


def test_a_good_card_is_saved_without_its_number(database: Database, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    access = access_to(database)
    before = _cards(database, access)
    rows_before = set(_dump(database))
    view = _add(database, access, _card(cvc="731"))
    assert (view.brand, view.last4, view.exp_month, view.exp_year, view.is_default) == ("visa", "4242", 12, 2030, False)
    assert len(_cards(database, access)) == len(before) + 1
    assert _event_types(database, access) == ["payment_method.attached"]
    with database.transaction() as session:
        assert session.get_one(PaymentMethod, view.id).cardholder_name == "Jenny Rosen"
    written = "\n".join(row for row in _dump(database) if row not in rows_before)
    assert "4242" in written  # the rows this action wrote: the last 4 digits, and nothing more
    for secret in ("4242424242424242", "4242 4242 4242 4242", "731"):
        assert secret not in written
        assert secret not in caplog.text


def test_adding_the_same_card_twice_saves_it_once(database: Database) -> None:
    access = access_to(database)
    first = _add(database, access, _card())
    assert _add(database, access, _card()) == first
    assert _event_types(database, access) == ["payment_method.attached"]


def test_first_card_becomes_the_default_and_make_default_switches(database: Database) -> None:
    access = access_to(database)
    with database.transaction() as session:
        session.execute(delete(PaymentMethod).where(PaymentMethod.customer_id == access.customer_id))
    first = _add(database, access, _card())
    second = _add(database, access, _card("5555 5555 5555 4444"), make_default=True)
    assert first.is_default and second.is_default
    assert [default for _, _, default in _cards(database, access)].count(True) == 1
    assert dict((last4, default) for _, last4, default in _cards(database, access)) == {"4242": False, "4444": True}
    assert _event_types(database, access).count("customer.updated") == 2


@pytest.mark.parametrize(
    ("card", "field", "message"),
    [
        (_card("4000 0000 0000 0002"), "number", "Your card was declined."),
        (_card("4000 0000 0000 9995"), "number", "Your card has insufficient funds."),
        (_card("4000 0000 0000 0069"), "number", "Your card has expired."),
        (_card("4242 4242 4242 4241"), "number", "Your card number is invalid."),
        (_card("4242 4242 4242"), "number", "Your card number is invalid."),
        (_card("4242 abcd 4242 4242"), "number", "Your card number is invalid."),
        (_card(expiry="10/26"), "expiry", "Your card's expiry date is in the past."),
        (_card(expiry="1026"), "expiry", "Enter the expiry date as MM/YY."),
        (_card(cvc="12"), "cvc", "Enter the 3-digit security code."),
        (_card("3782 822463 10005", cvc="123"), "cvc", "Enter the 4-digit security code."),
        (_card(name=" "), "cardholder_name", "This field is required."),
        (_card("4242 4242 4242 4242 4242 4242"), "number", "Your card number is invalid."),
        (_card("４２４２４２４２４２４２４２４２"), "number", "Your card number is invalid."),  # full-width digits
        (_card(expiry=""), "expiry", "Enter the expiry date as MM/YY."),
        (_card(expiry="00/30"), "expiry", "Enter the expiry date as MM/YY."),
        (_card(expiry="13/30"), "expiry", "Enter the expiry date as MM/YY."),
        (_card(expiry="10/2026"), "expiry", "Your card's expiry date is in the past."),
        (_card(cvc=""), "cvc", "Enter the 3-digit security code."),
        (_card(cvc="12a"), "cvc", "Enter the 3-digit security code."),
        (_card(cvc="1234"), "cvc", "Enter the 3-digit security code."),
    ],
)
def test_refused_cards_are_explained_and_not_saved(
    database: Database, card: CardInput, field: str, message: str
) -> None:
    access = access_to(database)
    before = _cards(database, access)
    with pytest.raises(ValidationFailed) as error:
        _add(database, access, card)
    assert error.value.field_errors[field] == message
    assert card.number.replace(" ", "")[-8:] not in str(error.value)
    assert _cards(database, access) == before and _event_types(database, access) == []


def test_setting_the_default_and_removing_a_card(database: Database) -> None:
    access = access_to(database)
    [(old_id, _, old_default)] = _cards(database, access)
    new = _add(database, access, _card())
    assert old_default and not new.is_default
    with database.transaction() as session, pytest.raises(ValidationFailed):
        remove_card(session=session, access=access, payment_method_id=old_id, actor=ACTOR, clock=_clock)
    with database.transaction() as session:
        assert set_default_card(
            session=session, access=access, payment_method_id=new.id, actor=ACTOR, clock=_clock
        ).is_default
        set_default_card(session=session, access=access, payment_method_id=new.id, actor=ACTOR, clock=_clock)
        remove_card(session=session, access=access, payment_method_id=old_id, actor=ACTOR, clock=_clock)
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
def test_another_customers_card_is_not_found_and_kept(database: Database, owner: str) -> None:
    access = access_to(database)
    other = access_to(database, skip=1) if owner == "neighbour" else access_to(database, "Globex")
    [(card_id, _, _)] = _cards(database, other)
    with database.transaction() as session:
        # Make it removable if it were ours: it is no longer the default.
        session.get_one(PaymentMethod, card_id).is_default = False
    for action in (set_default_card, remove_card):
        with database.transaction() as session, pytest.raises(NotFound):
            action(session=session, access=access, payment_method_id=card_id, actor=ACTOR, clock=_clock)
    assert _cards(database, other) == [(card_id, _cards(database, other)[0][1], False)]
    assert _event_types(database, other) == [] and _event_types(database, access) == []


def test_card_changes_are_refused_when_switched_off(database: Database) -> None:
    access = access_to(database)
    [(card_id, _, _)] = _cards(database, access)
    set_portal_settings(database, access.merchant_id, payment_method_update=False)
    with pytest.raises(Forbidden):
        _add(database, access, _card())
    for action in (set_default_card, remove_card):
        with database.transaction() as session, pytest.raises(Forbidden):
            action(session=session, access=access, payment_method_id=card_id, actor=ACTOR, clock=_clock)
    assert len(_cards(database, access)) == 1 and _event_types(database, access) == []


# --- Paying open invoices -----------------------------------------------------------------------------------------


def _open_invoice(database: Database, access: PortalAccess) -> str:
    with database.transaction() as session:
        return session.scalars(
            select(Invoice.id).where(Invoice.customer_id == access.customer_id, Invoice.status == InvoiceStatus.OPEN)
        ).one()


def _pay(database: Database, access: PortalAccess, invoice_id: str, gateway: TestGateway | None = None):
    with database.transaction() as session:
        return pay_invoice(
            session=session,
            access=access,
            invoice_id=invoice_id,
            gateway=gateway or TestGateway(),
            actor=ACTOR,
            clock=_clock,
        )


def _set_default_card(database: Database, access: PortalAccess, last4: str, exp_year: int = 2030) -> None:
    with database.transaction() as session:
        card = session.scalars(select(PaymentMethod).where(PaymentMethod.customer_id == access.customer_id)).one()
        card.last4, card.exp_year = last4, exp_year


def test_paying_an_open_invoice_once_settles_the_subscription(database: Database) -> None:
    access = access_to(database, status=SubscriptionStatus.PAST_DUE)
    invoice_id = _open_invoice(database, access)
    paid = _pay(database, access, invoice_id)
    assert (paid.status, paid.amount_due, paid.paid_at, paid.payment_error) == ("paid", 0, DEMO_NOW, "")
    assert paid.amount_paid == paid.total > 0 and paid.lines
    assert _pay(database, access, invoice_id) == paid  # a double click
    assert sorted(_event_types(database, access)) == ["customer.subscription.updated", "invoice.paid"]
    with database.transaction() as session:
        status = session.scalars(select(Subscription.status).where(Subscription.customer_id == access.customer_id))
        assert status.one() == SubscriptionStatus.ACTIVE


@pytest.mark.parametrize(
    ("last4", "exp_year", "message"),
    [
        ("0341", 2030, "Your card was declined."),
        ("9995", 2030, "Your card has insufficient funds."),
        ("4242", 2025, "Your card has expired."),
    ],
)
def test_a_declined_payment_is_explained_recorded_and_leaves_the_invoice_open(
    database: Database, last4: str, exp_year: int, message: str
) -> None:
    access = access_to(database, status=SubscriptionStatus.PAST_DUE)
    invoice_id = _open_invoice(database, access)
    _set_default_card(database, access, last4, exp_year)
    result = _pay(database, access, invoice_id)
    assert (result.status, result.payment_error) == ("open", message) and result.amount_due > 0
    with database.transaction() as session:
        event = session.scalars(select(Event).where(Event.type == "invoice.payment_failed")).one()
        assert session.get_one(Invoice, invoice_id).status == InvoiceStatus.OPEN
    assert event.object_id == invoice_id and event.data["object"]["last_payment_error"] == {"message": message}
    assert event.source == EventSource.PORTAL and event.portal_link_id == "pl_test"


def test_paying_needs_a_card_the_feature_and_ones_own_invoice(database: Database) -> None:
    access = access_to(database, status=SubscriptionStatus.PAST_DUE)
    invoice_id = _open_invoice(database, access)
    other = access_to(database, status=SubscriptionStatus.UNPAID)
    with pytest.raises(NotFound):
        _pay(database, access, _open_invoice(database, other))
    with pytest.raises(NotFound):
        _pay(database, access_to(database, "Globex"), invoice_id)
    set_portal_settings(database, access.merchant_id, invoice_history=False)
    with pytest.raises(Forbidden):
        _pay(database, access, invoice_id)
    set_portal_settings(database, access.merchant_id, invoice_history=True)
    with database.transaction() as session:
        session.execute(delete(PaymentMethod).where(PaymentMethod.customer_id == access.customer_id))
    with pytest.raises(ValidationFailed) as error:
        _pay(database, access, invoice_id)
    assert error.value.field_errors == {"payment_method": "Add a card before paying."}
    with database.transaction() as session:
        assert session.get_one(Invoice, invoice_id).status == InvoiceStatus.OPEN
    assert _event_types(database, access) == [] and _event_types(database, other) == []


def test_the_gateway_never_charges_one_idempotency_key_twice() -> None:
    gateway = TestGateway()
    card = CardOnFile("pm_1", "visa", "0341", 1, 2030)
    first = gateway.charge_card_on_file(card=card, amount_minor=100, currency="USD", idempotency_key="k", now=DEMO_NOW)
    again = gateway.charge_card_on_file(
        card=CardOnFile("pm_1", "visa", "4242", 1, 2030),
        amount_minor=100,
        currency="USD",
        idempotency_key="k",
        now=DEMO_NOW,
    )
    assert first == again and not first.succeeded
