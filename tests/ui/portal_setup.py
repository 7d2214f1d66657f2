"""Set-up for portal UI tests: demo customers by subscription status, links to their portal, settings changes."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import Database
from app.models import Customer, Merchant, PortalSettings, Subscription, SubscriptionStatus
from app.services.portal_links import issue_link


def acme(session: Session) -> Merchant:
    return session.scalars(select(Merchant).where(Merchant.public_business_name == "Acme Cloud")).one()


def customer_with(database: Database, status: SubscriptionStatus, *, pending_cancel: bool = False) -> str:
    """An Acme customer whose only subscription has `status`; their locale is set to en_US for stable texts."""
    with database.transaction() as session:
        customer = session.scalars(
            select(Customer)
            .join(Subscription, Subscription.customer_id == Customer.id)
            .where(
                Customer.merchant_id == acme(session).id,
                Subscription.status == status,
                Subscription.cancel_at_period_end == pending_cancel,
            )
            .order_by(Customer.id)
            .limit(1)
        ).one()
        customer.locale = "en_US"
        return customer.id


def link_path(database: Database, settings: Settings, customer_id: str) -> str:
    with database.transaction() as session:
        link = issue_link(
            session=session,
            settings=settings,
            merchant_id=acme(session).id,
            customer_id=customer_id,
            created_by="test",
        )
    return link.url.removeprefix(settings.effective_public_url)


def set_portal_settings(database: Database, **values: object) -> None:
    with database.transaction() as session:
        row = session.get_one(PortalSettings, acme(session).id)
        for name, value in values.items():
            setattr(row, name, value)


def subscription_of(database: Database, customer_id: str) -> Subscription:
    with database.transaction() as session:
        return session.scalars(select(Subscription).where(Subscription.customer_id == customer_id)).one()
