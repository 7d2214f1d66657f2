"""Resubscribing from the portal: an ended subscription starts again with a new period, charged now."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.clock import Clock
from app.db import Database
from app.enums import EventType, SubscriptionStatus
from app.errors import ValidationFailed
from app.gateways.base import PaymentGateway
from app.i18n import N_
from app.models import PaymentMethod, Price, Product
from app.services.api_objects import SubscriptionObject
from app.services.billing import start_period
from app.services.charges import NO_CARD, charge_invoice
from app.services.events import Actor
from app.services.portal.access import enabled_settings, owned_subscription, record_portal_event
from app.services.portal_links import PortalAccess
from app.views import ChargeOutcome

NOT_ENDED = N_("Only a subscription that has ended can be restarted.")
NOT_OFFERED = N_("Choose one of the plans offered.")


def resubscribe(
    *,
    database: Database,
    access: PortalAccess,
    subscription_id: str,
    price_id: str | None,
    gateway: PaymentGateway,
    actor: Actor,
    clock: Clock,
) -> ChargeOutcome:
    """Restart a canceled subscription at its own price (or, when the merchant offers the choice, any of their
    current prices): a new period from now, whose invoice is charged to the default card at once.

    The subscription is `incomplete` until that invoice is paid (then active): a declined card leaves the invoice
    open for Pay now, a card that asks for 3-D Secure gives `requires_action` (confirm it like any payment). Events:
    `customer.subscription.resubscribed`, `.updated` (the new period), `invoice.created` and the charge's own.
    No default card: ValidationFailed, nothing changed.
    """
    with database.transaction() as session:
        invoice_id = _restart(session, access, subscription_id, price_id, actor, clock)
    return charge_invoice(
        database=database, invoice_id=invoice_id, gateway=gateway, off_session=False, actor=actor, now=clock()
    )


def _restart(
    session: Session, access: PortalAccess, subscription_id: str, price_id: str | None, actor: Actor, clock: Clock
) -> str:
    settings = enabled_settings(session=session, access=access, feature="resubscribe")
    subscription = owned_subscription(session, access, subscription_id)
    if subscription.status != SubscriptionStatus.CANCELED:
        raise ValidationFailed({"subscription": NOT_ENDED})
    item = subscription.items[0]
    price = session.get(Price, price_id or item.price_id)
    if (
        price is None
        or price.merchant_id != access.merchant_id
        or not price.active
        or not session.scalar(select(Product.active).where(Product.id == price.product_id))
        or (price.id != item.price_id and not settings.resubscribe_price_choice)
    ):
        raise ValidationFailed({"price_id": NOT_OFFERED})
    has_card = session.scalar(
        select(PaymentMethod.id).where(PaymentMethod.customer_id == access.customer_id, PaymentMethod.is_default)
    )
    if has_card is None:
        raise ValidationFailed({"payment_method": NO_CARD})
    now = clock()
    item.price, item.price_id = price, price.id
    subscription.status = SubscriptionStatus.INCOMPLETE  # until the new period's invoice is paid
    subscription.cancel_at_period_end = False
    subscription.canceled_at = subscription.ended_at = subscription.trial_end = None
    subscription.cancellation_reason = subscription.cancellation_comment = ""
    subscription.pause_starts_at = subscription.pause_resumes_at = None
    subscription.scheduled_price_id = subscription.scheduled_quantity = None
    subscription.scheduled_price = None
    subscription.discount_invoices_left = 0  # a coupon ends with the subscription it was given to
    restarted = SubscriptionObject.from_row(subscription)
    record_portal_event(session, access, EventType.CUSTOMER_SUBSCRIPTION_RESUBSCRIBED, restarted, actor, clock)
    invoice = start_period(session, subscription, now, before=restarted)
    invoice.next_payment_attempt = None  # charged now, on-session; never retried by the clock
    session.flush()
    return invoice.id
