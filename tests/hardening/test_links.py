"""Bad portal links through the real page: each gets its own explanation, never the customer's data or a trace."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from nicegui.testing import User
from sqlalchemy import select

from app.config import Settings
from app.db import Database
from app.models import Customer, PortalLink
from app.services.portal_links import issue_link, revoke_all_links, signed_serializer
from tests.conftest import TEST_SECRET_KEY
from tests.ui.portal_setup import acme

NOT_VALID = "This link is not valid"
EXPIRED = "This link has expired"
REVOKED = "This link is no longer valid"
PORTAL = "Subscriptions"  # a heading only the working portal shows
ROTATED_KEY = "a-rotated-secret-key-that-is-long-enough-0123"


def _now() -> datetime:
    return datetime.now(UTC)


def _customer(database: Database, skip: int = 0) -> Customer:
    """An Acme customer whose portal is in English (the page texts below are English)."""
    with database.transaction() as session:
        customer = session.scalars(
            select(Customer).where(Customer.merchant_id == acme(session).id).order_by(Customer.id).offset(skip).limit(1)
        ).one()
        customer.locale = "en_US"
        return customer


def _token(database: Database, settings: Settings, customer_id: str, clock: Callable[[], datetime] = _now) -> str:
    with database.transaction() as session:
        link = issue_link(
            session=session,
            settings=settings,
            merchant_id=acme(session).id,
            customer_id=customer_id,
            created_by="test",
            clock=clock,
        )
    return link.url.rsplit("/portal/", 1)[1]


def _changed(token: str, position: int) -> str:
    return token[:position] + ("A" if token[position] != "A" else "B") + token[position + 1 :]


async def _shows(user: User, token: str, expected: str, customer: Customer) -> None:
    response = await user.http_client.get(f"/portal/{token}")
    assert response.status_code == 200, token
    assert expected in response.text, token
    if expected != PORTAL:
        assert PORTAL not in response.text and customer.email not in response.text, token
    assert "Traceback" not in response.text and "BadSignature" not in response.text


async def test_each_kind_of_bad_link_gets_its_page_and_reveals_nothing(
    user: User, database: Database, settings: Settings
) -> None:
    customer = _customer(database)
    good = _token(database, settings, customer.id)
    foreign_key = settings.model_copy(update={"secret_key": "another-merchants-secret-key-0123456789abc"})
    with database.transaction() as session:
        link_id = session.scalars(select(PortalLink.id).where(PortalLink.customer_id == customer.id)).first()
    cases = {
        "truncated": (good[:-5], NOT_VALID),
        "payload character changed": (_changed(good, 3), NOT_VALID),
        "signature character changed": (_changed(good, len(good) - 4), NOT_VALID),
        "signed with another key": (signed_serializer(foreign_key, _now).dumps(link_id), NOT_VALID),
        "signed link id that does not exist": (signed_serializer(settings, _now).dumps("pl_doesnotexist"), NOT_VALID),
        "garbage": ("not-a-token", NOT_VALID),
        "very long": ("x" * 4000, NOT_VALID),
        "expired": (_token(database, settings, customer.id, clock=lambda: _now() - timedelta(days=2)), EXPIRED),
    }
    for token, expected in cases.values():
        await _shows(user, token, expected, customer)
    await _shows(user, good, PORTAL, customer)  # the good link still works after all the bad attempts
    for path in ("/portal/", "/portal/..%2F..%2Fetc%2Fpasswd"):  # empty, or not a single path segment
        response = await user.http_client.get(path)
        assert response.status_code == 404 and customer.email not in response.text


async def test_revoked_reused_after_revoke_all_and_deleted_customer_links_stop(
    user: User, database: Database, settings: Settings
) -> None:
    customer, gone = _customer(database), _customer(database, skip=1)
    first, second = (_token(database, settings, customer.id) for _ in range(2))
    gone_token = _token(database, settings, gone.id)
    for token in (first, second, gone_token):
        await _shows(user, token, PORTAL, customer if token != gone_token else gone)
    with database.transaction() as session:
        assert revoke_all_links(session=session, merchant_id=acme(session).id, customer_id=customer.id) == 2
        session.get_one(Customer, gone.id).deleted_at = _now()
    for token in (first, second):
        await _shows(user, token, REVOKED, customer)
    await _shows(user, gone_token, REVOKED, gone)
    await _shows(user, _token(database, settings, customer.id), PORTAL, customer)  # a new link works again


@pytest.fixture
def rotated_with_fallback(monkeypatch: pytest.MonkeyPatch, app_env: Path) -> None:
    monkeypatch.setenv("SECRET_KEY", ROTATED_KEY)
    monkeypatch.setenv("SECRET_KEY_FALLBACKS", TEST_SECRET_KEY)


@pytest.fixture
def rotated_without_fallback(monkeypatch: pytest.MonkeyPatch, app_env: Path) -> None:
    monkeypatch.setenv("SECRET_KEY", ROTATED_KEY)
    monkeypatch.delenv("SECRET_KEY_FALLBACKS", raising=False)


async def test_after_a_key_rotation_old_links_work_while_the_old_key_is_a_fallback(
    rotated_with_fallback: None, user: User, database: Database, settings: Settings
) -> None:
    customer = _customer(database)
    await _shows(user, _token(database, settings, customer.id), PORTAL, customer)
    rotated = settings.model_copy(update={"secret_key": ROTATED_KEY, "secret_key_fallbacks": [TEST_SECRET_KEY]})
    await _shows(user, _token(database, rotated, customer.id), PORTAL, customer)


async def test_once_the_old_key_is_removed_its_links_are_not_valid(
    rotated_without_fallback: None, user: User, database: Database, settings: Settings
) -> None:
    customer = _customer(database)
    await _shows(user, _token(database, settings, customer.id), NOT_VALID, customer)
