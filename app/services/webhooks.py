"""Webhooks: merchants' endpoints, and delivery of the Event outbox to them, signed, retried, resumable after a crash.

Delivery state lives in the database. `dispatch_events` turns each new event into one pending delivery per subscribed
endpoint (and marks the event dispatched in the same transaction); `deliver_due` sends pending deliveries whose time
has come. A delivery is claimed before sending (its next attempt is pushed past `CLAIM_TIMEOUT`), so two processes
never send it at once, and a process that dies mid-send leaves it to be retried. Delivery is at least once:
receivers should ignore an event id they have already handled.
"""

from __future__ import annotations

import base64
import json
import secrets
import ssl
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from urllib.parse import urlsplit, urlunsplit

import httpcore
import httpx
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from app.clock import Clock
from app.db import Database
from app.enums import EventType, WebhookDeliveryStatus
from app.errors import NotFound, ValidationFailed
from app.models import Event, WebhookDelivery, WebhookEndpoint
from app.public_network import PublicNetworkBackend, canonical_host, is_loopback_host, is_public_host, numeric_host
from app.validation import check_https_url, check_length
from app.views import (
    ALL_EVENTS,
    MAX_DELIVERY_ATTEMPTS,
    WebhookDeliveryPage,
    WebhookDeliveryView,
    WebhookEndpointSecret,
    WebhookEndpointView,
)
from app.webhook_signature import SIGNATURE_HEADER, signature_header

MAX_ENDPOINTS = 16
TIMEOUT_SECONDS = 10.0
CLAIM_TIMEOUT = timedelta(seconds=60)
SECRET_OVERLAP = timedelta(hours=24)
USER_AGENT = "SubscriptionPortal-Webhooks/1.0"
NOT_DELIVERED = (
    f"Could not deliver: the endpoint could not be reached or did not answer within {TIMEOUT_SECONDS:.0f} seconds."
)


def retry_delay(attempts: int) -> timedelta:
    """Wait after the `attempts`-th failure: 1, 2, 4 … 256 minutes, then 6 hours; 12 attempts span about 20 hours."""
    return min(timedelta(minutes=2 ** (attempts - 1)), timedelta(hours=6))


def check_endpoint_url(url: str, *, allow_insecure: bool) -> str | None:
    """An https URL on a public host; with ALLOW_INSECURE_WEBHOOKS=1 also this machine (http or https), nothing else.

    Numeric hosts count in every form a resolver reads (`https://2130706433/` is 127.0.0.1); where a name really
    leads is checked again when each request is sent (`app.public_network`).
    """
    if error := check_length(url, 300, required=True):
        return error
    scheme, host = _scheme_and_host(url)
    local = is_loopback_host(host)
    if scheme == "http" and allow_insecure and local:
        return None
    if check_https_url(url) or not host:
        if scheme == "http" and allow_insecure:
            return "Plain http:// is only allowed for http://127.0.0.1 or http://localhost."
        return "Enter a full https:// address, like https://example.com/webhooks."
    if not (is_public_host(host) or (local and allow_insecure)):
        return "This address is on a private network; use a public https:// address."
    return None


def normalized_endpoint_url(url: str) -> str:
    """`url` with its host as resolvers read it: `https://0x5db8d822/hooks` is stored as `https://93.184.216.34/hooks`."""
    parts = urlsplit(url)
    _, host = _scheme_and_host(url)
    if not host or numeric_host(host) is None:
        return url
    userinfo, _, _ = parts.netloc.rpartition("@")
    port = f":{parts.port}" if parts.port is not None else ""
    netloc = f"{userinfo}@" if userinfo else ""
    return urlunsplit((parts.scheme, f"{netloc}{canonical_host(host)}{port}", parts.path, parts.query, parts.fragment))


