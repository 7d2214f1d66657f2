"""The API's objects: each resource as the REST API returns it and as an event carries it in `data.object`.

One builder per resource (`from_row`), from rows the caller has loaded already: building an object runs no query.
Times are ISO 8601 in UTC (`2026-03-01T00:00:00Z`), amounts integer minor units beside an ISO 4217 currency, and
text a resource does not have is `null`, never "".
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from app.enums import (
    CancellationReason,
    DiscountKind,
    InvoiceStatus,
    PortalLinkStatus,
    PriceInterval,
    SubscriptionStatus,
)
from app.models import Customer, Invoice, InvoiceLine, PaymentMethod, PortalLink, Price, Product, Subscription
from app.services.resource_views import ADDRESS_PARTS, AddressPrefix, link_status
from app.views.catalog import CatalogProduct


class _Part(BaseModel):
    """A part of an object: strict about its fields, immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ApiObject(_Part):
    """A resource with its own id; `object` names its kind."""

    id: str
    object: str


def _text(value: str) -> str | None:
    return value or None


# --- Customers --------------------------------------------------------------------------------------------------


class AddressObject(_Part):
    line1: str | None
    line2: str | None
    city: str | None
    postal_code: str | None
    state: str | None
    country: str | None = Field(description="ISO 3166-1 alpha-2 country code.")


class ShippingObject(_Part):
    name: str | None
    phone: str | None
    address: AddressObject | None


class TaxIdObject(_Part):
    type: str = Field(description='The kind of tax ID, e.g. "eu_vat".', examples=["eu_vat"])
    value: str


class InvoiceSettingsObject(_Part):
    default_payment_method: str | None = Field(description="The card renewals are charged to (`pm_…`).")


class CustomerObject(ApiObject):
    """A customer of the merchant: contact, billing and shipping details, and the default card."""

    object: Literal["customer"] = "customer"
    created: datetime
    name: str | None
    email: str | None
    phone: str | None
    address: AddressObject | None = Field(description="The billing address.")
    shipping: ShippingObject | None
    tax_id: TaxIdObject | None
    preferred_locales: tuple[str, ...] = Field(description='The language chosen in the portal, e.g. ["de_DE"].')
    invoice_settings: InvoiceSettingsObject
    metadata: dict[str, str] = Field(description="Your own key-value pairs, e.g. your system's user id.")

    @classmethod
    def from_row(cls, customer: Customer, *, default_payment_method: str | None) -> CustomerObject:
        columns = {name: getattr(customer, name) for name in CUSTOMER_COLUMNS if name != "metadata"}
        columns["metadata"] = customer.metadata_  # the model's attribute for the column
        return cls.model_validate(customer_data(columns, default_payment_method=default_payment_method))


_ADDRESS_COLUMNS = {
    prefix: tuple((part, f"{prefix}_{part}") for part in ADDRESS_PARTS) for prefix in ("address", "shipping")
}
CUSTOMER_COLUMNS = (
    "id",
    "created_at",
    "name",
    "email",
    "phone",
    "locale",
    "shipping_name",
    "shipping_phone",
    "tax_id_type",
    "tax_id_value",
    "metadata",
    *(column for columns in _ADDRESS_COLUMNS.values() for _, column in columns),
)
"""The customers' columns the API shows (by column name)."""


def customer_data(columns: Mapping[str, Any], *, default_payment_method: str | None) -> dict[str, Any]:
    """A customer as the API's JSON has it (`CustomerObject` validates it), in plain dicts, from its CUSTOMER_COLUMNS:
    a page of 100 is built from rows and encoded without 400 models."""
    address, shipping_address = _address_data(columns, "address"), _address_data(columns, "shipping")
    name, phone, tax_type, tax_value = (
        columns["shipping_name"],
        columns["shipping_phone"],
        columns["tax_id_type"],
        columns["tax_id_value"],
    )
    return {
        "id": columns["id"],
        "object": "customer",
        "created": columns["created_at"],
        "name": columns["name"] or None,
        "email": columns["email"] or None,
        "phone": columns["phone"] or None,
        "address": address,
        "shipping": {"name": name or None, "phone": phone or None, "address": shipping_address}
        if shipping_address or name or phone
        else None,
        "tax_id": {"type": tax_type, "value": tax_value} if tax_type and tax_value else None,
        "preferred_locales": [columns["locale"]] if columns["locale"] else [],
        "invoice_settings": {"default_payment_method": default_payment_method},
        "metadata": dict(columns["metadata"] or {}),
    }


