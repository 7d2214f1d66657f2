"""The audit trail: every action on a customer's account is recorded as an Event (also the webhook outbox).

An event's `data` has one shape per type: `{"object": <the resource as the API returns it>}`, plus
`"previous_attributes"` (the old values of the fields that changed) on `*.updated` types. Who caused it (source, link,
IP address, user agent) is kept in the event's own columns, never in `data`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from app.clock import Clock, system_clock
from app.enums import EventSource, EventType
from app.models import Event
from app.services.api_objects import ApiObject


@dataclass(frozen=True, slots=True)
class Actor:
    """Who caused an event: the source, and for portal actions the link, IP and user agent."""

    source: EventSource
    portal_link_id: str | None = None
    ip_address: str = ""
    user_agent: str = ""


SYSTEM = Actor(source=EventSource.SYSTEM)


def event_data(event_type: EventType, resource: ApiObject, previous: ApiObject | None = None) -> dict[str, Any]:
    """`{"object": …}` for the type's resource; on updates also `"previous_attributes"`, diffed from `previous`
    (the same resource before the change). A resource of another kind, or a missing or surplus `previous`, is a
    programming error and raises TypeError."""
    if resource.object != event_type.resource:
        raise TypeError(f"{event_type} carries a {event_type.resource}, not a {resource.object}")
    if event_type.is_update != (previous is not None):
        raise TypeError(f"{event_type} {'needs' if event_type.is_update else 'takes no'} previous attributes")
    data: dict[str, Any] = {"object": resource.model_dump(mode="json")}
    if previous is not None:
        if type(previous) is not type(resource) or previous.id != resource.id:
            raise TypeError("previous must be the same resource before the change")
        changed = {name for name in type(resource).model_fields if getattr(previous, name) != getattr(resource, name)}
        data["previous_attributes"] = previous.model_dump(mode="json", include=changed)
    return data


def event_values(
    *,
    merchant_id: str,
    customer_id: str | None,
    event_type: EventType,
    resource: ApiObject,
    previous: ApiObject | None = None,
    actor: Actor,
    created_at: datetime,
) -> dict[str, Any]:
    """The columns of an Event recording `resource` (as it is now); see `event_data` for `previous`."""
    return event_row(
        merchant_id=merchant_id,
        customer_id=customer_id,
        event_type=event_type,
        object_id=resource.id,
        data=event_data(event_type, resource, previous),
        actor=actor,
        created_at=created_at,
    )


def event_row(
    *,
    merchant_id: str,
    customer_id: str | None,
    event_type: EventType,
    object_id: str,
    data: dict[str, Any],
    actor: Actor,
    created_at: datetime,
) -> dict[str, Any]:
    """The columns of an Event whose `data` is made already (as `event_data` makes it)."""
    return {
        "merchant_id": merchant_id,
        "customer_id": customer_id,
        "type": event_type.value,
        "object_id": object_id,
        "data": data,
        "source": actor.source,
        "portal_link_id": actor.portal_link_id,
        "ip_address": actor.ip_address[:45],
        "user_agent": actor.user_agent[:300],
        "created_at": created_at,
    }


def record_event(
    *,
    session: Session,
    merchant_id: str,
    customer_id: str | None,
    event_type: EventType,
    resource: ApiObject,
    previous: ApiObject | None = None,
    actor: Actor,
    clock: Clock = system_clock,
) -> Event:
    """Record that `resource` (as it is now) was created, changed or removed; see `event_data` for `previous`."""
    event = Event(
        **event_values(
            merchant_id=merchant_id,
            customer_id=customer_id,
            event_type=event_type,
            resource=resource,
            previous=previous,
            actor=actor,
            created_at=clock(),
        )
    )
    session.add(event)
    return event