def _scheme_and_host(url: str) -> tuple[str, str]:
    """The scheme and host of `url` (empty when it cannot be parsed, e.g. a port out of range)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        return "", ""
    return parts.scheme, parts.hostname or ""


def _validated(
    url: str, description: str, event_types: Iterable[str], *, allow_insecure: bool
) -> tuple[str, tuple[str, ...]]:
    """The URL to store (numeric host normalised) and the event types, or ValidationFailed."""
    url = normalized_endpoint_url(url)
    chosen = tuple(dict.fromkeys(event_types))
    errors: dict[str, str] = {}
    if error := check_endpoint_url(url, allow_insecure=allow_insecure):
        errors["url"] = error
    if error := check_length(description, 200):
        errors["description"] = error
    if not chosen:
        errors["event_types"] = "Choose at least one event type, or all events."
    elif any(t != ALL_EVENTS and t not in EventType._value2member_map_ for t in chosen):
        errors["event_types"] = "Unknown event type."
    if errors:
        raise ValidationFailed(errors)
    return url, ((ALL_EVENTS,) if ALL_EVENTS in chosen else chosen)


def new_signing_secret() -> str:
    return f"whsec_{secrets.token_urlsafe(32)}"


def _endpoint_view(endpoint: WebhookEndpoint) -> WebhookEndpointView:
    return WebhookEndpointView(
        id=endpoint.id,
        url=endpoint.url,
        description=endpoint.description,
        event_types=tuple(endpoint.event_types),
        enabled=endpoint.enabled,
        created_at=endpoint.created_at,
    )


def _owned_endpoint(session: Session, merchant_id: str, endpoint_id: str) -> WebhookEndpoint:
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or endpoint.merchant_id != merchant_id:
        raise NotFound("No such webhook endpoint.")
    return endpoint


def list_endpoints(*, session: Session, merchant_id: str) -> tuple[WebhookEndpointView, ...]:
    endpoints = session.scalars(
        select(WebhookEndpoint).where(WebhookEndpoint.merchant_id == merchant_id).order_by(WebhookEndpoint.created_at)
    )
    return tuple(_endpoint_view(endpoint) for endpoint in endpoints)


def get_endpoint(*, session: Session, merchant_id: str, endpoint_id: str) -> WebhookEndpointView:
    return _endpoint_view(_owned_endpoint(session, merchant_id, endpoint_id))


def create_endpoint(
    *,
    session: Session,
    merchant_id: str,
    url: str,
    description: str,
    event_types: Iterable[str],
    allow_insecure: bool,
    clock: Clock,
) -> WebhookEndpointSecret:
    """A new endpoint and its signing secret (the only time the secret is returned, apart from rotation)."""
    url, chosen = _validated(url.strip(), description.strip(), event_types, allow_insecure=allow_insecure)
    count = session.scalar(select(func.count()).where(WebhookEndpoint.merchant_id == merchant_id)) or 0
    if count >= MAX_ENDPOINTS:
        raise ValidationFailed({"url": f"You can have at most {MAX_ENDPOINTS} endpoints; delete one first."})
    endpoint = WebhookEndpoint(
        merchant_id=merchant_id,
        url=url,
        description=description.strip(),
        event_types=list(chosen),
        secret=new_signing_secret(),
        created_at=clock(),
    )
    session.add(endpoint)
    session.flush()
    return WebhookEndpointSecret(endpoint=_endpoint_view(endpoint), secret=endpoint.secret)


def update_endpoint(
    *,
    session: Session,
    merchant_id: str,
    endpoint_id: str,
    url: str,
    description: str,
    event_types: Iterable[str],
    enabled: bool,
    allow_insecure: bool,
) -> WebhookEndpointView:
    endpoint = _owned_endpoint(session, merchant_id, endpoint_id)
    endpoint.url, chosen = _validated(url.strip(), description.strip(), event_types, allow_insecure=allow_insecure)
    endpoint.description = description.strip()
    endpoint.event_types = list(chosen)
    endpoint.enabled = enabled
    return _endpoint_view(endpoint)


def rotate_secret(*, session: Session, merchant_id: str, endpoint_id: str, clock: Clock) -> WebhookEndpointSecret:
    """A new signing secret; for a day the old one signs too, so the receiver can switch without losing events."""
    endpoint = _owned_endpoint(session, merchant_id, endpoint_id)
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_expires_at = clock() + SECRET_OVERLAP
    endpoint.secret = new_signing_secret()
    return WebhookEndpointSecret(endpoint=_endpoint_view(endpoint), secret=endpoint.secret)


def delete_endpoint(*, session: Session, merchant_id: str, endpoint_id: str) -> None:
    endpoint = _owned_endpoint(session, merchant_id, endpoint_id)
    session.execute(delete(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id))
    session.delete(endpoint)


def _delivery_view(delivery: WebhookDelivery) -> WebhookDeliveryView:
    return WebhookDeliveryView(
        id=delivery.id,
        event_id=delivery.event_id,
        event_type=delivery.event.type,
        status=delivery.status,
        attempts=delivery.attempts,
        last_attempt_at=delivery.last_attempt_at,
        last_status_code=delivery.last_status_code,
        last_response_ms=delivery.last_response_ms,
        last_error=delivery.last_error,
        next_attempt_at=delivery.next_attempt_at,
        delivered_at=delivery.delivered_at,
        created_at=delivery.created_at,
    )


def list_deliveries(
    *, session: Session, merchant_id: str, endpoint_id: str, page: int = 1, page_size: int = 20
) -> WebhookDeliveryPage:
    """The endpoint's delivery log, newest first."""
    endpoint = _owned_endpoint(session, merchant_id, endpoint_id)
    page = max(page, 1)
    rows = session.scalars(
        select(WebhookDelivery)
        .where(WebhookDelivery.endpoint_id == endpoint.id)
        .options(joinedload(WebhookDelivery.event))
        .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc())
        .offset((page - 1) * page_size)
        .limit(page_size + 1)
    ).all()
    return WebhookDeliveryPage(
        deliveries=tuple(_delivery_view(row) for row in rows[:page_size]), page=page, has_next=len(rows) > page_size
    )