def _address_data(columns: Mapping[str, Any], prefix: AddressPrefix) -> dict[str, str | None] | None:
    """An address's parts, blanks as null; None when it has none."""
    parts = {part: columns[column] or None for part, column in _ADDRESS_COLUMNS[prefix]}
    return parts if any(parts.values()) else None


# --- Products, prices and subscriptions --------------------------------------------------------------------------


class ProductObject(ApiObject):
    """What the merchant sells; customers subscribe to its prices."""

    object: Literal["product"] = "product"
    name: str
    description: str | None
    active: bool
    created: datetime

    @classmethod
    def from_row(cls, product: Product | CatalogProduct) -> ProductObject:
        return cls(
            id=product.id,
            name=product.name,
            description=_text(product.description),
            active=product.active,
            created=product.created_at,
        )


class RecurringObject(_Part):
    interval: PriceInterval
    interval_count: int = Field(description="Bills every `interval_count` intervals (e.g. 3 months).")


class PriceObject(ApiObject):
    """What a product costs per billing interval."""

    object: Literal["price"] = "price"
    product: str = Field(description="The product's id (`prod_…`).")
    nickname: str | None
    unit_amount: int = Field(description="In minor units of `currency` (cents).")
    currency: str = Field(description="ISO 4217 code.", examples=["USD"])
    recurring: RecurringObject
    active: bool

    @classmethod
    def from_row(cls, price: Price) -> PriceObject:
        return cls(
            id=price.id,
            product=price.product_id,
            nickname=_text(price.nickname),
            unit_amount=price.unit_amount,
            currency=price.currency,
            recurring=RecurringObject(interval=price.interval, interval_count=price.interval_count),
            active=price.active,
        )


class SubscriptionItemObject(ApiObject):
    object: Literal["subscription_item"] = "subscription_item"
    price: PriceObject
    quantity: int


class PauseCollectionObject(_Part):
    starts_at: datetime = Field(description="The end of the paid period, when billing stops.")
    resumes_at: datetime | None = Field(description="When billing starts again; null until the customer resumes.")


class ScheduledChangeObject(_Part):
    price: PriceObject
    quantity: int
    effective_at: datetime = Field(description="The end of the current period, when the change takes effect.")


class DiscountObject(_Part):
    kind: DiscountKind = Field(description="percent: `value` percent off; amount: `value` minor units off.")
    value: int
    invoices_left: int = Field(description="How many more invoices it is taken off.")


class CancellationDetailsObject(_Part):
    reason: CancellationReason | None = Field(description="Why the customer canceled, as chosen in the portal.")
    comment: str | None = Field(description="What the customer wrote when canceling.")


