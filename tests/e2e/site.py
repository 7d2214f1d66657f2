"""A server of a browser test module's own, with every portal feature on, and portal links to its demo customers."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from playwright.sync_api import Page
from sqlalchemy import select

from app.config import load_settings
from app.db import Database
from app.models import (
    Customer,
    Merchant,
    PaymentMethod,
    PortalSettings,
    Price,
    Subscription,
    SubscriptionStatus,
    utcnow,
)
from app.services.portal_links import issue_link, revoke_link
from tests.conftest import TEST_SECRET_KEY
from tests.e2e.conftest import running_server

MERCHANT = "Acme Cloud"


@dataclass(frozen=True)
class Site:
    url: str
    database: Database

    def merchant_id(self) -> str:
        with self.database.transaction() as session:
            return session.scalars(select(Merchant.id).where(Merchant.public_business_name == MERCHANT)).one()

    def set_portal_settings(self, **values: object) -> None:
        with self.database.transaction() as session:
            row = session.get_one(PortalSettings, self.merchant_id())
            for name, value in values.items():
                setattr(row, name, value)


@contextmanager
def own_site(data_dir: Path) -> Iterator[Site]:
    """The demo server on `data_dir`, its Acme portal with every feature on (so every section and dialog opens;
    the retention offer is made when a customer first clicks Cancel subscription).

    Its billing clock is off: tests move subscriptions through time themselves (`app.services.billing.advance`).
    """
    with running_server(data_dir, BILLING_CLOCK_INTERVAL_SECONDS="0") as server:
        site = Site(server.url, Database(f"sqlite:///{data_dir / 'portal.db'}"))
        with site.database.transaction() as session:
            prices = list(
                session.scalars(select(Price.id).where(Price.merchant_id == site.merchant_id(), Price.active))
            )
        site.set_portal_settings(
            plan_switching=True,
            switchable_price_ids=prices,
            pause_subscriptions=True,
            resubscribe=True,
            resubscribe_price_choice=True,
            retention_offer=True,
        )
        yield site
        site.database.dispose()


def customer_id(site: Site, status: SubscriptionStatus = SubscriptionStatus.ACTIVE, skip: int = 0) -> str:
    """An Acme customer whose subscription has `status` and does not cancel at period end (by email)."""
    with site.database.transaction() as session:
        return session.scalars(
            select(Customer.id)
            .join(Subscription, Subscription.customer_id == Customer.id)
            .join(Merchant, Merchant.id == Customer.merchant_id)
            .where(
                Merchant.public_business_name == MERCHANT,
                Subscription.status == status,
                Subscription.cancel_at_period_end.is_(False),
            )
            .order_by(Customer.email)
            .offset(skip)
            .limit(1)
        ).one()


def portal_link(
    site: Site,
    status: SubscriptionStatus = SubscriptionStatus.ACTIVE,
    *,
    skip: int = 0,
    locale: str = "en_US",
    age: timedelta = timedelta(0),
    revoked: bool = False,
) -> str:
    """The path of a new portal link for a customer with `status` (in `locale`), issued `age` ago, maybe revoked."""
    settings = load_settings(secret_key=TEST_SECRET_KEY, _env_file=None)
    customer = customer_id(site, status, skip)
    issued_at = utcnow() - age
    with site.database.transaction() as session:
        merchant_id = session.get_one(Customer, customer).merchant_id
        session.get_one(Customer, customer).locale = locale
        link = issue_link(
            session=session,
            settings=settings,
            merchant_id=merchant_id,
            customer_id=customer,
            created_by="e2e",
            clock=lambda: issued_at,
        )
        if revoked:
            revoke_link(session=session, merchant_id=merchant_id, link_id=link.id)
    return link.url.removeprefix(settings.effective_public_url)


def set_card(site: Site, customer: str, last4: str) -> None:
    """Make the customer's default card one the test gateway answers by its last 4 digits."""
    with site.database.transaction() as session:
        for card in session.scalars(select(PaymentMethod).where(PaymentMethod.customer_id == customer)):
            card.last4, card.gateway = last4, "test"


def forget_retention_offer(site: Site, customer: str) -> None:
    """As if the customer's subscription had never been made the retention offer (so it is made again)."""
    with site.database.transaction() as session:
        for subscription in session.scalars(select(Subscription).where(Subscription.customer_id == customer)):
            subscription.retention_offered_at = subscription.retention_accepted_at = None
            subscription.discount_kind, subscription.discount_invoices_left = None, 0


def shoot(page: Page, name: str) -> None:
    """Full-page screenshots at 1280 and 375 px into `SCREENSHOT_DIR` when it is set (to look at, never to commit)."""
    folder = os.environ.get("SCREENSHOT_DIR")
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    for width, height in ((1280, 900), (375, 812)):
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=str(Path(folder) / f"{name}-{width}.png"), full_page=True)
    if size:
        page.set_viewport_size(size)