def _subscribes(endpoint: WebhookEndpoint, event_type: str) -> bool:
    return ALL_EVENTS in endpoint.event_types or event_type in endpoint.event_types


def dispatch_events(*, database: Database, now: datetime, batch: int = 500) -> int:
    """Queue a delivery per subscribed, enabled endpoint for events not dispatched yet; returns the events handled."""
    try:
        with database.transaction() as session:
            events = session.scalars(
                select(Event)
                .where(Event.dispatched_at.is_(None))
                .order_by(Event.created_at)
                .limit(batch)
                .with_for_update(skip_locked=True)
            ).all()
            if not events:
                return 0
            endpoints = session.scalars(
                select(WebhookEndpoint).where(
                    WebhookEndpoint.merchant_id.in_({event.merchant_id for event in events}), WebhookEndpoint.enabled
                )
            ).all()
            for event in events:
                for endpoint in endpoints:
                    if endpoint.merchant_id == event.merchant_id and _subscribes(endpoint, event.type):
                        session.add(
                            WebhookDelivery(
                                endpoint_id=endpoint.id,
                                event_id=event.id,
                                status=WebhookDeliveryStatus.PENDING,
                                next_attempt_at=now,
                                created_at=now,
                            )
                        )
                event.dispatched_at = now
    except IntegrityError:
        return 0  # another process dispatched the same events at the same moment
    return len(events)


def deliver_due(
    *,
    database: Database,
    clock: Clock,
    limit: int = 50,
    should_stop: Callable[[], bool] = bool,
    allow_loopback: bool = False,
) -> int:
    """Send pending deliveries whose time has come (oldest first); returns how many attempts were made.

    Requests go to public addresses only; `allow_loopback` (ALLOW_INSECURE_WEBHOOKS) adds this machine's.
    """
    with database.transaction() as session:
        due = session.execute(
            select(WebhookDelivery.id, WebhookDelivery.next_attempt_at)
            .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
            .where(
                WebhookDelivery.status == WebhookDeliveryStatus.PENDING,
                WebhookDelivery.next_attempt_at <= clock(),
                WebhookEndpoint.enabled,
            )
            .order_by(WebhookDelivery.next_attempt_at)
            .limit(limit)
        ).all()
    attempts = 0
    for delivery_id, scheduled in due:
        if should_stop():
            break
        if _attempt(database, delivery_id, scheduled, clock, allow_loopback) is not None:
            attempts += 1
    return attempts


def resend_delivery(
    *, database: Database, merchant_id: str, delivery_id: str, clock: Clock, allow_loopback: bool = False
) -> WebhookDeliveryView:
    """Send a delivery again now (the merchant's Resend); afterwards the usual retry rules apply."""
    now = clock()
    with database.transaction() as session:
        delivery = session.get(WebhookDelivery, delivery_id)
        if delivery is None:
            raise NotFound("No such delivery.")
        _owned_endpoint(session, merchant_id, delivery.endpoint_id)
        delivery.status = WebhookDeliveryStatus.PENDING
        delivery.next_attempt_at = now
    result = _attempt(database, delivery_id, now, clock, allow_loopback)
    if result is not None:
        return result
    with database.transaction() as session:  # another process is sending it right now
        return _delivery_view(session.get_one(WebhookDelivery, delivery_id))


