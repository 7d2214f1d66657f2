"""Frozen dataclasses that services return and components render (never ORM objects)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from app.enums import (
    BillingField,
    CancelMode,
    DiscountKind,
    EmailStatus,
    EventSource,
    InvoiceStatus,
    PauseDuration,
    PortalFlow,
    PortalLinkStatus,
    PriceInterval,
    SubscriptionStatus,
    WebhookDeliveryStatus,
)
from app.views.lifecycle import Discount, ProrationView, RetentionOfferView


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
    handle: str = ""  # the sign-in address's last part: /p/login/{handle}
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
    cancel_mode: CancelMode
    cancellation_reasons: bool
    payment_method_update: bool
    billing_details_update: bool
    billing_fields: tuple[BillingField, ...]
    plan_switching: bool
    switchable_price_ids: tuple[str, ...]
    downgrades_at_period_end: bool
    pause_subscriptions: bool
    pause_durations: tuple[PauseDuration, ...]
    headline: str
    support_email: str
    support_phone: str
    address: str
    website_url: str
    terms_url: str
    privacy_url: str
    default_return_url: str
    resubscribe: bool = False  # a canceled subscription can be restarted from the portal, charged now
    resubscribe_price_choice: bool = False  # ... at any of the merchant's current prices (else its own price)
    retention_offer: bool = False  # a coupon offered once per subscription when its customer cancels
    retention_discount_kind: DiscountKind = DiscountKind.PERCENT
    retention_discount_value: int = 50  # percent, or minor units of the merchant's default currency
    retention_periods: int = 3  # invoices the coupon is taken off


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
    pending_email: str = ""  # a new email the customer asked for, waiting for confirmation from that address
    credit_balance: int = 0  # minor units of `credit_currency` that later invoices use up
    credit_currency: str = ""


@dataclass(frozen=True, slots=True)
class PriceView:
    id: str
    product_name: str
    nickname: str
    unit_amount: int  # minor units
    currency: str
    interval: PriceInterval
    interval_count: int


@dataclass(frozen=True, slots=True)
class SubscriptionView:
    id: str
    status: SubscriptionStatus
    price: PriceView
    quantity: int
    current_period_start: datetime
    current_period_end: datetime
    trial_end: datetime | None
    cancel_at_period_end: bool
    canceled_at: datetime | None
    next_invoice_amount: int | None  # minor units; None when nothing more will be billed
    pause_starts_at: datetime | None = None  # a pause the customer chose: from (the end of a paid period) ...
    pause_resumes_at: datetime | None = None  # ... until (None: until they resume it)
    scheduled_price: PriceView | None = None  # a plan change that takes effect at the end of the period
    scheduled_quantity: int | None = None
    amount_owed: int = 0  # minor units still due on the subscription's open invoices
    retention_offered_at: datetime | None = None  # the retention offer was made (at most once) ...
    retention_accepted_at: datetime | None = None  # ... and accepted
    discount: Discount | None = None  # still taken off the next `discount.invoices` invoices
    open_invoice: InvoiceView | None = None  # the oldest invoice still owed, payable from the subscription's card

    @property
    def pause_scheduled(self) -> bool:
        """A pause is chosen and starts at the end of the current period (the subscription is still active)."""
        return self.pause_starts_at is not None and self.status != SubscriptionStatus.PAUSED

    @property
    def next_invoice_at(self) -> datetime | None:
        """When the next invoice is issued: the period end, or when a pause ends (None: not known or never)."""
        if self.next_invoice_amount is None:
            return None
        if self.status == SubscriptionStatus.PAUSED or self.pause_scheduled:
            return self.pause_resumes_at
        return self.current_period_end


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
    status: InvoiceStatus
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
    requires_action: bool = False  # open, and its latest payment waits for the customer to authenticate it


@dataclass(frozen=True, slots=True)
class InvoicePage:
    invoices: tuple[InvoiceView, ...]
    status_filter: InvoiceStatus | None  # None: all statuses
    page: int  # 1-based
    has_next: bool

    @classmethod
    def of_list(
        cls, invoices: Sequence[InvoiceView], *, status: str | None, page: int, page_size: int = 10
    ) -> InvoicePage:
        """One page of an in-memory invoice list (newest first), for the preview's sample customer."""
        matching = [invoice for invoice in invoices if status is None or invoice.status == status]
        start = (max(page, 1) - 1) * page_size
        return cls(
            invoices=tuple(matching[start : start + page_size]),
            status_filter=InvoiceStatus(status) if status else None,
            page=max(page, 1),
            has_next=len(matching) > start + page_size,
        )


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
    task: PortalTask | None = None  # a deep link's task, opened once when the portal shows
    resubscribe_prices: tuple[PriceView, ...] = ()  # what an ended subscription can restart at, besides its own


@dataclass(frozen=True, slots=True)
class PortalTask:
    """The one task a deep link opens the portal at: checked to be the customer's own and switched on."""

    flow: PortalFlow
    subscription_id: str = ""
    invoice_id: str = ""


@dataclass(frozen=True, slots=True)
class BillingRunResult:
    """What one run of the billing clock did; `skipped` when another process was already running it."""

    skipped: bool = False
    subscriptions_canceled: int = 0
    invoices_created: int = 0
    payments_succeeded: int = 0
    payments_failed: int = 0


