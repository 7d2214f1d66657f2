"""`python -m app portal-link EMAIL_OR_CUS_ID [--merchant ID]` prints a working link and its expiry."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from app.__main__ import main
from app.config import Settings
from app.db import Database
from app.models import Customer
from app.services.portal_links import open_link
from tests.unit.portal_support import merchant_id_of


@pytest.fixture
def customer(database: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Customer:
    """An Acme customer; the environment points the CLI at this test's database (SQLite or PostgreSQL)."""
    monkeypatch.setenv("DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("DATABASE_URL", settings.effective_database_url)
    monkeypatch.setenv("SECRET_KEY", settings.secret_key)
    with database.transaction() as session:
        acme = merchant_id_of(session, "Acme Cloud")
        return session.scalars(select(Customer).where(Customer.merchant_id == acme).limit(1)).one()


def test_prints_a_link_that_opens_the_customers_portal(
    customer: Customer, database: Database, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["portal-link", customer.email.upper()]) == 0
    url, expiry = capsys.readouterr().out.splitlines()
    assert url.startswith(f"{settings.effective_public_url}/portal/")
    assert expiry.startswith("Valid until ") and ("EST" in expiry or "EDT" in expiry)  # Acme's New York time
    with database.transaction() as session:
        access = open_link(session=session, settings=settings, token=url.rsplit("/", 1)[1])
    assert access.customer_id == customer.id


def test_json_output_for_scripts(customer: Customer, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["portal-link", customer.id, "--merchant", customer.merchant_id, "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["customer"] == customer.id
    assert printed["id"].startswith("pl_") and "/portal/" in printed["url"]
    assert set(printed) == {"id", "url", "expires_at", "customer"}


def test_unknown_and_ambiguous_customers_are_explained(
    customer: Customer, database: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["portal-link", "nobody@example.com"]) == 1
    assert "No customer matches" in capsys.readouterr().err
    assert main(["portal-link", customer.id, "--merchant", "acct_someoneelse"]) == 1
    with database.transaction() as session:
        globex = merchant_id_of(session, "Globex")
        session.add(Customer(merchant_id=globex, name="Same Email", email=customer.email))
    assert main(["portal-link", customer.email]) == 2
    error = capsys.readouterr().err
    assert "--merchant" in error and customer.merchant_id in error and globex in error
    assert main(["portal-link", customer.email, "--merchant", globex]) == 0
