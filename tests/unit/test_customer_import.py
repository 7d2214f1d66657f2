"""CSV import: whole-file checks that name every bad line, --skip-invalid, re-import as a no-op, BOM and semicolons."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.__main__ import main
from app.config import Settings
from app.customer_csv import COLUMNS, Problem
from app.db import Database
from app.enums import EventSource, EventType, SubscriptionStatus
from app.gateways.base import PaymentGateway
from app.models import Customer, Event, Merchant, Subscription
from app.services import customer_import
from app.services.accounts import create_merchant
from app.services.catalog import PriceTerms, create_price, create_product
from app.services.customer_import import ImportResult, import_customers
from app.services.customer_records import customer_changes
from app.services.events import Actor
from app.views.inputs import CustomerInput
from tests.conftest import DEMO_NOW

ACTOR = Actor(source=EventSource.MERCHANT)
TRIAL_END = (DEMO_NOW + timedelta(days=20)).date().isoformat()


@pytest.fixture
def shop(database: Database) -> tuple[str, str]:
    """A new merchant (no customers) with one monthly price: (merchant id, price id)."""
    with database.transaction() as session:
        create_merchant(session=session, business_name="Initech", email="owner@initech.test", password="x" * 12)
        merchant_id = session.scalars(select(Merchant.id).where(Merchant.public_business_name == "Initech")).one()
        product = create_product(session=session, merchant_id=merchant_id, name="Pro")
        price = create_price(
            session=session, merchant_id=merchant_id, product_id=product.id, terms=PriceTerms(2900, "EUR", "month")
        )
    return merchant_id, price.id


def _import(
    database: Database, gateway: PaymentGateway, merchant_id: str, text: str, *, skip: bool = False, bom: bool = False
) -> ImportResult:
    data = (b"\xef\xbb\xbf" if bom else b"") + text.encode()
    return import_customers(
        database=database,
        merchant_id=merchant_id,
        open_file=lambda: io.BytesIO(data),
        gateway=gateway,
        actor=ACTOR,
        clock=lambda: DEMO_NOW,
        skip_invalid=skip,
    )


def _customers(database: Database, merchant_id: str) -> dict[str, Customer]:
    with database.transaction() as session:
        rows = session.scalars(select(Customer).where(Customer.merchant_id == merchant_id)).all()
        session.expunge_all()
    return {customer.email: customer for customer in rows}


def _file(price_id: str) -> str:
    return (
        "email,name,phone,address_line1,address_city,address_postal_code,address_country,price,quantity,trial_end\n"
        f"ada@example.com,Ada Lovelace,+44 20 7946 0958,1 Main St,London,EC1A 1BB,GB,{price_id},2,{TRIAL_END}\n"
        "bob@example.com,Bob,,,,,,,,\n"
        f"carl@example.com,Carl,,Hauptstr. 1,Berlin,10115,DE,{price_id},,\n"
    )


BAD_FILE = (
    "email,name,address_city,address_country,price,trial_end\n"
    "good@example.com,Good,,,,\n"
    "not-an-email,Bad Email,,,,\n"
    "good@example.com,Again,,,,\n"
    "x@example.com,Country,Paris,XX,,\n"
    "y@example.com,Price,,,price_nope,\n"
    "z@example.com,Trial,,,{price},31/12/2026\n"
)


def test_a_file_with_bad_rows_imports_nothing_and_names_each_bad_line(
    database: Database, test_gateway: PaymentGateway, shop: tuple[str, str]
) -> None:
    merchant_id, price_id = shop
    result = _import(database, test_gateway, merchant_id, BAD_FILE.format(price=price_id))
    assert not result.imported and result.rows == 6
    assert {(p.line, p.column) for p in result.problems} == {
        (3, "email"),
        (4, "email"),
        (5, "address_line1"),  # an address needs a street
        (5, "address_country"),
        (6, "price"),
        (7, "trial_end"),
    }
    duplicate = next(p for p in result.problems if p.line == 4)
    assert duplicate.reason == "Duplicate email: line 2 has it already."
    assert "Unknown price" in next(p.reason for p in result.problems if p.line == 6)
    assert _customers(database, merchant_id) == {}


def test_skip_invalid_imports_the_valid_rows_and_reports_the_rest(
    database: Database, test_gateway: PaymentGateway, shop: tuple[str, str]
) -> None:
    merchant_id, price_id = shop
    result = _import(database, test_gateway, merchant_id, BAD_FILE.format(price=price_id), skip=True)
    assert result.imported and result.created == 1 and result.skipped == 5
    assert {p.line for p in result.problems} == {3, 4, 5, 6, 7}
    assert set(_customers(database, merchant_id)) == {"good@example.com"}


def test_import_creates_customers_and_subscriptions_and_a_second_import_changes_nothing(
    database: Database, test_gateway: PaymentGateway, shop: tuple[str, str]
) -> None:
    merchant_id, price_id = shop
    first = _import(database, test_gateway, merchant_id, _file(price_id))
    assert (first.imported, first.created, first.subscriptions_started, first.problems) == (True, 3, 2, ())
    customers = _customers(database, merchant_id)
    ada = customers["ada@example.com"]
    assert (ada.name, ada.address_city, ada.address_country, ada.phone) == (
        "Ada Lovelace",
        "London",
        "GB",
        "+44 20 7946 0958",
    )
    with database.transaction() as session:
        subscriptions = {
            s.customer_id: (s.status, s.items[0].quantity)
            for s in session.scalars(select(Subscription).where(Subscription.merchant_id == merchant_id))
        }
        events = session.scalar(select(func.count()).select_from(Event).where(Event.merchant_id == merchant_id))
        created_events = session.scalar(
            select(func.count()).where(Event.merchant_id == merchant_id, Event.type == EventType.CUSTOMER_CREATED.value)
        )
    assert subscriptions[ada.id] == (SubscriptionStatus.TRIALING, 2)
    assert subscriptions[customers["carl@example.com"].id][0] == SubscriptionStatus.INCOMPLETE  # no card: open invoice
    assert created_events == 3

    again = _import(database, test_gateway, merchant_id, _file(price_id))
    assert (again.created, again.updated, again.unchanged, again.subscriptions_started) == (0, 0, 3, 0)
    assert _customers(database, merchant_id).keys() == customers.keys()
    with database.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Event).where(Event.merchant_id == merchant_id)) == events
        assert len(session.scalars(select(Subscription).where(Subscription.merchant_id == merchant_id)).all()) == 2


def test_each_row_is_validated_once_and_written_in_batches_from_the_check(
    database: Database, test_gateway: PaymentGateway, shop: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check's normalised values are what is written (the file is read once), batch by batch."""
    merchant_id, price_id = shop
    checked: list[str | None] = []
    opened: list[int] = []

    def counted_changes(details: CustomerInput) -> dict[str, object]:
        checked.append(details.email)
        return customer_changes(details)

    monkeypatch.setattr(customer_import, "customer_changes", counted_changes)
    monkeypatch.setattr(customer_import, "BATCH_SIZE", 2)
    data = (_file(price_id) + "Dora@Example.com , Dora,+4930 901820,,,,,,,\n").encode()
    result = import_customers(
        database=database,
        merchant_id=merchant_id,
        open_file=lambda: opened.append(1) or io.BytesIO(data),
        gateway=test_gateway,
        actor=ACTOR,
        clock=lambda: DEMO_NOW,
    )
    assert (result.created, result.subscriptions_started, result.problems) == (4, 2, ())
    assert len(checked) == 4 and len(opened) == 1
    customers = _customers(database, merchant_id)
    assert (customers["dora@example.com"].name, customers["dora@example.com"].phone) == ("Dora", "+49 30 901820")
    with database.transaction() as session:
        ada = session.scalars(select(Subscription).where(Subscription.customer_id == customers["ada@example.com"].id))
        assert ada.one().trial_end == datetime.fromisoformat(TRIAL_END).replace(tzinfo=UTC)
        events = session.scalars(select(Event.customer_id).where(Event.type == EventType.CUSTOMER_CREATED.value))
        assert sorted(events.all()) == sorted(customer.id for customer in customers.values())


