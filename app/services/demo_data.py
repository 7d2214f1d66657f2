"""Deterministic demo data: "Acme Cloud" with 64 customers and a year of invoices, and "Globex" beside it."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.enums import InvoiceStatus, PriceInterval, SubscriptionStatus
from app.models import (
    Customer,
    Invoice,
    InvoiceLine,
    Merchant,
    PaymentMethod,
    PortalSettings,
    Price,
    Product,
    Subscription,
    SubscriptionItem,
)
from app.periods import add_interval
from app.services.accounts import create_merchant

DEMO_OWNER_EMAIL = "owner@acme.test"
GLOBEX_OWNER_EMAIL = "owner@globex.test"

FIRST_NAMES = [
    "Olivia", "Liam", "Emma", "Noah", "Amelia", "Oliver", "Sophia", "Elijah", "Mia", "Lucas", "Hannah", "Mateo",
    "Chloé", "Jonas", "Léa", "Felix", "Yuki", "Wei", "Priya", "Aarav", "Fatima", "Omar", "Sofía", "Diego",
]  # fmt: skip
LAST_NAMES = [
    "Johnson", "Müller", "García", "Smith", "Dubois", "Rossi", "Nguyen", "Kowalski", "Chen", "Tanaka", "Silva",
    "Brown", "Martin", "Schneider", "Okafor", "Patel", "Andersson", "Novak", "Moreau", "Fischer", "Lopez", "Kim",
]  # fmt: skip
ADDRESSES = [
    ("US", "San Francisco", "CA", "94107", "en_US"),
    ("US", "New York", "NY", "10001", "en_US"),
    ("DE", "Berlin", "", "10115", "de_DE"),
    ("FR", "Paris", "", "75002", "fr_FR"),
    ("GB", "London", "", "EC1A 1BB", "en_GB"),
    ("CN", "Shanghai", "", "200000", "zh_Hans_CN"),
    ("CA", "Toronto", "ON", "M5H 2N2", "en_CA"),
]
STREETS = ["Market Street", "Hauptstraße", "Rue de Rivoli", "King Street", "Elm Avenue", "Oak Lane", "Nanjing Road"]
CARDS = [("visa", "4242"), ("mastercard", "4444"), ("amex", "0005"), ("visa", "1881")]
# Every status appears; some active ones also cancel at period end.
STATUS_CYCLE = [
    SubscriptionStatus.ACTIVE,
    SubscriptionStatus.ACTIVE,
    SubscriptionStatus.ACTIVE,
    SubscriptionStatus.TRIALING,
    SubscriptionStatus.PAST_DUE,
    SubscriptionStatus.CANCELED,
    SubscriptionStatus.UNPAID,
    SubscriptionStatus.INCOMPLETE,
]


@dataclass(frozen=True)
class DemoCatalog:
    prices: list[Price]


def has_any_merchant(session: Session) -> bool:
    return session.scalar(select(Merchant.id).limit(1)) is not None


def load_demo_data(*, session: Session, password: str, now: datetime, customers: int = 64) -> None:
    """Create both demo merchants; the same seed always gives the same names, amounts and statuses."""
    rng = random.Random(20261126)
    acme = create_merchant(session=session, business_name="Acme Cloud", email=DEMO_OWNER_EMAIL, password=password)
    _describe_merchant(session, acme.merchant_id, "Acme Cloud", "ACME", "support@acme.test", "America/New_York")
    catalog = _create_catalog(session, acme.merchant_id, "Acme", "USD")
    settings = session.get_one(PortalSettings, acme.merchant_id)
    settings.headline = "Cloud hosting that scales with you."
    settings.support_email = "support@acme.test"
    settings.support_phone = "+1 415-555-0132"
    settings.address = "500 Market Street, San Francisco, CA 94105, United States"
    settings.website_url = "https://acme.test"
    settings.terms_url = "https://acme.test/terms"
    settings.privacy_url = "https://acme.test/privacy"
    settings.default_return_url = "https://acme.test/account"
    settings.plan_switching = True
    settings.switchable_price_ids = [price.id for price in catalog.prices]
    for index in range(customers):
        _create_customer(session, rng, acme.merchant_id, catalog, index, now)

    globex = create_merchant(session=session, business_name="Globex", email=GLOBEX_OWNER_EMAIL, password=password)
    _describe_merchant(session, globex.merchant_id, "Globex Corporation", "GLX", "help@globex.test", "Europe/Berlin")
    globex_catalog = _create_catalog(session, globex.merchant_id, "Globex", "EUR")
    for index in range(8):
        _create_customer(session, rng, globex.merchant_id, globex_catalog, index, now)
    # One paused subscription, made last and with its own random numbers so the customers above stay as they were.
    _create_customer(session, random.Random(1), acme.merchant_id, catalog, customers, now, SubscriptionStatus.PAUSED)
    _create_declining_customers(session, acme.merchant_id, catalog, customers, now)
    session.flush()


# Whose card (test card 4000 0000 0000 0341) is declined at the next renewal, 15 days after `now`: after
# `python -m app billing run --now <a later date>` the merchant sees the dunning mails and the past-due portal.
DECLINING_CUSTOMERS = (
    ("Zoe Zimmermann", "zoe.zimmermann@example.com", "en_US"),
    ("Yara Young", "yara.young@example.com", "de_DE"),
)


def _create_declining_customers(
    session: Session, merchant_id: str, catalog: DemoCatalog, customers: int, now: datetime
) -> None:
    """Made last, with their own random numbers, so the customers above stay as they were."""
    for offset, (name, email, locale) in enumerate(DECLINING_CUSTOMERS):
        # Indexes whose subscription is monthly, renews 15 days from now and is not set to cancel.
        index = customers + 2 + 8 * offset
        customer = _create_customer(
            session, random.Random(2 + offset), merchant_id, catalog, index, now, SubscriptionStatus.ACTIVE
        )
        customer.name, customer.email, customer.locale, customer.shipping_name = name, email, locale, name
        card = session.scalars(select(PaymentMethod).where(PaymentMethod.customer_id == customer.id)).one()
        card.brand, card.last4, card.cardholder_name = "visa", "0341", name


def _describe_merchant(
    session: Session, merchant_id: str, legal_name: str, prefix: str, email: str, time_zone: str
) -> None:
    merchant = session.get_one(Merchant, merchant_id)
    merchant.handle = "globex" if prefix == "GLX" else "acme"  # their sign-in pages: /p/login/acme, /p/login/globex
    merchant.legal_name = legal_name
    merchant.invoice_prefix = prefix
    merchant.support_email = email
    merchant.time_zone = time_zone
    merchant.default_currency = "EUR" if prefix == "GLX" else "USD"


def _create_catalog(session: Session, merchant_id: str, brand: str, currency: str) -> DemoCatalog:
    prices: list[Price] = []
    for name, monthly in (("Starter", 900), ("Team", 2900), ("Business", 9900)):
        product = Product(merchant_id=merchant_id, name=f"{brand} {name}", description=f"The {name} plan")
        session.add(product)
        session.flush()
        for interval, amount in ((PriceInterval.MONTH, monthly), (PriceInterval.YEAR, monthly * 10)):
            price = Price(
                merchant_id=merchant_id,
                product_id=product.id,
                nickname=f"{name} {'monthly' if interval == PriceInterval.MONTH else 'yearly'}",
                unit_amount=amount,
                currency=currency,
                interval=interval,
            )
            price.product = product
            session.add(price)
            prices.append(price)
    session.flush()
    return DemoCatalog(prices=prices)


def _create_customer(
    session: Session,
    rng: random.Random,
    merchant_id: str,
    catalog: DemoCatalog,
    index: int,
    now: datetime,
    status: SubscriptionStatus | None = None,
) -> Customer:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    country, city, state, postal_code, locale = rng.choice(ADDRESSES)
    street = f"{rng.randint(1, 400)} {rng.choice(STREETS)}"
    ascii_name = f"{first}.{last}".lower().translate(str.maketrans("éüí", "eui"))
    email = f"{ascii_name}{index}@example.com"
    created = now - timedelta(days=365 + rng.randint(0, 200))
    customer = Customer(
        merchant_id=merchant_id,
        name=f"{first} {last}",
        email=email,
        phone=f"+1 415-555-{rng.randint(1000, 1999)}" if country == "US" else "",
        locale=locale,
        address_line1=street,
        address_city=city,
        address_state=state,
        address_postal_code=postal_code,
        address_country=country,
        shipping_name=f"{first} {last}" if index % 3 else "",
        shipping_line1=street if index % 3 else "",
        shipping_city=city if index % 3 else "",
        shipping_state=state if index % 3 else "",
        shipping_postal_code=postal_code if index % 3 else "",
        shipping_country=country if index % 3 else "",
        created_at=created,
    )
    session.add(customer)
    session.flush()
    brand, last4 = rng.choice(CARDS)
    session.add(
        PaymentMethod(
            customer_id=customer.id,
            brand=brand,
            last4=last4,
            exp_month=rng.randint(1, 12),
            exp_year=now.year + rng.randint(1, 4),
            cardholder_name=customer.name,
            is_default=True,
        )
    )
    status = status or STATUS_CYCLE[index % len(STATUS_CYCLE)]
    price = catalog.prices[index % len(catalog.prices)]
    subscription = _create_subscription(session, customer, price, status, index, now)
    _create_invoices(session, rng, customer, subscription, price, status, now)
    return customer


def _create_subscription(
    session: Session, customer: Customer, price: Price, status: SubscriptionStatus, index: int, now: datetime
) -> Subscription:
    period = timedelta(days=30 if price.interval == PriceInterval.MONTH else 365)
    period_start = now - timedelta(days=(index * 7) % 28 + 1)
    subscription = Subscription(
        merchant_id=customer.merchant_id,
        customer_id=customer.id,
        status=status,
        current_period_start=period_start,
        current_period_end=period_start + period,
        trial_end=period_start + timedelta(days=14) if status == SubscriptionStatus.TRIALING else None,
        cancel_at_period_end=status == SubscriptionStatus.ACTIVE and index % 5 == 0,
        canceled_at=now - timedelta(days=10) if status == SubscriptionStatus.CANCELED else None,
        ended_at=now - timedelta(days=10) if status == SubscriptionStatus.CANCELED else None,
        created_at=customer.created_at,
    )
    if status == SubscriptionStatus.PAUSED:  # paused at the end of its last period, for two periods
        subscription.current_period_start, subscription.current_period_end = period_start - period, period_start
        subscription.pause_starts_at = period_start
        subscription.pause_resumes_at = add_interval(period_start, price.interval, 2 * price.interval_count)
    subscription.items.append(SubscriptionItem(price_id=price.id, quantity=1 + index % 3))
    session.add(subscription)
    session.flush()
    return subscription


def _create_invoices(
    session: Session,
    rng: random.Random,
    customer: Customer,
    subscription: Subscription,
    price: Price,
    status: SubscriptionStatus,
    now: datetime,
) -> None:
    merchant = session.get_one(Merchant, customer.merchant_id)
    quantity = subscription.items[0].quantity
    months = 12 if price.interval == PriceInterval.MONTH else 1
    for month in range(months, 0, -1):
        issued = subscription.current_period_start - timedelta(days=30 * (month - 1))
        if month == 1 and status in (SubscriptionStatus.PAST_DUE, SubscriptionStatus.UNPAID):
            invoice_status = InvoiceStatus.OPEN
        elif rng.random() < 0.04:
            invoice_status = InvoiceStatus.VOID
        else:
            invoice_status = InvoiceStatus.PAID
        if status == SubscriptionStatus.TRIALING:
            break
        amount = price.unit_amount * quantity
        invoice = Invoice(
            merchant_id=merchant.id,
            customer_id=customer.id,
            subscription_id=subscription.id,
            number=f"{merchant.invoice_prefix}-{merchant.next_invoice_number:05d}",
            status=invoice_status,
            currency=price.currency,
            subtotal=amount,
            tax=0,
            total=amount,
            amount_due=0 if invoice_status == InvoiceStatus.PAID else amount,
            amount_paid=amount if invoice_status == InvoiceStatus.PAID else 0,
            period_start=issued,
            period_end=issued + timedelta(days=30 if months == 12 else 365),
            created_at=issued,
            due_at=issued + timedelta(days=7),
            paid_at=issued + timedelta(hours=1) if invoice_status == InvoiceStatus.PAID else None,
        )
        merchant.next_invoice_number += 1
        invoice.lines.append(
            InvoiceLine(
                description=f"{quantity} × {price.nickname}",
                quantity=quantity,
                unit_amount=price.unit_amount,
                amount=amount,
                price_id=price.id,
                period_start=invoice.period_start,
                period_end=invoice.period_end,
            )
        )
        session.add(invoice)
