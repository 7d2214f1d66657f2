"""Cards and payments in the portal, through the payment gateway's tokens, and what the gateway's webhooks report.

Card numbers and security codes never reach this module: the browser confirms a card setup with the gateway directly
and hands over only the result, from which the gateway tells us the card's id (`pm_…`), brand, last 4 and expiry.
Charging goes through `charges.charge_invoice`, the one way an invoice is charged.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.clock import Clock
from app.db import Database
from app.enums import EventType, PaymentStatus
from app.errors import ValidationFailed
from app.gateways.base import CardRefused, GatewayEvent, PaymentGateway
from app.i18n import N_
from app.models import Customer, Payment, PaymentMethod, ProcessedGatewayEvent
from app.services.api_objects import ApiObject, CustomerObject, PaymentMethodObject
from app.services.charges import apply_payment_result, charge_invoice, current_outcome
from app.services.events import SYSTEM, Actor, record_event
from app.services.portal.access import (
    enabled_settings,
    not_owned,
    owned_customer,
    payable_or_history_invoice,
    record_portal_event,
)
from app.services.portal_links import PortalAccess
from app.services.resource_views import payment_method_view
from app.validation import check_length
from app.views import (
    CardElementConfig,
    CardSetupView,
    ChargeOutcome,
    GatewayStatusView,
    PaymentAuthentication,
    PaymentMethodView,
)

log = logging.getLogger(__name__)

NOTHING_TO_CONFIRM = N_("This payment does not need your confirmation any more.")
WEBHOOK_PATH = "/webhooks/{gateway}"


def card_element(gateway: PaymentGateway) -> CardElementConfig:
    """What the portal's pages load for the gateway's card element."""
    return CardElementConfig(
        gateway=gateway.name,
        script_url=gateway.script_url,
        publishable_key=gateway.publishable_key,
        stand_in=gateway.script_is_stand_in,
    )


def _customer_reference(session: Session, customer: Customer, gateway: PaymentGateway) -> str:
    """The customer's id at the gateway, created there on first use (and again after a switch of gateways)."""
    if customer.gateway != gateway.name or not customer.gateway_customer_id:
        customer.gateway_customer_id = gateway.customer_reference(
            customer_id=customer.id, email=customer.email, name=customer.name
        )
        customer.gateway = gateway.name
        session.flush()
    return customer.gateway_customer_id


# --- Cards ---------------------------------------------------------------------------------------------------------


def start_card_setup(*, session: Session, access: PortalAccess, gateway: PaymentGateway) -> CardSetupView:
    """A setup intent for a new card, which the browser confirms with the gateway (3-D Secure included)."""
    enabled_settings(session=session, access=access, feature="payment_method_update")
    customer = owned_customer(session, access)
    reference = _customer_reference(session, customer, gateway)
    return CardSetupView(element=card_element(gateway), client_secret=gateway.start_setup(customer_reference=reference))


def add_card(
    *,
    session: Session,
    access: PortalAccess,
    setup_result: str,
    cardholder_name: str,
    gateway: PaymentGateway,
    actor: Actor,
    clock: Clock,
    make_default: bool = False,
) -> PaymentMethodView:
    """Save the card of a setup the browser confirmed with the gateway (its id, brand, last 4 and expiry only).

    `setup_result` is what the card element returned; the gateway tells which card it saved for this customer, so
    nothing the browser claims about the card is trusted. The customer's first card becomes the default. A refused
    setup raises ValidationFailed under "card"; the same card added again (a double click) is not saved twice.
    """
    enabled_settings(session=session, access=access, feature="payment_method_update")
    customer = owned_customer(session, access)
    if message := check_length(cardholder_name.strip(), 120, required=True):
        raise ValidationFailed({"cardholder_name": message})
    if customer.gateway != gateway.name or not customer.gateway_customer_id:
        raise ValidationFailed({"card": N_("Your card could not be processed. Try again, or use another card.")})
    try:
        saved = gateway.finish_setup(customer_reference=customer.gateway_customer_id, setup_result=setup_result)
    except CardRefused as refused:
        raise ValidationFailed({"card": str(refused)}) from None
    cards = list(session.scalars(select(PaymentMethod).where(PaymentMethod.customer_id == customer.id)))
    same = next(
        (
            method
            for method in cards
            if method.gateway == gateway.name
            and (
                method.gateway_payment_method_id == saved.payment_method_id
                or (method.brand, method.last4, method.exp_month, method.exp_year)
                == (saved.brand, saved.last4, saved.exp_month, saved.exp_year)
            )
        ),
        None,
    )
    if same is not None:
        if same.gateway_payment_method_id != saved.payment_method_id:
            gateway.detach(payment_method_id=saved.payment_method_id)  # a second copy of a card already on file
        return payment_method_view(same)
    method = PaymentMethod(
        customer_id=customer.id,
        brand=saved.brand,
        last4=saved.last4,
        exp_month=saved.exp_month,
        exp_year=saved.exp_year,
        cardholder_name=cardholder_name.strip(),
        is_default=False,
        gateway=gateway.name,
        gateway_payment_method_id=saved.payment_method_id,
        created_at=clock(),
    )
    session.add(method)
    session.flush()
    attached = PaymentMethodObject.from_row(method)
    record_portal_event(session, access, EventType.PAYMENT_METHOD_ATTACHED, attached, actor, clock)
    if make_default or not any(existing.is_default for existing in cards):
        _make_default(session, access, customer, method, [*cards, method], actor, clock)
    return payment_method_view(method)