def test_an_existing_email_updates_that_customer(
    database: Database, test_gateway: PaymentGateway, shop: tuple[str, str]
) -> None:
    merchant_id, price_id = shop
    _import(database, test_gateway, merchant_id, _file(price_id))
    result = _import(database, test_gateway, merchant_id, "email,name\nBOB@example.com,Robert\n")
    assert (result.created, result.updated) == (0, 1)
    bob = _customers(database, merchant_id)["bob@example.com"]
    assert bob.name == "Robert"
    with database.transaction() as session:
        event = session.scalars(
            select(Event).where(Event.customer_id == bob.id, Event.type == EventType.CUSTOMER_UPDATED.value)
        ).one()
    assert event.data["previous_attributes"] == {"name": "Bob"}


def test_an_email_taken_while_the_batch_is_written_becomes_an_update(
    database: Database, test_gateway: PaymentGateway, shop: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The API creates bob@ after the batch looked its emails up and before it inserts: the unique index refuses the
    insert, and the batch is written again with bob@ as an existing customer instead of failing the import."""
    merchant_id, _price_id = shop
    new_id = customer_import._new_customer_id
    raced = []

    def id_after_a_racing_create() -> str:
        if not raced:
            raced.append(True)
            with database.transaction() as session:
                session.add(Customer(id=new_id(), merchant_id=merchant_id, email="bob@example.com", name="Bobby"))
        return new_id()

    monkeypatch.setattr(customer_import, "_new_customer_id", id_after_a_racing_create)
    result = _import(database, test_gateway, merchant_id, "email,name\nada@example.com,Ada\nbob@example.com,Bob\n")
    assert (result.imported, result.created, result.updated) == (True, 1, 1)
    customers = _customers(database, merchant_id)
    assert sorted(customers) == ["ada@example.com", "bob@example.com"] and customers["bob@example.com"].name == "Bob"


def test_a_semicolon_file_with_a_bom_is_read(
    database: Database, test_gateway: PaymentGateway, shop: tuple[str, str]
) -> None:
    merchant_id, _price_id = shop
    text = (
        "Email;Name;Address_City;Address_Country;Address_Line1;Address_Postal_Code\r\n"
        "zoe@example.com;Zoë Müller;Zürich;CH;Bahnhofstr. 1;8001\r\n"
    )
    result = _import(database, test_gateway, merchant_id, text, bom=True)
    assert result.imported and result.created == 1, result.problems
    zoe = _customers(database, merchant_id)["zoe@example.com"]
    assert (zoe.name, zoe.address_city) == ("Zoë Müller", "Zürich")


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"name\nJo\n", Problem(1, "email", "The file needs an email column (and a header line naming its columns).")),
        (
            b"email,emial\na@example.com,x\n",
            Problem(
                1,
                "emial",
                f"Unknown column. Use {', '.join(COLUMNS)}.",
            ),
        ),
        (
            b"email,name\nj\xe9@example.com,x\n",
            Problem(1, "", "The file is not UTF-8 text. Save it as CSV UTF-8 and try again."),
        ),
    ],
)
def test_files_that_cannot_be_read_say_why(
    database: Database, test_gateway: PaymentGateway, shop: tuple[str, str], data: bytes, problem: Problem
) -> None:
    result = import_customers(
        database=database,
        merchant_id=shop[0],
        open_file=lambda: io.BytesIO(data),
        gateway=test_gateway,
        actor=ACTOR,
        clock=lambda: DEMO_NOW,
    )
    assert not result.imported and result.problems == (problem,)


def test_the_command_exits_1_and_lists_the_bad_lines(
    database: Database,
    settings: Settings,
    shop: tuple[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("DATABASE_URL", settings.effective_database_url)
    monkeypatch.setenv("SECRET_KEY", settings.secret_key)
    merchant_id = shop[0]
    path = tmp_path / "customers.csv"
    path.write_text("email,name\nok@example.com,Ok\nbad@,Bad\n", encoding="utf-8")
    assert main(["import-customers", str(path), "--merchant", merchant_id]) == 1
    err = capsys.readouterr().err
    assert "Line 3, email: Enter a valid email address" in err and "Nothing was imported: 1 of 2 rows" in err
    assert main(["import-customers", str(path), "--merchant", merchant_id, "--skip-invalid"]) == 1
    assert "Imported 1 of 2 rows" in capsys.readouterr().out
    path.write_text("email,name\nok@example.com,Ok\n", encoding="utf-8")
    assert main(["import-customers", str(path), "--merchant", merchant_id]) == 0
    assert "0 customers created, 0 updated, 1 unchanged" in capsys.readouterr().out
    assert main(["import-customers", str(path)]) == 2  # several merchants: which one?
