"""Who a page records as the cause of the events it leads to: the merchant's team, or the customer of a request;
and where a request came from."""

from __future__ import annotations

from starlette.requests import Request

from app.enums import EventSource
from app.services.events import Actor

MERCHANT = Actor(source=EventSource.MERCHANT)


def client_address(request: Request) -> str:
    """The IP address a request came from (from X-Forwarded-For when a trusted proxy sent it)."""
    return request.client.host if request.client else ""


def portal_actor(request: Request) -> Actor:
    """The customer behind a portal request: their IP address and browser, recorded on every event they cause."""
    return Actor(
        source=EventSource.PORTAL,
        ip_address=client_address(request),
        user_agent=request.headers.get("user-agent", ""),
    )
