"""SQLAlchemy models: merchants, their customers and billing objects, portal links and the event trail."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, deferred, mapped_column, relationship

from app.enums import (
    BillingField,
    CancelMode,
    DiscountKind,
    EventSource,
    FailedPaymentAction,
    InvoiceStatus,
    PauseDuration,
    PriceInterval,
    SubscriptionStatus,
)


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id(prefix: str) -> Callable[[], str]:
    """A factory of random public identifiers such as `cus_3kT9…` (never sequential)."""
    return lambda: f"{prefix}_{secrets.token_urlsafe(12).replace('-', 'x').replace('_', 'y')}"


def new_ids(prefix: str, count: int) -> list[str]:
    """`count` identifiers as `new_id(prefix)` makes them, from one read of the random source (for bulk inserts)."""
    text = base64.urlsafe_b64encode(secrets.token_bytes(12 * count)).decode().replace("-", "x").replace("_", "y")
    return [f"{prefix}_{text[start : start + 16]}" for start in range(0, 16 * count, 16)]


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC and always returns them aware (SQLite drops the offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: dict[Any, Any] = {datetime: UTCDateTime()}  # noqa: RUF012


def _enum(enum: type[StrEnum], length: int = 20) -> Any:
    """Store enums as their string values in a VARCHAR (portable, readable, no native enum types)."""
    return Enum(enum, native_enum=False, length=length, values_callable=lambda members: [m.value for m in members])


class Merchant(Base):
    __tablename__ = "merchants"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id("acct"))
    public_business_name: Mapped[str] = mapped_column(String(60))
    handle: Mapped[str] = mapped_column(String(40), unique=True, default=lambda: f"m-{secrets.token_hex(5)}")
    legal_name: Mapped[str] = mapped_column(String(120), default="")
    support_email: Mapped[str] = mapped_column(String(254), default="")
    support_phone: Mapped[str] = mapped_column(String(32), default="")
    website: Mapped[str] = mapped_column(String(300), default="")
    address_line1: Mapped[str] = mapped_column(String(120), default="")
    address_line2: Mapped[str] = mapped_column(String(120), default="")
    address_city: Mapped[str] = mapped_column(String(80), default="")
    address_postal_code: Mapped[str] = mapped_column(String(20), default="")
    address_state: Mapped[str] = mapped_column(String(80), default="")
    address_country: Mapped[str] = mapped_column(String(2), default="")
    default_currency: Mapped[str] = mapped_column(String(3), default="USD")
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    invoice_prefix: Mapped[str] = mapped_column(String(12), default="INV")
    next_invoice_number: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    users: Mapped[list[MerchantUser]] = relationship(back_populates="merchant")
    portal_settings: Mapped[PortalSettings | None] = relationship(back_populates="merchant", uselist=False)


class MerchantUser(Base):
    __tablename__ = "merchant_users"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id("usr"))
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchants.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    merchant: Mapped[Merchant] = relationship(back_populates="users")


class PortalSettings(Base):
    """How a merchant's customer portal looks and what customers may do in it."""

    __tablename__ = "portal_settings"

    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchants.id", ondelete="CASCADE"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    icon_png: Mapped[bytes | None] = deferred(mapped_column(LargeBinary, nullable=True))
    logo_png: Mapped[bytes | None] = deferred(mapped_column(LargeBinary, nullable=True))
    has_icon: Mapped[bool] = mapped_column(Boolean, default=False)
    has_logo: Mapped[bool] = mapped_column(Boolean, default=False)
    brand_color: Mapped[str] = mapped_column(String(7), default="#635bff")
    accent_color: Mapped[str] = mapped_column(String(7), default="#0a2540")
    # Functionality
    invoice_history: Mapped[bool] = mapped_column(Boolean, default=True)
    shipping_information: Mapped[bool] = mapped_column(Boolean, default=True)
    cancel_subscriptions: Mapped[bool] = mapped_column(Boolean, default=True)
    cancel_mode: Mapped[CancelMode] = mapped_column(_enum(CancelMode), default=CancelMode.AT_PERIOD_END)
    cancellation_reasons: Mapped[bool] = mapped_column(Boolean, default=True)
    payment_method_update: Mapped[bool] = mapped_column(Boolean, default=True)
    billing_details_update: Mapped[bool] = mapped_column(Boolean, default=True)
    billing_fields: Mapped[list[str]] = mapped_column(JSON, default=lambda: [f.value for f in BillingField])
    plan_switching: Mapped[bool] = mapped_column(Boolean, default=False)
    switchable_price_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    downgrades_at_period_end: Mapped[bool] = mapped_column(Boolean, default=False)
    pause_subscriptions: Mapped[bool] = mapped_column(Boolean, default=False)
    pause_durations: Mapped[list[str]] = mapped_column(JSON, default=lambda: [d.value for d in PauseDuration])
    resubscribe: Mapped[bool] = mapped_column(Boolean, default=False)
    resubscribe_price_choice: Mapped[bool] = mapped_column(Boolean, default=False)  # else the same price only
    # A coupon offered once per subscription when its customer cancels: percent (1-100) or amount off, N invoices.
    retention_offer: Mapped[bool] = mapped_column(Boolean, default=False)
    retention_discount_kind: Mapped[DiscountKind] = mapped_column(_enum(DiscountKind), default=DiscountKind.PERCENT)
    retention_discount_value: Mapped[int] = mapped_column(Integer, default=50)  # percent, or minor units
    retention_periods: Mapped[int] = mapped_column(Integer, default=3)
    # Business information shown to customers
    headline: Mapped[str] = mapped_column(String(120), default="")
    support_email: Mapped[str] = mapped_column(String(254), default="")
    support_phone: Mapped[str] = mapped_column(String(32), default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    website_url: Mapped[str] = mapped_column(String(300), default="")
    terms_url: Mapped[str] = mapped_column(String(300), default="")
    privacy_url: Mapped[str] = mapped_column(String(300), default="")
    default_return_url: Mapped[str] = mapped_column(String(300), default="")
    # Billing: after the last failed retry of a renewal invoice
    failed_payment_action: Mapped[FailedPaymentAction] = mapped_column(
        _enum(FailedPaymentAction), default=FailedPaymentAction.MARK_UNPAID, server_default="mark_unpaid"
    )
    # Every change moves it (a save sets it with the version; other writes through `onupdate`): with the version it
    # tells portal pages in every process when their copy of the settings is stale (`portal_owner`).
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    merchant: Mapped[Merchant] = relationship(back_populates="portal_settings")


LIVE_EMAIL_INDEX, _LIVE = "uq_customers_merchant_live_email", text("deleted_at IS NULL AND email <> ''")


class Customer(Base):
    __tablename__ = "customers"
    __table_args__ = (
        Index("ix_customers_merchant_email", "merchant_id", "email", "created_at", "id"),
        # An email belongs to one live customer of a merchant: the services check first (to name that customer),
        # the database decides when two requests race.
        Index(LIVE_EMAIL_INDEX, "merchant_id", "email", unique=True, sqlite_where=_LIVE, postgresql_where=_LIVE),
        Index("ix_customers_merchant_name", "merchant_id", "name"),
        Index("ix_customers_merchant_created", "merchant_id", "created_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id("cus"))
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchants.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(120), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    phone: Mapped[str] = mapped_column(String(32), default="")
    locale: Mapped[str] = mapped_column(String(10), default="")
    address_line1: Mapped[str] = mapped_column(String(120), default="")
    address_line2: Mapped[str] = mapped_column(String(120), default="")
    address_city: Mapped[str] = mapped_column(String(80), default="")
    address_postal_code: Mapped[str] = mapped_column(String(20), default="")
    address_state: Mapped[str] = mapped_column(String(80), default="")
    address_country: Mapped[str] = mapped_column(String(2), default="")
    shipping_name: Mapped[str] = mapped_column(String(120), default="")
    shipping_phone: Mapped[str] = mapped_column(String(32), default="")
    shipping_line1: Mapped[str] = mapped_column(String(120), default="")
    shipping_line2: Mapped[str] = mapped_column(String(120), default="")
    shipping_city: Mapped[str] = mapped_column(String(80), default="")
    shipping_postal_code: Mapped[str] = mapped_column(String(20), default="")
    shipping_state: Mapped[str] = mapped_column(String(80), default="")
    shipping_country: Mapped[str] = mapped_column(String(2), default="")
    tax_id_type: Mapped[str] = mapped_column(String(20), default="")
    tax_id_value: Mapped[str] = mapped_column(String(40), default="")
    # The merchant's own key-value pairs (`metadata` in the API; the attribute name is SQLAlchemy's).
    metadata_: Mapped[dict[str, str]] = mapped_column("metadata", JSON, default=dict, server_default="{}")
    # The customer at the payment gateway (Stripe's `cus_…`), made on first use; `gateway` says whose id it is.
    gateway: Mapped[str] = mapped_column(String(20), default="", server_default="")
    gateway_customer_id: Mapped[str] = mapped_column(String(255), default="", server_default="")
    # Credit (minor units of `credit_currency`) that later invoices use up: a plan change's unused time beyond one.
    credit_balance: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    credit_currency: Mapped[str] = mapped_column(String(3), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(nullable=True)

    payment_methods: Mapped[list[PaymentMethod]] = relationship(back_populates="customer")
    subscriptions: Mapped[list[Subscription]] = relationship(back_populates="customer")


class PaymentMethod(Base):
    """A card on file: its id at the gateway that saved it (only that one can charge it), brand, last 4, expiry."""

    __tablename__ = "payment_methods"
    # Serves the portal's and details page's order (default card first, then oldest) without a sort.
    __table_args__ = (
        Index("ix_payment_methods_customer_order", "customer_id", text("is_default DESC"), "created_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id("pm"))
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    brand: Mapped[str] = mapped_column(String(20))
    last4: Mapped[str] = mapped_column(String(4))
    exp_month: Mapped[int] = mapped_column(Integer)
    exp_year: Mapped[int] = mapped_column(Integer)
    cardholder_name: Mapped[str] = mapped_column(String(120), default="")
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    gateway: Mapped[str] = mapped_column(String(20), default="test", server_default="test")
    gateway_payment_method_id: Mapped[str] = mapped_column(String(255), default="", server_default="", index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    customer: Mapped[Customer] = relationship(back_populates="payment_methods")


class Product(Base):
    __tablename__ = "products"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id("prod"))
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchants.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(String(500), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Price(Base):
    __tablename__ = "prices"
    # The plan list's order (monthly before yearly, cheapest first) straight from the index.
    __table_args__ = (Index("ix_prices_merchant_order", "merchant_id", "interval", "unit_amount", "id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id("price"))
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchants.id", ondelete="CASCADE"))
    product_id: Mapped[str] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), index=True)
    nickname: Mapped[str] = mapped_column(String(120), default="")
    unit_amount: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    interval: Mapped[PriceInterval] = mapped_column(_enum(PriceInterval))
    interval_count: Mapped[int] = mapped_column(Integer, default=1)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    product: Mapped[Product] = relationship()


class Subscription(Base):
    __tablename__ = "subscriptions"
    # Newest first per customer, merchant and status, as the API lists them (keyset pages without a sort).
    __table_args__ = (
        Index("ix_subscriptions_customer_created", "customer_id", "created_at", "id"),
        Index("ix_subscriptions_merchant_created", "merchant_id", "created_at", "id"),
        Index("ix_subscriptions_merchant_status_created", "merchant_id", "status", "created_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id("sub"))
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchants.id", ondelete="CASCADE"))
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    status: Mapped[SubscriptionStatus] = mapped_column(_enum(SubscriptionStatus))
    current_period_start: Mapped[datetime] = mapped_column()
    current_period_end: Mapped[datetime] = mapped_column(index=True)
    trial_end: Mapped[datetime | None] = mapped_column(nullable=True, index=True)
    cancel_at_period_end: Mapped[bool] = mapped_column(Boolean, default=False)
    canceled_at: Mapped[datetime | None] = mapped_column(nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(nullable=True)
    cancellation_reason: Mapped[str] = mapped_column(String(40), default="")
    cancellation_comment: Mapped[str] = mapped_column(String(500), default="")
    # A pause the customer chose: it starts at the end of a paid period (status becomes paused) and billing resumes
    # at `pause_resumes_at` with a fresh period (None: when the customer resumes it).
    pause_starts_at: Mapped[datetime | None] = mapped_column(nullable=True)
    pause_resumes_at: Mapped[datetime | None] = mapped_column(nullable=True, index=True)
    # A plan change the customer chose for the end of the period (a downgrade): the billing clock applies it then.
    scheduled_price_id: Mapped[str | None] = mapped_column(ForeignKey("prices.id"), nullable=True)
    scheduled_quantity: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # The retention offer (made at most once) and the discount it gave: taken off the next `discount_invoices_left`.
    retention_offered_at: Mapped[datetime | None] = mapped_column(nullable=True)
    retention_accepted_at: Mapped[datetime | None] = mapped_column(nullable=True)
    discount_kind: Mapped[DiscountKind | None] = mapped_column(_enum(DiscountKind), nullable=True)
    discount_value: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    discount_invoices_left: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    customer: Mapped[Customer] = relationship(back_populates="subscriptions")
    items: Mapped[list[SubscriptionItem]] = relationship(back_populates="subscription", cascade="all, delete-orphan")
    scheduled_price: Mapped[Price | None] = relationship()


class SubscriptionItem(Base):
    __tablename__ = "subscription_items"
    __table_args__ = (Index("ix_subscription_items_subscription_order", "subscription_id", "id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id("si"))
    subscription_id: Mapped[str] = mapped_column(ForeignKey("subscriptions.id", ondelete="CASCADE"))
    price_id: Mapped[str] = mapped_column(ForeignKey("prices.id"), index=True)
    quantity: Mapped[int] = mapped_column(Integer, default=1)

    subscription: Mapped[Subscription] = relationship(back_populates="items")
    price: Mapped[Price] = relationship()


class Invoice(Base):
    __tablename__ = "invoices"
    __table_args__ = (
        UniqueConstraint("merchant_id", "number", name="uq_invoices_merchant_number"),
        # Newest first with the id as tie-breaker, as the invoice lists page through them: no sort needed.
        Index("ix_invoices_customer_created", "customer_id", "created_at", "id"),
        Index("ix_invoices_customer_status_created", "customer_id", "status", "created_at", "id"),
        Index("ix_invoices_subscription", "subscription_id", "created_at", "id"),
        Index("ix_invoices_merchant_created", "merchant_id", "created_at", "id"),
        Index("ix_invoices_merchant_status_created", "merchant_id", "status", "created_at", "id"),
        # The billing clock creates at most one invoice per subscription period, however often it runs.
        UniqueConstraint("subscription_id", "billing_reason", "period_start", name="uq_invoices_subscription_period"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id("in"))
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchants.id", ondelete="CASCADE"))
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    subscription_id: Mapped[str | None] = mapped_column(ForeignKey("subscriptions.id"), nullable=True)
    number: Mapped[str] = mapped_column(String(40))
    status: Mapped[InvoiceStatus] = mapped_column(_enum(InvoiceStatus))
    billing_reason: Mapped[str] = mapped_column(String(40), default="subscription_cycle")
    currency: Mapped[str] = mapped_column(String(3))
    subtotal: Mapped[int] = mapped_column(Integer, default=0)
    tax: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    amount_due: Mapped[int] = mapped_column(Integer, default=0)
    amount_paid: Mapped[int] = mapped_column(Integer, default=0)
    period_start: Mapped[datetime | None] = mapped_column(nullable=True)
    period_end: Mapped[datetime | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    due_at: Mapped[datetime | None] = mapped_column(nullable=True)
    paid_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # Automatic collection by the billing clock: charges made so far and when it tries next (None: no more tries).
    attempt_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_payment_attempt: Mapped[datetime | None] = mapped_column(nullable=True, index=True)
    # Why the latest charge failed, for the customer ("" once paid, or before any failure).
    last_payment_error: Mapped[str] = mapped_column(String(300), default="", server_default="")

    lines: Mapped[list[InvoiceLine]] = relationship(
        back_populates="invoice", cascade="all, delete-orphan", order_by="InvoiceLine.position"
    )


class InvoiceLine(Base):
    __tablename__ = "invoice_lines"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id("il"))
    invoice_id: Mapped[str] = mapped_column(ForeignKey("invoices.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    description: Mapped[str] = mapped_column(String(300))
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    unit_amount: Mapped[int] = mapped_column(Integer)
    amount: Mapped[int] = mapped_column(Integer)
    price_id: Mapped[str | None] = mapped_column(ForeignKey("prices.id"), nullable=True)
    proration: Mapped[bool] = mapped_column(Boolean, default=False)
    period_start: Mapped[datetime | None] = mapped_column(nullable=True)
    period_end: Mapped[datetime | None] = mapped_column(nullable=True)

    invoice: Mapped[Invoice] = relationship(back_populates="lines")


class PortalLink(Base):
    """One issued portal URL; the signed token names this row so it can be revoked and audited."""

    __tablename__ = "portal_links"
    __table_args__ = (Index("ix_portal_links_customer_created", "customer_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id("pl"))
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchants.id", ondelete="CASCADE"), index=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    created_by: Mapped[str] = mapped_column(String(64), default="")
    return_url: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column(nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # A sign-in link mailed from the merchant's sign-in page: it works once, then `last_used_at` says it was used.
    single_use: Mapped[bool] = mapped_column(Boolean, default=False)


class Event(Base):
    """Audit trail of what happened, and the outbox that webhooks are delivered from."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_merchant_created", "merchant_id", "created_at"),
        Index("ix_events_customer_created", "customer_id", "created_at"),
        Index("ix_events_merchant_type_created", "merchant_id", "type", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id("evt"))
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchants.id", ondelete="CASCADE"))
    customer_id: Mapped[str | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"), nullable=True)
    type: Mapped[str] = mapped_column(String(60))
    object_id: Mapped[str] = mapped_column(String(32), default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    source: Mapped[EventSource] = mapped_column(_enum(EventSource))
    portal_link_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    ip_address: Mapped[str] = mapped_column(String(45), default="")
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Outbox marker: None until the webhook dispatcher has queued deliveries for this event.
    dispatched_at: Mapped[datetime | None] = mapped_column(nullable=True, index=True)


class Lease(Base):
    """A named lock with an expiry, so a background job runs in one process at a time."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(80))
    expires_at: Mapped[datetime] = mapped_column()


# The API's, webhooks', mails', payments' and sign-in tables live in their own modules; `app.models` names every table.
from app.models.customer_access import EmailChange, PortalSignInRequest  # noqa: E402
from app.models.developers import ApiKey, IdempotencyKey, WebhookDelivery, WebhookEndpoint  # noqa: E402
from app.models.emails import EmailMessage, MailSettings  # noqa: E402
from app.models.payments import Payment, ProcessedGatewayEvent  # noqa: E402
from app.models.sign_in import LoginFailure, SignInGrant  # noqa: E402

__all__ = [
    "ApiKey",
    "Base",
    "Customer",
    "EmailChange",
    "EmailMessage",
    "Event",
    "IdempotencyKey",
    "Invoice",
    "InvoiceLine",
    "Lease",
    "LoginFailure",
    "MailSettings",
    "Merchant",
    "MerchantUser",
    "Payment",
    "PaymentMethod",
    "PortalLink",
    "PortalSettings",
    "PortalSignInRequest",
    "Price",
    "ProcessedGatewayEvent",
    "Product",
    "SignInGrant",
    "Subscription",
    "SubscriptionItem",
    "WebhookDelivery",
    "WebhookEndpoint",
]
