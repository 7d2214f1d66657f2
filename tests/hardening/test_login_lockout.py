"""Password guessing locks out the guesser, not the merchant: the lock is per account and client address, and the
account as a whole is only slowed down (OWASP's advice). Unknown emails behave exactly like known ones.

Before, five wrong passwords from anywhere locked the merchant out for everyone for 15 minutes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from nicegui.testing import User

from app.db import Database
from app.errors import LoginLocked
from app.models import LoginFailure
from app.services import accounts
from app.services.accounts import (
    ACCOUNT_SLOWDOWN_AFTER,
    MAX_FAILED_LOGINS,
    SLOWDOWN_SECONDS,
    authenticate,
    sign_in_delay,
)
from app.views import SignedInUser
from tests.conftest import DEMO_NOW, DEMO_PASSWORD
from tests.ui.conftest import log_in

ATTACKER = "203.0.113.66"
MERCHANT = "198.51.100.7"


def sign_in(database: Database, email: str, password: str, address: str, minutes: int = 0) -> SignedInUser | None:
    with database.transaction() as session:
        return authenticate(
            session=session,
            email=email,
            password=password,
            client_address=address,
            clock=lambda: DEMO_NOW + timedelta(minutes=minutes),
        )


def delay(database: Database, email: str) -> float:
    with database.transaction() as session:
        return sign_in_delay(session=session, email=email, clock=lambda: DEMO_NOW + timedelta(minutes=1))


@pytest.mark.parametrize("email", ["owner@acme.test", "nobody@acme.test"])
def test_failures_lock_out_their_own_address_only(database: Database, email: str) -> None:
    for _ in range(MAX_FAILED_LOGINS):
        assert sign_in(database, email, "guess", ATTACKER) is None
    with pytest.raises(LoginLocked):
        sign_in(database, email, DEMO_PASSWORD, ATTACKER, minutes=1)
    if email == "owner@acme.test":
        assert sign_in(database, email, DEMO_PASSWORD, MERCHANT, minutes=1) is not None
    else:
        assert sign_in(database, email, "guess", MERCHANT, minutes=1) is None  # a plain "wrong", not "locked"


def test_the_merchant_s_sign_in_does_not_unlock_the_attacker(database: Database) -> None:
    for _ in range(MAX_FAILED_LOGINS):
        sign_in(database, "owner@acme.test", "guess", ATTACKER)
    assert sign_in(database, "owner@acme.test", DEMO_PASSWORD, MERCHANT, minutes=1) is not None
    with pytest.raises(LoginLocked):
        sign_in(database, "owner@acme.test", "guess", ATTACKER, minutes=2)


@pytest.mark.parametrize("email", ["owner@acme.test", "nobody@acme.test"])
def test_guessing_from_many_addresses_slows_the_account_but_never_locks_it(database: Database, email: str) -> None:
    assert delay(database, email) == 0
    for number in range(ACCOUNT_SLOWDOWN_AFTER):
        sign_in(database, email, "guess", f"203.0.113.{number}")
    assert delay(database, email) == SLOWDOWN_SECONDS
    assert delay(database, "owner@globex.test") == 0  # other accounts are not slowed
    outcome = sign_in(database, email, DEMO_PASSWORD, MERCHANT, minutes=1)
    assert (outcome is not None) is (email == "owner@acme.test")


async def test_under_attack_from_many_addresses_the_merchant_still_signs_in(
    user: User, app_database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through the login page: the account is slowed (a shorter wait here), the merchant is not locked out."""
    monkeypatch.setattr(accounts, "SLOWDOWN_SECONDS", 0.2)
    now = datetime.now(UTC)
    with app_database.transaction() as session:
        for number in range(ACCOUNT_SLOWDOWN_AFTER):
            session.add(LoginFailure(email="owner@acme.test", client_address=f"203.0.113.{number}", created_at=now))
    await log_in(user, then="/customers")
    await user.should_see("Customers")
