"""A plan change the customer scheduled for the end of the period, as the billing clock applies it."""

from __future__ import annotations

from app.models import Subscription


def apply_scheduled_change(subscription: Subscription) -> bool:
    """Put the scheduled price and quantity on the subscription's item; False when nothing was scheduled."""
    if subscription.scheduled_price_id is None:
        return False
    item = subscription.items[0]
    item.price_id, item.price = subscription.scheduled_price_id, subscription.scheduled_price  # type: ignore[assignment]
    item.quantity = subscription.scheduled_quantity or item.quantity
    subscription.scheduled_price_id = subscription.scheduled_quantity = None
    subscription.scheduled_price = None
    return True