@dataclass(frozen=True, slots=True)
class _Request:
    url: str
    body: bytes
    secrets: tuple[str, ...]


def _attempt(
    database: Database, delivery_id: str, scheduled: datetime | None, clock: Clock, allow_loopback: bool
) -> WebhookDeliveryView | None:
    """Claim, send and record one attempt; None when another process claimed the delivery first."""
    now = clock()
    with database.transaction() as session:
        claimed = session.execute(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.id == delivery_id,
                WebhookDelivery.status == WebhookDeliveryStatus.PENDING,
                WebhookDelivery.next_attempt_at == scheduled,
            )
            .values(next_attempt_at=now + CLAIM_TIMEOUT)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            return None
        delivery = session.get_one(WebhookDelivery, delivery_id)
        request = _build_request(delivery.endpoint, delivery.event, now)
    status_code, elapsed_ms, error = _post(request, now, allow_loopback)
    with database.transaction() as session:
        delivery = session.get_one(WebhookDelivery, delivery_id)
        delivery.attempts += 1
        delivery.last_attempt_at = now
        delivery.last_status_code = status_code
        delivery.last_response_ms = elapsed_ms
        delivery.last_error = error[:300]
        if status_code is not None and 200 <= status_code < 300:
            delivery.status = WebhookDeliveryStatus.DELIVERED
            delivery.delivered_at = now
            delivery.next_attempt_at = None
        elif delivery.attempts >= MAX_DELIVERY_ATTEMPTS:
            delivery.status = WebhookDeliveryStatus.FAILED
            delivery.next_attempt_at = None
        else:
            delivery.next_attempt_at = now + retry_delay(delivery.attempts)
        return _delivery_view(delivery)


def event_payload(event: Event) -> bytes:
    """The JSON body sent for an event: `{id, type, created, data, source}`."""
    body = {
        "id": event.id,
        "type": event.type,
        "created": int(event.created_at.timestamp()),
        "data": event.data,
        "source": event.source.value,
    }
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def _build_request(endpoint: WebhookEndpoint, event: Event, now: datetime) -> _Request:
    signing = [endpoint.secret]
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret and expires is not None and expires > now:
        signing.append(endpoint.previous_secret)
    return _Request(url=endpoint.url, body=event_payload(event), secrets=tuple(signing))


def _post(request: _Request, now: datetime, allow_loopback: bool) -> tuple[int | None, int, str]:
    """POST the signed body to a public address (see `app.public_network`); (status code or None, ms, error text).

    Every failure before an HTTP answer (a refused address, a name that does not resolve, a closed port, TLS, no
    answer in time) gives the same text, so the delivery log tells nothing about the network behind the URL.
    """
    url = httpx.URL(request.url)
    headers = [
        ("Content-Type", "application/json"),
        ("User-Agent", USER_AGENT),
        (SIGNATURE_HEADER, signature_header(request.body, request.secrets, int(now.timestamp()))),
    ]
    if url.username or url.password:
        credentials = base64.b64encode(f"{url.username}:{url.password}".encode()).decode()
        headers.append(("Authorization", f"Basic {credentials}"))
    target = httpcore.URL(scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path)
    timeouts = dict.fromkeys(("connect", "read", "write", "pool"), TIMEOUT_SECONDS)
    started = time.perf_counter()
    backend = PublicNetworkBackend(allow_loopback=allow_loopback)
    try:
        with (
            httpcore.ConnectionPool(ssl_context=_ssl_context(), network_backend=backend) as pool,
            pool.stream(
                "POST", target, headers=headers, content=request.body, extensions={"timeout": timeouts}
            ) as sent,
        ):
            status_code = sent.status  # the body is never read: a receiver cannot make us download anything
    except (httpcore.TimeoutException, httpcore.NetworkError, httpcore.ProtocolError, httpcore.UnsupportedProtocol):
        return None, _elapsed_ms(started), NOT_DELIVERED
    error = "" if 200 <= status_code < 300 else f"The endpoint answered HTTP {status_code}."
    return status_code, _elapsed_ms(started), error


@cache
def _ssl_context() -> ssl.SSLContext:
    """Certificates verified against certifi's authorities for the URL's host name, as httpx does."""
    return httpx.create_ssl_context()


def _elapsed_ms(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)