class SubscriptionObject(ApiObject):
    """A customer's subscription to a price, renewed by the billing clock at each period's end."""

    object: Literal["subscription"] = "subscription"
    customer: str
    status: SubscriptionStatus
    currency: str
    items: tuple[SubscriptionItemObject, ...]
    created: datetime
    current_period_start: datetime
    current_period_end: datetime
    trial_end: datetime | None
    cancel_at_period_end: bool = Field(description="Ends at `current_period_end` instead of renewing.")
    canceled_at: datetime | None = Field(description="When the cancellation was asked for.")
    ended_at: datetime | None
    cancellation_details: CancellationDetailsObject
    pause_collection: PauseCollectionObject | None = Field(description="A pause the customer chose, if any.")
    scheduled_change: ScheduledChangeObject | None = Field(
        description="A plan change (a downgrade) the customer chose for the end of the period, if any."
    )
    discount: DiscountObject | None = Field(description="The accepted retention offer, while it still applies.")

    @classmethod
    def from_row(cls, subscription: Subscription) -> SubscriptionObject:
        """Needs the items and their prices loaded (as every service that changes a subscription loads them)."""
        items = tuple(
            SubscriptionItemObject(id=item.id, price=PriceObject.from_row(item.price), quantity=item.quantity)
            for item in subscription.items
        )
        return cls(
            id=subscription.id,
            customer=subscription.customer_id,
            status=subscription.status,
            currency=items[0].price.currency if items else "",
            items=items,
            created=subscription.created_at,
            current_period_start=subscription.current_period_start,
            current_period_end=subscription.current_period_end,
            trial_end=subscription.trial_end,
            cancel_at_period_end=subscription.cancel_at_period_end,
            canceled_at=subscription.canceled_at,
            ended_at=subscription.ended_at,
            cancellation_details=CancellationDetailsObject(
                reason=CancellationReason(subscription.cancellation_reason)
                if subscription.cancellation_reason
                else None,
                comment=_text(subscription.cancellation_comment),
            ),
            pause_collection=_pause_of(subscription),
            scheduled_change=_scheduled_change_of(subscription),
            discount=DiscountObject(
                kind=subscription.discount_kind,
                value=subscription.discount_value,
                invoices_left=subscription.discount_invoices_left,
            )
            if subscription.discount_kind is not None and subscription.discount_invoices_left > 0
            else None,
        )


def _scheduled_change_of(subscription: Subscription) -> ScheduledChangeObject | None:
    """The scheduled change, when there is one (its price is loaded only then)."""
    if subscription.scheduled_price_id is None or subscription.scheduled_price is None:
        return None
    return ScheduledChangeObject(
        price=PriceObject.from_row(subscription.scheduled_price),
        quantity=subscription.scheduled_quantity or subscription.items[0].quantity,
        effective_at=subscription.current_period_end,
    )


def _pause_of(subscription: Subscription) -> PauseCollectionObject | None:
    if subscription.pause_starts_at is None:
        return None
    return PauseCollectionObject(starts_at=subscription.pause_starts_at, resumes_at=subscription.pause_resumes_at)


# --- Invoices ---------------------------------------------------------------------------------------------------


class PeriodObject(_Part):
    start: datetime
    end: datetime


class InvoiceLineObject(ApiObject):
    object: Literal["line_item"] = "line_item"
    description: str
    quantity: int
    unit_amount: int
    amount: int = Field(description="Negative for a credit, such as unused time on the previous plan.")
    price: str | None = Field(description="The price's id (`price_…`).")
    proration: bool
    period: PeriodObject | None

    @classmethod
    def from_row(cls, line: InvoiceLine) -> InvoiceLineObject:
        period = None
        if line.period_start is not None and line.period_end is not None:
            period = PeriodObject(start=line.period_start, end=line.period_end)
        return cls(
            id=line.id,
            description=line.description,
            quantity=line.quantity,
            unit_amount=line.unit_amount,
            amount=line.amount,
            price=line.price_id,
            proration=line.proration,
            period=period,
        )


class PaymentErrorObject(_Part):
    message: str = Field(description="Why the last charge failed, for the customer.")