@dataclass(frozen=True, slots=True)
class EventView:
    """One entry of the audit trail, with its customer's name for display."""

    id: str
    type: str
    title: str  # what happened, for people: "Invoice paid"
    created_at: datetime
    source: EventSource
    customer_id: str | None
    customer_name: str
    customer_email: str
    object_id: str
    portal_link_id: str | None
    ip_address: str
    user_agent: str


@dataclass(frozen=True, slots=True)
class EventPage:
    events: tuple[EventView, ...]
    page: int  # 1-based
    has_next: bool


ALL_EVENTS = "*"  # as an endpoint's only event type: every event is sent to it
MAX_DELIVERY_ATTEMPTS = 12  # a webhook delivery is given up after this many failed attempts


@dataclass(frozen=True, slots=True)
class WebhookEndpointView:
    id: str
    url: str
    description: str
    event_types: tuple[str, ...]  # ("*",) for every event
    enabled: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class WebhookEndpointSecret:
    """An endpoint with its signing secret: returned only right after creation or rotation."""

    endpoint: WebhookEndpointView
    secret: str


@dataclass(frozen=True, slots=True)
class WebhookDeliveryView:
    id: str
    event_id: str
    event_type: str
    status: WebhookDeliveryStatus
    attempts: int
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_response_ms: int | None
    last_error: str
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class WebhookDeliveryPage:
    deliveries: tuple[WebhookDeliveryView, ...]
    page: int  # 1-based
    has_next: bool


# --- Merchant dashboard: customers, portal links, emails, API keys ---------------------------------------------


@dataclass(frozen=True, slots=True)
class CustomerRow:
    """One line of the Customers list."""

    id: str
    name: str
    email: str
    created_at: datetime
    subscription_statuses: tuple[SubscriptionStatus, ...]  # distinct, most urgent first; () for none
    cancel_pending: bool  # a live subscription is set to cancel at the end of its period


@dataclass(frozen=True, slots=True)
class CustomerPage:
    customers: tuple[CustomerRow, ...]
    query: str
    next_cursor: str | None  # pass as `after` to get the next page; None on the last page


@dataclass(frozen=True, slots=True)
class PortalLinkView:
    id: str
    created_at: datetime
    expires_at: datetime
    status: PortalLinkStatus
    last_used_at: datetime | None
    revoked_at: datetime | None
    created_by: str


@dataclass(frozen=True, slots=True)
class CustomerDetails:
    """Everything the merchant's customer details page shows (recent items only, newest first)."""

    customer: CustomerView
    created_at: datetime
    subscriptions: tuple[SubscriptionView, ...]
    payment_methods: tuple[PaymentMethodView, ...]
    invoices: tuple[InvoiceView, ...]
    more_invoices: bool  # older invoices exist beyond `invoices`
    activity: tuple[EventView, ...]
    cancellations: tuple[CancellationFeedback, ...]  # for canceled and cancel-pending subscriptions that have some
    payments: tuple[PaymentView, ...] = ()  # recent charge attempts, newest first


@dataclass(frozen=True, slots=True)
class CancellationFeedback:
    """What a customer told the merchant when canceling a subscription in the portal (either may be empty)."""

    subscription_id: str
    reason: str  # as the customer chose it, in English; "" when they chose none
    comment: str


@dataclass(frozen=True, slots=True)
class EmailView:
    id: str
    to_address: str
    subject: str
    body: str
    created_at: datetime
    sent_at: datetime | None  # None: queued, or kept in the local outbox (no SMTP server configured)
    status: EmailStatus = EmailStatus.OUTBOX
    kind: str = ""
    html_body: str = ""


@dataclass(frozen=True, slots=True)
class EmailPage:
    emails: tuple[EmailView, ...]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class ApiKeyView:
    id: str
    prefix: str  # the first characters of the secret, to recognise it
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    name: str = ""  # what the merchant uses it for


@dataclass(frozen=True, slots=True)
class CreatedApiKey:
    """A new key: `secret` is shown once and never stored."""

    key: ApiKeyView
    secret: str


# --- Customer portal actions (app/services/portal.py, app/services/payments.py) ---------------------------------


@dataclass(frozen=True, slots=True)
class BillingDetailsInput:
    """A customer's billing details form; None leaves a field as it is (and is required for disabled fields)."""

    name: str | None = None
    email: str | None = None
    phone: str | None = None
    address: Address | None = None
    tax_id_type: str | None = None
    tax_id_value: str | None = None


@dataclass(frozen=True, slots=True)
class ShippingInput:
    """Where to ship; `same_as_billing` copies the billing address (and name/phone when left blank)."""

    name: str = ""
    phone: str = ""
    address: Address = Address()
    same_as_billing: bool = False


# Payments' views live in their own module; imported here so that `app.views` names every view.
from app.views.payments import (  # noqa: E402
    CardElementConfig,
    CardSetupView,
    ChargeOutcome,
    GatewayStatusView,
    PaymentAuthentication,
    PaymentView,
)

__all__ = [
    "CardElementConfig",
    "CardSetupView",
    "ChargeOutcome",
    "Discount",
    "GatewayStatusView",
    "PaymentAuthentication",
    "PaymentView",
    "ProrationView",
    "RetentionOfferView",
]
