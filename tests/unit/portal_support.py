"""Shared set-up for the portal service tests: verified accesses to demo customers, an actor, the clock."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import Database
from app.models import Customer, EventSource, Merchant, PortalSettings, Subscription, SubscriptionStatus
from app.services.events import Actor
from app.services.portal_links import PortalAccess

ACTOR = Actor(source=EventSource.PORTAL, portal_link_id="pl_test", ip_address="203.0.113.9", user_agent="pytest-agent")


def merchant_id_of(session: Session, business_name: str) -> str:
    return session.scalars(select(Merchant.id).where(Merchant.public_business_name == business_name)).one()


def access_to(
    database: Database,
    business_name: str = "Acme Cloud",
    *,
    status: SubscriptionStatus = SubscriptionStatus.ACTIVE,
    cancel_pending: bool = False,
    skip: int = 0,
) -> PortalAccess:
    """A verified access for a demo customer whose (only) subscription has `status` (deterministic choice)."""
    with database.transaction() as session:
        merchant_id = merchant_id_of(session, business_name)
        customer_id = session.scalars(
            select(Customer.id)
            .join(Subscription, Subscription.customer_id == Customer.id)
            .where(
                Customer.merchant_id == merchant_id,
                Subscription.status == status,
                Subscription.cancel_at_period_end == cancel_pending,
            )
            .order_by(Customer.email)
            .offset(skip)
            .limit(1)
        ).one()
    return PortalAccess(link_id="pl_test", merchant_id=merchant_id, customer_id=customer_id, return_url="")


def set_portal_settings(database: Database, merchant_id: str, **values: object) -> None:
    with database.transaction() as session:
        row = session.get_one(PortalSettings, merchant_id)
        for name, value in values.items():
            setattr(row, name, value)
