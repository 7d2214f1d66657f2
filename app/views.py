"""Frozen dataclasses that services return and components render (never ORM objects)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class SignedInUser:
    user_id: str
    merchant_id: str
    email: str


@dataclass(frozen=True, slots=True)
class AccountDetails:
    """A merchant's public business name and company information (Account details page)."""

    merchant_id: str
    public_business_name: str
    legal_name: str = ""
    support_email: str = ""
    support_phone: str = ""
    website: str = ""
    address_line1: str = ""
    address_line2: str = ""
    address_city: str = ""
    address_postal_code: str = ""
    address_state: str = ""
    address_country: str = ""
    default_currency: str = "USD"
    time_zone: str = "UTC"


# --- Customer portal -------------------------------------------------------------------------------------------
# The portal and the settings preview render the same PortalView; see components/portal/.


@dataclass(frozen=True, slots=True)
class PortalSettingsView:
    """A merchant's portal settings (saved, or the settings page's unsaved draft). No image bytes here."""

    merchant_id: str
    version: int
    brand_color: str
    accent_color: str
    has_icon: bool
    has_logo: bool
    invoice_history: bool
    shipping_information: bool
    cancel_subscriptions: bool
    cancel_mode: str  # CancelMode value: "immediately" | "at_period_end"
    cancellation_reasons: bool
    payment_method_update: bool
    billing_details_update: bool
    billing_fields: tuple[str, ...]  # BillingField values
    plan_switching: bool
    switchable_price_ids: tuple[str, ...]
    headline: str
    support_email: str
    support_phone: str
    address: str
    website_url: str
    terms_url: str
    privacy_url: str
    default_return_url: str


@dataclass(frozen=True, slots=True)
class Address:
    line1: str = ""
    line2: str = ""
    city: str = ""
    postal_code: str = ""
    state: str = ""
    country: str = ""  # ISO 3166 alpha-2

    @property
    def is_empty(self) -> bool:
        return not any((self.line1, self.line2, self.city, self.postal_code, self.state, self.country))


@dataclass(frozen=True, slots=True)
class CustomerView:
    id: str
    name: str
    email: str
    phone: str
    locale: str
    address: Address
    shipping_name: str
    shipping_phone: str
    shipping_address: Address
    tax_id_type: str
    tax_id_value: str


@dataclass(frozen=True, slots=True)
class PriceView:
    id: str
    product_name: str
    nickname: str
    unit_amount: int  # minor units
    currency: str
    interval: str  # PriceInterval value
    interval_count: int


@dataclass(frozen=True, slots=True)
class SubscriptionView:
    id: str
    status: str  # SubscriptionStatus value
    price: PriceView
    quantity: int
    current_period_start: datetime
    current_period_end: datetime
    trial_end: datetime | None
    cancel_at_period_end: bool
    canceled_at: datetime | None
    next_invoice_amount: int | None  # minor units; None when nothing more will be billed


@dataclass(frozen=True, slots=True)
class PaymentMethodView:
    id: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int
    is_default: bool


@dataclass(frozen=True, slots=True)
class InvoiceLineView:
    description: str
    quantity: int
    unit_amount: int
    amount: int
    proration: bool


@dataclass(frozen=True, slots=True)
class InvoiceView:
    id: str
    number: str
    status: str  # InvoiceStatus value
    currency: str
    created_at: datetime
    due_at: datetime | None
    paid_at: datetime | None
    subtotal: int
    tax: int
    total: int
    amount_due: int
    amount_paid: int
    lines: tuple[InvoiceLineView, ...] = ()  # filled only for a details view


@dataclass(frozen=True, slots=True)
class InvoicePage:
    invoices: tuple[InvoiceView, ...]
    status_filter: str | None  # None: all statuses
    page: int  # 1-based
    has_next: bool


@dataclass(frozen=True, slots=True)
class CustomerPortalData:
    """Everything about one customer that the portal shows; real (from the database) or the preview sample."""

    customer: CustomerView
    subscriptions: tuple[SubscriptionView, ...]
    payment_methods: tuple[PaymentMethodView, ...]
    invoices: InvoicePage
    available_prices: tuple[PriceView, ...]  # the merchant's active prices, for plan switching


@dataclass(frozen=True, slots=True)
class PortalView:
    """What the portal renders: branding and business information, enabled features and the customer's data."""

    business_name: str
    icon_src: str | None  # a URL or data: URL of our re-encoded PNG, never user text
    logo_src: str | None
    settings: PortalSettingsView
    data: CustomerPortalData
    locale: str  # Babel locale, e.g. "en_US"
    time_zone: str
    return_url: str | None
    is_preview: bool = False
