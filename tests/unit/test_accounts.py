from dataclasses import replace
from datetime import timedelta

import pytest

from app.db import Database
from app.errors import LoginLocked, ValidationFailed
from app.services.accounts import MAX_FAILED_LOGINS, authenticate, create_merchant
from app.services.merchants import get_account_details, update_account_details, validate_account_details
from tests.conftest import DEMO_NOW, DEMO_PASSWORD


def _login(database: Database, email: str, password: str, minutes_later: int = 0):
    with database.transaction() as session:
        return authenticate(
            session=session,
            email=email,
            password=password,
            client_address="198.51.100.7",
            clock=lambda: DEMO_NOW + timedelta(minutes=minutes_later),
        )


def test_right_password_signs_in_and_wrong_one_does_not(database: Database) -> None:
    user = _login(database, "Owner@Acme.test ", DEMO_PASSWORD)
    assert user is not None and user.email == "owner@acme.test"
    assert _login(database, "owner@acme.test", "wrong-password") is None
    assert _login(database, "nobody@acme.test", DEMO_PASSWORD) is None


def test_five_failures_lock_the_email_for_fifteen_minutes_from_that_address(database: Database) -> None:
    for _ in range(MAX_FAILED_LOGINS):
        assert _login(database, "owner@acme.test", "wrong-password") is None
    with pytest.raises(LoginLocked, match="15 minutes"):
        _login(database, "owner@acme.test", DEMO_PASSWORD, minutes_later=1)
    # Another email is not affected, and the lock lifts after the window.
    assert _login(database, "owner@globex.test", DEMO_PASSWORD, minutes_later=1) is not None
    assert _login(database, "owner@acme.test", DEMO_PASSWORD, minutes_later=16) is not None


def test_unknown_emails_lock_too_so_the_answer_reveals_nothing(database: Database) -> None:
    for _ in range(MAX_FAILED_LOGINS):
        _login(database, "ghost@acme.test", "x")
    with pytest.raises(LoginLocked):
        _login(database, "ghost@acme.test", "x")


def test_create_merchant_validates_and_refuses_duplicate_email(database: Database) -> None:
    with pytest.raises(ValidationFailed) as failed, database.transaction() as session:
        create_merchant(session=session, business_name="", email="not-an-email", password="short")
    assert set(failed.value.field_errors) == {"business_name", "email", "password"}
    with pytest.raises(ValidationFailed, match="already exists"), database.transaction() as session:
        create_merchant(session=session, business_name="Copy", email="owner@acme.test", password="long-enough")
    with database.transaction() as session:
        user = create_merchant(session=session, business_name="Initech", email="boss@initech.test", password="pw-12345")
    assert _login(database, "boss@initech.test", "pw-12345") == user


def test_account_details_validation_and_update(database: Database) -> None:
    user = _login(database, "owner@acme.test", DEMO_PASSWORD)
    assert user is not None
    with database.transaction() as session:
        details = get_account_details(session=session, merchant_id=user.merchant_id)
    bad = replace(
        details,
        public_business_name="x" * 61,
        support_email="nope",
        support_phone="12",
        website="http://acme.test",
        address_country="XX",
        time_zone="Mars/Olympus",
    )
    assert set(validate_account_details(bad)) == {
        "public_business_name",
        "support_email",
        "support_phone",
        "website",
        "address_country",
        "time_zone",
    }
    assert "required" in validate_account_details(replace(details, public_business_name="  "))["public_business_name"]
    with pytest.raises(ValidationFailed), database.transaction() as session:
        update_account_details(session=session, details=bad)
    good = replace(
        details, public_business_name=" Acme Cloud Inc ", support_phone="+14155550132", website="https://acme.test"
    )
    with database.transaction() as session:
        saved = update_account_details(session=session, details=good)
    assert saved.public_business_name == "Acme Cloud Inc"
    assert saved.support_phone == "+1 415-555-0132"
    with database.transaction() as session:
        assert get_account_details(session=session, merchant_id=user.merchant_id) == saved
