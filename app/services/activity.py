"""The merchant-wide audit trail: events filtered by type and customer, newest first, a page at a time."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.enums import EventType
from app.models import Customer, Event
from app.services.customers import event_view, find_customer
from app.views import EventPage

PAGE_SIZE = 25


def event_types_in_use(*, session: Session, merchant_id: str) -> tuple[str, ...]:
    """The catalogue's event types plus any other type this merchant's trail holds, sorted."""
    recorded = session.scalars(select(Event.type).where(Event.merchant_id == merchant_id).distinct())
    return tuple(sorted({*EventType, *recorded}))


def customers_matching(*, session: Session, merchant_id: str, key: str) -> tuple[str, ...]:
    """Ids of this merchant's customers with this `cus_…` id or email (empty when none)."""
    return tuple(customer_id for _, customer_id in find_customer(session=session, key=key, merchant_id=merchant_id))


def list_events(
    *,
    session: Session,
    merchant_id: str,
    event_type: str | None = None,
    customer_ids: Sequence[str] | None = None,
    page: int = 1,
    page_size: int = PAGE_SIZE,
) -> EventPage:
    """One page of the merchant's events; `customer_ids=()` matches nothing, `None` does not filter."""
    page = max(page, 1)
    query = (
        select(Event, Customer.name, Customer.email)
        .outerjoin(Customer, Customer.id == Event.customer_id)
        .where(Event.merchant_id == merchant_id)
    )
    if event_type:
        query = query.where(Event.type == event_type)
    if customer_ids is not None:
        query = query.where(Event.customer_id.in_(customer_ids))
    rows = session.execute(
        query.order_by(Event.created_at.desc(), Event.id.desc()).offset((page - 1) * page_size).limit(page_size + 1)
    ).all()
    events = tuple(
        event_view(event, customer_name=name or "", customer_email=email or "")
        for event, name, email in rows[:page_size]
    )
    return EventPage(events=events, page=page, has_next=len(rows) > page_size)


def retention_counts(*, session: Session, merchant_id: str) -> tuple[int, int]:
    """How many retention offers this merchant's customers were made, and how many they accepted."""
    offered, accepted = (
        EventType.CUSTOMER_SUBSCRIPTION_RETENTION_OFFERED,
        EventType.CUSTOMER_SUBSCRIPTION_RETENTION_ACCEPTED,
    )
    rows = session.execute(
        select(Event.type, func.count())
        .where(Event.merchant_id == merchant_id, Event.type.in_((offered, accepted)))
        .group_by(Event.type)
    )
    counts = {event_type: int(count) for event_type, count in rows}
    return counts.get(offered, 0), counts.get(accepted, 0)
