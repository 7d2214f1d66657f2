"""Cards and payments in the portal: the payment gateway protocol, the built-in test gateway, and the card actions.

Card numbers and security codes pass through memory only: they are checked (Luhn, brand, expiry, CVC), handed to
the gateway, and never stored, logged or put into an error message or event. Only brand, last 4 and expiry are
kept. `CardInput` hides them from `repr()` so that a logged or printed input shows neither.

Test cards of `TestGateway` (any future expiry, any CVC of the right length):
`4242 4242 4242 4242` succeeds, `4000 0000 0000 0002` is declined, `4000 0000 0000 9995` has insufficient funds,
`4000 0000 0000 0069` is expired, `4000 0000 0000 0341` is saved but declined when charged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.clock import Clock
from app.enums import EventType, InvoiceStatus, SubscriptionStatus
from app.errors import DomainError, ValidationFailed
from app.i18n import N_
from app.models import Customer, Event, Invoice, PaymentMethod, Subscription
from app.services.api_objects import CustomerObject, InvoiceObject, PaymentMethodObject, SubscriptionObject
from app.services.billing import CardOnFile, ChargeResult
from app.services.billing import PaymentGateway as RenewalGateway
from app.services.events import Actor
from app.services.portal.access import (
    enabled_settings,
    not_owned,
    owned_customer,
    owned_invoice,
    record_portal_event,
    record_subscription_update,
)
from app.services.portal_links import PortalAccess
from app.services.resource_views import invoice_view, payment_method_view
from app.validation import check_length
from app.views import CardInput, InvoiceView, PaymentMethodView

DECLINED = N_("Your card was declined.")
INSUFFICIENT_FUNDS = N_("Your card has insufficient funds.")
EXPIRED = N_("Your card has expired.")
NO_CARD = N_("Add a card before paying.")


@dataclass(frozen=True, slots=True)
class AttachedCard:
    brand: str
    last4: str
    exp_month: int
    exp_year: int


class CardDeclined(DomainError):
    """The gateway refused the card; the message is for the customer (N_("Your card was declined."))."""


class PaymentGateway(RenewalGateway, Protocol):
    """A card processor: the billing clock's charges of stored cards, plus saving new cards from the portal."""

    def attach_card(self, *, card: CardInput, exp_month: int, exp_year: int, now: datetime) -> AttachedCard:
        """Check a well-formed card with the issuer and save it for later charges; raise CardDeclined if refused."""
        ...


# --- Card checks any gateway relies on -------------------------------------------------------------------------

_BRANDS: tuple[tuple[str, str, tuple[int, ...]], ...] = (
    # brand, number prefix pattern, allowed lengths
    ("amex", r"3[47]", (15,)),
    ("visa", r"4", (13, 16, 19)),
    ("mastercard", r"5[1-5]|2(2[2-9][1-9]|2[3-9]\d|[3-6]\d\d|7[01]\d|720)", (16,)),
    ("discover", r"6011|65|64[4-9]", (16, 19)),
    ("diners", r"3(0[0-5]|[689])", (14, 16, 19)),
    ("jcb", r"35(2[89]|[3-8]\d)", (16, 19)),
    ("unionpay", r"62", (16, 17, 18, 19)),
)


def card_digits(number: str) -> str:
    """The digits of a typed card number (spaces and dashes allowed); "" when anything else was typed.

    Only ASCII digits: `str.isdigit` also accepts full-width and other scripts' digits, which would be stored.
    """
    compact = re.sub(r"[\s-]", "", number)
    return compact if compact.isascii() and compact.isdigit() else ""


def card_brand(number: str) -> str:
    """The brand a card number belongs to ("visa", "mastercard", "amex", …), or "unknown"."""
    digits = card_digits(number)
    for brand, prefix, _ in _BRANDS:
        if re.match(prefix, digits):
            return brand
    return "unknown"


