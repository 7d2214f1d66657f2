"""Who a page records as the cause of the events it leads to: the merchant's team, or the customer of a request."""

from __future__ import annotations

from starlette.requests import Request

from app.enums import EventSource
from app.services.events import Actor

MERCHANT = Actor(source=EventSource.MERCHANT)


def portal_actor(request: Request) -> Actor:
    """The customer behind a portal request: their IP address and browser, recorded on every event they cause."""
    return Actor(
        source=EventSource.PORTAL,
        ip_address=request.client.host if request.client else "",
        user_agent=request.headers.get("user-agent", ""),
    )
