"""Merchant handles: the last part of each merchant's sign-in address, unique and checked when saved."""

from dataclasses import replace

import pytest
from sqlalchemy import select

from app.config import Settings
from app.db import Database
from app.errors import ValidationFailed
from app.models import Merchant
from app.services.accounts import create_merchant
from app.services.merchants import (
    HANDLE_TAKEN,
    get_account_details,
    sign_in_address,
    update_account_details,
    validate_account_details,
)
from app.validation import check_handle, handle_from_name


def _merchant_id(database: Database, handle: str) -> str:
    with database.transaction() as session:
        return session.scalars(select(Merchant.id).where(Merchant.handle == handle)).one()


def test_demo_merchants_have_their_handles(database: Database) -> None:
    with database.transaction() as session:
        assert get_account_details(session=session, merchant_id=_merchant_id(database, "acme")).handle == "acme"
        assert get_account_details(session=session, merchant_id=_merchant_id(database, "globex")).handle == "globex"


@pytest.mark.parametrize(
    ("handle", "valid"),
    [
        ("acme", True),
        ("acme-cloud-2", True),
        ("a1", True),
        ("a", False),
        ("", False),
        ("Acme", False),
        ("acme_cloud", False),
        ("-acme", False),
        ("acme-", False),
        ("acme cloud", False),
        ("x" * 41, False),
        ("ünï", False),
        ("../admin", False),
    ],
)
def test_a_handle_is_lower_case_letters_digits_and_hyphens(handle: str, valid: bool) -> None:
    assert (check_handle(handle) is None) == valid


def test_a_typed_handle_is_saved_in_lower_case(database: Database) -> None:
    merchant_id = _merchant_id(database, "acme")
    with database.transaction() as session:
        details = get_account_details(session=session, merchant_id=merchant_id)
        assert validate_account_details(replace(details, handle=" Acme-Hosting ")) == {}
        saved = update_account_details(session=session, details=replace(details, handle=" Acme-Hosting "))
    assert saved.handle == "acme-hosting"


def test_another_merchants_handle_is_refused_with_a_clear_error(database: Database) -> None:
    merchant_id = _merchant_id(database, "acme")
    with database.transaction() as session:
        details = get_account_details(session=session, merchant_id=merchant_id)
    with pytest.raises(ValidationFailed) as refused, database.transaction() as session:
        update_account_details(session=session, details=replace(details, handle="globex"))
    assert refused.value.field_errors == {"handle": HANDLE_TAKEN}
    with database.transaction() as session:  # nothing changed
        assert get_account_details(session=session, merchant_id=merchant_id).handle == "acme"


def test_a_bad_handle_is_refused_before_saving(database: Database) -> None:
    with database.transaction() as session:
        details = get_account_details(session=session, merchant_id=_merchant_id(database, "acme"))
        assert "lower-case" in validate_account_details(replace(details, handle="acme_cloud"))["handle"]
        with pytest.raises(ValidationFailed):
            update_account_details(session=session, details=replace(details, handle="acme cloud"))


def test_new_merchants_get_a_free_handle_from_their_name(database: Database) -> None:
    with database.transaction() as session:
        first = create_merchant(
            session=session, business_name="Initech, Inc.", email="a@initech.test", password="x" * 8
        )
        second = create_merchant(session=session, business_name="Initech Inc", email="b@initech.test", password="x" * 8)
        third = create_merchant(session=session, business_name="Ω", email="c@omega.test", password="x" * 8)
        handles = [
            get_account_details(session=session, merchant_id=user.merchant_id).handle for user in (first, second, third)
        ]
    assert handles == ["initech-inc", "initech-inc-2", "shop"]
    assert handle_from_name("  Acme -- Cloud! ") == "acme-cloud"


def test_the_sign_in_address_is_under_the_public_url(settings: Settings) -> None:
    configured = settings.model_copy(update={"public_url": "https://billing.example.com"})
    assert sign_in_address(configured, "acme") == "https://billing.example.com/p/login/acme"
