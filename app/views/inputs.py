"""What the dashboard, the REST API and the import send to create and change customers and subscriptions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from app.views import Address


@dataclass(frozen=True, slots=True)
class ShippingDetails:
    name: str = ""
    phone: str = ""
    address: Address = Address()  # noqa: RUF009 - frozen, so one shared default is safe


@dataclass(frozen=True, slots=True)
class CustomerInput:
    """A customer's details; on an update, None keeps a field as it is, and an empty value removes an optional one
    (an `Address()`, `ShippingDetails()`, `tax_id_type=""`, `metadata={}`). `metadata` is replaced as a whole."""

    email: str | None = None
    name: str | None = None
    phone: str | None = None
    locale: str | None = None
    address: Address | None = None
    shipping: ShippingDetails | None = None
    tax_id_type: str | None = None
    tax_id_value: str | None = None
    metadata: Mapping[str, str] | None = None


@dataclass(frozen=True, slots=True)
class SubscriptionItemInput:
    price_id: str
    quantity: int = 1


@dataclass(frozen=True, slots=True)
class SubscriptionInput:
    """A new subscription: its items (one billing cycle and currency), and a trial given in days or as an end."""

    customer_id: str
    items: tuple[SubscriptionItemInput, ...]
    trial_period_days: int | None = None
    trial_end: datetime | None = None
    cancel_at_period_end: bool = False