def passes_luhn(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return bool(digits) and total % 10 == 0


def parse_expiry(expiry: str) -> tuple[int, int] | None:
    """(month, four-digit year) from "MM/YY", "MM / YY" or "MM/YYYY"; None when it is not such a date."""
    match = re.fullmatch(r"\s*([0-9]{1,2})\s*/\s*([0-9]{2}|[0-9]{4})\s*", expiry)
    if not match:
        return None
    month, year = int(match[1]), int(match[2])
    if not 1 <= month <= 12:
        return None
    return month, year + 2000 if year < 100 else year


def card_errors(card: CardInput, now: datetime) -> dict[str, str]:
    """Field errors of the add-card form (empty when it is well formed); never quotes the number or CVC."""
    errors: dict[str, str] = {}
    digits = card_digits(card.number)
    brand = card_brand(digits)
    lengths = next((allowed for name, _, allowed in _BRANDS if name == brand), (16,))
    if not digits or len(digits) not in lengths or not passes_luhn(digits):
        errors["number"] = N_("Your card number is invalid.")
    expiry = parse_expiry(card.expiry)
    if expiry is None:
        errors["expiry"] = N_("Enter the expiry date as MM/YY.")
    elif (expiry[1], expiry[0]) < (now.year, now.month):
        errors["expiry"] = N_("Your card's expiry date is in the past.")
    cvc_length = 4 if brand == "amex" else 3
    if not re.fullmatch(rf"[0-9]{{{cvc_length}}}", card.cvc.strip()):
        errors["cvc"] = f"Enter the {cvc_length}-digit security code."
    if message := check_length(card.cardholder_name.strip(), 120, required=True):
        errors["cardholder_name"] = message
    if message := check_length(card.postal_code.strip(), 20):
        errors["postal_code"] = message
    return errors


# Test card numbers that the test gateway refuses when saving, and last 4 digits it refuses when charging.
_ATTACH_FAILURES = {
    "4000000000000002": DECLINED,
    "4000000000009995": INSUFFICIENT_FUNDS,
    "4000000000000069": EXPIRED,
}
_CHARGE_FAILURES = {"0341": DECLINED, "0002": DECLINED, "9995": INSUFFICIENT_FUNDS, "0069": EXPIRED}


class TestGateway:
    """The built-in test-mode gateway: decides by the card number like Stripe's test cards; never charges money."""

    __test__ = False  # not a pytest test class

    def __init__(self) -> None:
        self._charges: dict[str, ChargeResult] = {}

    def attach_card(self, *, card: CardInput, exp_month: int, exp_year: int, now: datetime) -> AttachedCard:
        digits = card_digits(card.number)
        if failure := _ATTACH_FAILURES.get(digits):
            raise CardDeclined(failure)
        return AttachedCard(brand=card_brand(digits), last4=digits[-4:], exp_month=exp_month, exp_year=exp_year)

    def charge_card_on_file(
        self, *, card: CardOnFile, amount_minor: int, currency: str, idempotency_key: str, now: datetime
    ) -> ChargeResult:
        if idempotency_key in self._charges:
            return self._charges[idempotency_key]
        if (card.exp_year, card.exp_month) < (now.year, now.month):
            result = ChargeResult(succeeded=False, failure_message=EXPIRED)
        elif failure := _CHARGE_FAILURES.get(card.last4):
            result = ChargeResult(succeeded=False, failure_message=failure)
        else:
            result = ChargeResult(succeeded=True)
        self._charges[idempotency_key] = result
        return result


# --- Portal actions -----------------------------------------------------------------------------------------------


def _owned_card(session: Session, access: PortalAccess, payment_method_id: str) -> PaymentMethod:
    owned_customer(session, access)
    method = session.get(PaymentMethod, payment_method_id)
    if method is None or method.customer_id != access.customer_id:
        raise not_owned(access, "payment method", payment_method_id)
    return method


def add_card(
    *,
    session: Session,
    access: PortalAccess,
    card: CardInput,
    gateway: PaymentGateway,
    actor: Actor,
    clock: Clock,
    make_default: bool = False,
) -> PaymentMethodView:
    """Check and save a card (brand, last 4 and expiry only). The customer's first card becomes the default.

    Bad input or a refused card raises ValidationFailed (refusals under "number", e.g. N_("Your card was declined.")).
    The same card added again (a double click) is not saved twice.
    """
    enabled_settings(session=session, access=access, feature="payment_method_update")
    customer = owned_customer(session, access)
    now = clock()
    errors = card_errors(card, now)
    expiry = parse_expiry(card.expiry)
    if errors or expiry is None:
        raise ValidationFailed(errors)
    try:
        attached = gateway.attach_card(card=card, exp_month=expiry[0], exp_year=expiry[1], now=now)
    except CardDeclined as declined:
        raise ValidationFailed({"number": str(declined)}) from None
    cards = list(session.scalars(select(PaymentMethod).where(PaymentMethod.customer_id == customer.id)))
    same = next(
        (
            method
            for method in cards
            if (method.brand, method.last4, method.exp_month, method.exp_year)
            == (attached.brand, attached.last4, attached.exp_month, attached.exp_year)
        ),
        None,
    )
    if same is not None:
        return payment_method_view(same)
    method = PaymentMethod(
        customer_id=customer.id,
        brand=attached.brand,
        last4=attached.last4,
        exp_month=attached.exp_month,
        exp_year=attached.exp_year,
        cardholder_name=card.cardholder_name.strip(),
        is_default=False,
        created_at=now,
    )
    session.add(method)
    session.flush()
    record_portal_event(
        session, access, EventType.PAYMENT_METHOD_ATTACHED, PaymentMethodObject.from_row(method), actor, clock
    )
    if make_default or not any(existing.is_default for existing in cards):
        _make_default(session, access, customer, method, cards, actor, clock)
    return payment_method_view(method)


def _make_default(
    session: Session,
    access: PortalAccess,
    customer: Customer,
    method: PaymentMethod,
    cards: list[PaymentMethod],
    actor: Actor,
    clock: Clock,
) -> None:
    """Make `method` the default of the customer's `cards` (all of them, loaded) and record `customer.updated`."""
    default = next((card.id for card in cards if card.is_default), None)
    before = CustomerObject.from_row(customer, default_payment_method=default)
    for other in cards:
        other.is_default = other.id == method.id
    method.is_default = True
    session.flush()
    after = CustomerObject.from_row(customer, default_payment_method=method.id)
    record_portal_event(session, access, EventType.CUSTOMER_UPDATED, after, actor, clock, previous=before)


def set_default_card(
    *, session: Session, access: PortalAccess, payment_method_id: str, actor: Actor, clock: Clock
) -> PaymentMethodView:
    """Make one of the customer's cards the default for future payments (no change, no event)."""
    enabled_settings(session=session, access=access, feature="payment_method_update")
    method = _owned_card(session, access, payment_method_id)
    if not method.is_default:
        cards = list(session.scalars(select(PaymentMethod).where(PaymentMethod.customer_id == access.customer_id)))
        customer = owned_customer(session, access)
        _make_default(session, access, customer, method, cards, actor, clock)
    return payment_method_view(method)


def remove_card(*, session: Session, access: PortalAccess, payment_method_id: str, actor: Actor, clock: Clock) -> None:
    """Remove a card that is not the default (make another card the default first)."""
    enabled_settings(session=session, access=access, feature="payment_method_update")
    method = _owned_card(session, access, payment_method_id)
    if method.is_default:
        raise ValidationFailed({"payment_method": N_("Make another card the default before removing this one.")})
    removed = PaymentMethodObject.from_row(method, detached=True)
    session.delete(method)
    session.flush()
    record_portal_event(session, access, EventType.PAYMENT_METHOD_DETACHED, removed, actor, clock)


def pay_invoice(
    *, session: Session, access: PortalAccess, invoice_id: str, gateway: PaymentGateway, actor: Actor, clock: Clock
) -> InvoiceView:
    """Pay an open invoice with the default card.

    A declined payment is not an exception: the failure is recorded (`invoice.payment_failed`, kept when the
    caller commits) and the returned view has `payment_error` set to a message for the customer, with the invoice
    still open. Paying a paid invoice again changes nothing. No card on file raises ValidationFailed.
    """
    enabled_settings(session=session, access=access, feature="invoice_history")
    invoice = owned_invoice(session, access, invoice_id, lock=True)
    if invoice.status != InvoiceStatus.OPEN:
        return invoice_view(invoice, with_lines=True)
    now = clock()
    method = session.scalars(
        select(PaymentMethod).where(PaymentMethod.customer_id == access.customer_id, PaymentMethod.is_default)
    ).first()
    if invoice.amount_due > 0 and method is None:
        raise ValidationFailed({"payment_method": NO_CARD})
    if invoice.amount_due > 0 and method is not None:
        result = gateway.charge_card_on_file(
            card=CardOnFile(method.id, method.brand, method.last4, method.exp_month, method.exp_year),
            amount_minor=invoice.amount_due,
            currency=invoice.currency,
            idempotency_key=_portal_charge_key(session, access, invoice, method),
            now=now,
        )
    else:
        result = ChargeResult(succeeded=True)
    if not result.succeeded:
        invoice.last_payment_error = result.failure_message or DECLINED
        session.flush()
        record_portal_event(
            session, access, EventType.INVOICE_PAYMENT_FAILED, InvoiceObject.from_row(invoice), actor, clock
        )
        return replace(invoice_view(invoice, with_lines=True), payment_error=invoice.last_payment_error)
    invoice.status = InvoiceStatus.PAID
    invoice.amount_paid += invoice.amount_due
    invoice.amount_due = 0
    invoice.paid_at = now
    invoice.last_payment_error = ""
    session.flush()
    record_portal_event(session, access, EventType.INVOICE_PAID, InvoiceObject.from_row(invoice), actor, clock)
    _reactivate_if_settled(session, access, invoice, actor, clock)
    return invoice_view(invoice, with_lines=True)


def _portal_charge_key(session: Session, access: PortalAccess, invoice: Invoice, method: PaymentMethod) -> str:
    """The same key until a failure of this card was recorded: a charge whose transaction then failed to commit
    (database unavailable) is answered from the gateway's memory on retry instead of charging the card again."""
    failures = session.scalar(
        select(func.count())
        .select_from(Event)
        .where(
            Event.customer_id == access.customer_id,
            Event.type == EventType.INVOICE_PAYMENT_FAILED,
            Event.object_id == invoice.id,
        )
    )
    return f"{invoice.id}:portal:{method.id}:{failures or 0}"


def _reactivate_if_settled(
    session: Session, access: PortalAccess, invoice: Invoice, actor: Actor, clock: Clock
) -> None:
    """A past-due or unpaid subscription is active again once none of its invoices is open."""
    if invoice.subscription_id is None:
        return
    subscription = session.get(Subscription, invoice.subscription_id)
    if subscription is None or subscription.status not in (SubscriptionStatus.PAST_DUE, SubscriptionStatus.UNPAID):
        return
    still_open = session.scalar(
        select(func.count()).where(Invoice.subscription_id == subscription.id, Invoice.status == InvoiceStatus.OPEN)
    )
    if not still_open:
        before = SubscriptionObject.from_row(subscription)
        subscription.status = SubscriptionStatus.ACTIVE
        record_subscription_update(session, access, subscription, before, actor, clock)