def _owned_card(session: Session, access: PortalAccess, payment_method_id: str) -> PaymentMethod:
    owned_customer(session, access)
    method = session.get(PaymentMethod, payment_method_id)
    if method is None or method.customer_id != access.customer_id:
        raise not_owned(access, "payment method", payment_method_id)
    return method


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


def remove_card(
    *,
    session: Session,
    access: PortalAccess,
    payment_method_id: str,
    gateway: PaymentGateway,
    actor: Actor,
    clock: Clock,
) -> None:
    """Remove a card that is not the default (make another card the default first), at the gateway too."""
    enabled_settings(session=session, access=access, feature="payment_method_update")
    method = _owned_card(session, access, payment_method_id)
    if method.is_default:
        raise ValidationFailed({"payment_method": N_("Make another card the default before removing this one.")})
    removed = PaymentMethodObject.from_row(method, detached=True)
    if method.gateway == gateway.name and method.gateway_payment_method_id:
        gateway.detach(payment_method_id=method.gateway_payment_method_id)
    session.delete(method)
    session.flush()
    record_portal_event(session, access, EventType.PAYMENT_METHOD_DETACHED, removed, actor, clock)


# --- Paying invoices in the portal ----------------------------------------------------------------------------


def pay_invoice(
    *, database: Database, access: PortalAccess, invoice_id: str, gateway: PaymentGateway, actor: Actor, clock: Clock
) -> ChargeOutcome:
    """Pay one of the customer's open invoices with the default card, on-session (Pay now).

    A decline is not an exception: it is recorded (`invoice.payment_failed`) and the outcome says why. A card that
    asks for 3-D Secure gives `requires_action`: the browser confirms it (`payment_authentication`), then
    `complete_payment` records the result. Paying a paid invoice again changes nothing. No card: ValidationFailed.
    """
    with database.transaction() as session:
        payable_or_history_invoice(session, access, invoice_id)
    return charge_invoice(
        database=database, invoice_id=invoice_id, gateway=gateway, off_session=False, actor=actor, now=clock()
    )


def _awaiting_authentication(session: Session, invoice_id: str, gateway: PaymentGateway) -> Payment | None:
    return session.scalars(
        select(Payment)
        .where(
            Payment.invoice_id == invoice_id,
            Payment.status == PaymentStatus.REQUIRES_ACTION,
            Payment.gateway == gateway.name,
        )
        .order_by(Payment.created_at.desc())
    ).first()


def payment_authentication(
    *, session: Session, access: PortalAccess, invoice_id: str, gateway: PaymentGateway
) -> PaymentAuthentication:
    """What the browser needs to confirm the invoice's payment that waits for 3-D Secure (Confirm payment)."""
    payable_or_history_invoice(session, access, invoice_id)
    payment = _awaiting_authentication(session, invoice_id, gateway)
    if payment is None or not payment.gateway_payment_id:
        raise ValidationFailed({"invoice": NOTHING_TO_CONFIRM})
    card = session.get(PaymentMethod, payment.payment_method_id) if payment.payment_method_id else None
    return PaymentAuthentication(
        invoice_id=invoice_id,
        element=card_element(gateway),
        client_secret=gateway.authentication_secret(gateway_payment_id=payment.gateway_payment_id),
        payment_method_id=card.gateway_payment_method_id if card else "",
    )