class InvoiceObject(ApiObject):
    """A bill for a subscription's period or plan change; amounts in minor units of `currency`."""

    object: Literal["invoice"] = "invoice"
    number: str
    customer: str
    subscription: str | None
    status: InvoiceStatus
    billing_reason: str = Field(description='"subscription_cycle" (a renewal) or "subscription_update".')
    currency: str
    subtotal: int
    tax: int
    total: int
    amount_due: int
    amount_paid: int
    lines: tuple[InvoiceLineObject, ...]
    created: datetime
    due_date: datetime | None
    paid_at: datetime | None
    period_start: datetime | None
    period_end: datetime | None
    attempt_count: int = Field(description="Automatic charges made so far.")
    next_payment_attempt: datetime | None = Field(description="When the billing clock charges it next, if it will.")
    last_payment_error: PaymentErrorObject | None

    @classmethod
    def from_row(cls, invoice: Invoice) -> InvoiceObject:
        """Needs the lines loaded (or just created)."""
        return cls(
            id=invoice.id,
            number=invoice.number,
            customer=invoice.customer_id,
            subscription=invoice.subscription_id,
            status=invoice.status,
            billing_reason=invoice.billing_reason,
            currency=invoice.currency,
            subtotal=invoice.subtotal,
            tax=invoice.tax,
            total=invoice.total,
            amount_due=invoice.amount_due,
            amount_paid=invoice.amount_paid,
            lines=tuple(InvoiceLineObject.from_row(line) for line in invoice.lines),
            created=invoice.created_at,
            due_date=invoice.due_at,
            paid_at=invoice.paid_at,
            period_start=invoice.period_start,
            period_end=invoice.period_end,
            attempt_count=invoice.attempt_count,
            next_payment_attempt=invoice.next_payment_attempt,
            last_payment_error=PaymentErrorObject(message=invoice.last_payment_error)
            if invoice.last_payment_error
            else None,
        )


# --- Payment methods --------------------------------------------------------------------------------------------


class CardObject(_Part):
    """All that is kept of a card: never its number or security code."""

    brand: str = Field(examples=["visa"])
    last4: str
    exp_month: int
    exp_year: int


class PaymentMethodObject(ApiObject):
    """A customer's saved card."""

    object: Literal["payment_method"] = "payment_method"
    type: Literal["card"] = "card"
    customer: str | None = Field(description="The customer it belongs to; null once removed.")
    card: CardObject
    created: datetime

    @classmethod
    def from_row(cls, method: PaymentMethod, *, detached: bool = False) -> PaymentMethodObject:
        return cls(
            id=method.id,
            customer=None if detached else method.customer_id,
            card=CardObject(
                brand=method.brand, last4=method.last4, exp_month=method.exp_month, exp_year=method.exp_year
            ),
            created=method.created_at,
        )


# --- Portal sessions (links) ------------------------------------------------------------------------------------


class PortalSessionObject(ApiObject):
    """A portal link: send `url` to the customer; it works until `expires_at` unless revoked."""

    object: Literal["portal_session"] = "portal_session"
    customer: str
    url: str | None = Field(
        description="Only in the answer to the request that created it: the link is a credential, never stored."
    )
    return_url: str | None = Field(description="Where the portal's back link goes.")
    status: PortalLinkStatus
    created: datetime
    expires_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def from_row(cls, link: PortalLink, *, now: datetime, url: str | None = None) -> PortalSessionObject:
        return cls(
            id=link.id,
            customer=link.customer_id,
            url=url,
            return_url=_text(link.return_url),
            status=link_status(link, now),
            created=link.created_at,
            expires_at=link.expires_at,
            last_used_at=link.last_used_at,
            revoked_at=link.revoked_at,
        )


# --- Lists ------------------------------------------------------------------------------------------------------

ObjectT = TypeVar("ObjectT", bound=ApiObject)


class ListObject(_Part, Generic[ObjectT]):
    """One page of a list, newest first: ask for the next with `starting_after` = the last object's id."""

    object: Literal["list"] = "list"
    data: tuple[ObjectT, ...]
    has_more: bool = Field(description="More objects follow this page.")


EVENT_OBJECTS: dict[str, type[ApiObject]] = {
    model.model_fields["object"].default: model
    for model in (
        CustomerObject,
        SubscriptionObject,
        InvoiceObject,
        PaymentMethodObject,
        PortalSessionObject,
        ProductObject,
        PriceObject,
    )
}
"""The model of each event type's `data.object`, by `EventType.resource`."""
