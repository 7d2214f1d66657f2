"""The audit trail: every action on a customer's account is recorded as an Event (also the webhook outbox)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from app.clock import Clock, system_clock
from app.enums import EventSource
from app.models import Event


@dataclass(frozen=True, slots=True)
class Actor:
    """Who caused an event: the source, and for portal actions the link, IP and user agent."""

    source: EventSource
    portal_link_id: str | None = None
    ip_address: str = ""
    user_agent: str = ""


SYSTEM = Actor(source=EventSource.SYSTEM)


def record_event(
    *,
    session: Session,
    merchant_id: str,
    event_type: str,
    actor: Actor,
    customer_id: str | None = None,
    object_id: str = "",
    data: dict[str, Any] | None = None,
    clock: Clock = system_clock,
) -> Event:
    event = Event(
        merchant_id=merchant_id,
        customer_id=customer_id,
        type=event_type,
        object_id=object_id,
        data=data or {},
        source=actor.source,
        portal_link_id=actor.portal_link_id,
        ip_address=actor.ip_address[:45],
        user_agent=actor.user_agent[:300],
        created_at=clock(),
    )
    session.add(event)
    return event