def complete_payment(
    *,
    database: Database,
    access: PortalAccess,
    invoice_id: str,
    confirmation: str,
    gateway: PaymentGateway,
    actor: Actor,
    clock: Clock,
) -> ChargeOutcome:
    """Record the payment the customer just confirmed (or refused) in the browser, as the gateway reports it."""
    with database.transaction() as session:
        invoice = payable_or_history_invoice(session, access, invoice_id)
        payment = _awaiting_authentication(session, invoice_id, gateway)
        if payment is None or not payment.gateway_payment_id:
            return current_outcome(session, invoice)
        payment_id, payment_intent = payment.id, payment.gateway_payment_id
    result = gateway.payment_status(gateway_payment_id=payment_intent, confirmation=confirmation)
    with database.transaction() as session:
        return apply_payment_result(session=session, payment_id=payment_id, result=result, actor=actor, now=clock())


# --- What the gateway reports --------------------------------------------------------------------------------


def apply_gateway_events(
    *, database: Database, gateway: PaymentGateway, events: tuple[GatewayEvent, ...], now: datetime
) -> int:
    """Apply webhook events once each (a redelivered event id is skipped); returns how many were new.

    Payment intents settle their payment (found by its id at the gateway, or by the payment id in its metadata when
    the webhook overtook the charge's own answer); a card detached at the gateway is removed here too.
    """
    applied = 0
    for event in events:
        with database.transaction() as session:
            if session.get(ProcessedGatewayEvent, event.id) is not None:
                continue
            try:
                with session.begin_nested():
                    session.add(
                        ProcessedGatewayEvent(id=event.id, gateway=gateway.name, type=event.kind, received_at=now)
                    )
            except IntegrityError:
                continue  # the same event, applied by another process just now
            applied += 1
            if event.payment is not None:
                _settle_payment(session, gateway, event, now)
            elif event.payment_method_id:
                _remove_detached_card(session, gateway, event.payment_method_id, now)
    return applied


def _settle_payment(session: Session, gateway: PaymentGateway, event: GatewayEvent, now: datetime) -> None:
    assert event.payment is not None  # noqa: S101 - the caller checked
    payment = session.scalars(
        select(Payment).where(
            Payment.gateway == gateway.name, Payment.gateway_payment_id == event.payment.gateway_payment_id
        )
    ).first() or (session.get(Payment, event.payment_id) if event.payment_id else None)
    if payment is None or payment.gateway != gateway.name:
        log.info("Gateway event %s names no payment of ours", event.id)
        return
    apply_payment_result(session=session, payment_id=payment.id, result=event.payment, actor=SYSTEM, now=now)


def _remove_detached_card(session: Session, gateway: PaymentGateway, payment_method_id: str, now: datetime) -> None:
    method = session.scalars(
        select(PaymentMethod).where(
            PaymentMethod.gateway == gateway.name, PaymentMethod.gateway_payment_method_id == payment_method_id
        )
    ).first()
    if method is None:
        return  # removed in the portal already: that is what detached it
    customer = session.get_one(Customer, method.customer_id)
    removed = PaymentMethodObject.from_row(method, detached=True)
    was_default = method.is_default
    session.delete(method)
    session.flush()

    def record(event_type: EventType, resource: ApiObject, previous: ApiObject | None = None) -> None:
        record_event(
            session=session,
            merchant_id=customer.merchant_id,
            customer_id=customer.id,
            event_type=event_type,
            resource=resource,
            previous=previous,
            actor=SYSTEM,
            clock=lambda: now,
        )

    record(EventType.PAYMENT_METHOD_DETACHED, removed)
    successor = session.scalars(
        select(PaymentMethod)
        .where(PaymentMethod.customer_id == customer.id)
        .order_by(PaymentMethod.created_at.desc(), PaymentMethod.id)
    ).first()
    if was_default and successor is not None:
        successor.is_default = True
        session.flush()
        before = CustomerObject.from_row(customer, default_payment_method=method.id)
        record(
            EventType.CUSTOMER_UPDATED, CustomerObject.from_row(customer, default_payment_method=successor.id), before
        )


def gateway_status(*, session: Session, gateway: PaymentGateway, public_url: str) -> GatewayStatusView:
    """Which gateway is active, where it should send webhooks, and when it last did (the merchant's Billing page)."""
    last = session.scalar(
        select(ProcessedGatewayEvent.received_at)
        .where(ProcessedGatewayEvent.gateway == gateway.name)
        .order_by(ProcessedGatewayEvent.received_at.desc())
        .limit(1)
    )
    return GatewayStatusView(
        name=gateway.name,
        sends_webhooks=gateway.sends_webhooks,
        webhook_url=public_url + WEBHOOK_PATH.format(gateway=gateway.name),
        webhook_events=gateway.webhook_event_types,
        last_webhook_at=last,
    )
