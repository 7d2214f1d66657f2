"""Shared fixtures: a migrated, demo-seeded SQLite template copied for each test, and browser tests last."""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.config import Settings, load_settings
from app.context import AppContext
from app.db import Database, migrate
from app.gateways import build_gateway
from app.gateways.base import PaymentGateway
from app.services.demo_data import load_demo_data
from tests.mail_support import smtp_server, smtp_settings  # noqa: F401 - fixtures for every test
from tests.payment_support import GATEWAYS, gateway_settings

TEST_SECRET_KEY = "test-secret-key-that-is-long-enough-0123456789"
DEMO_PASSWORD = "portal-demo"
# Demo data is built relative to this instant so that dates in tests are stable.
DEMO_NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Sync Playwright and NiceGUI's async `user` tests cannot share an event loop: browsers run last."""
    items.sort(key=lambda item: "tests/e2e/" in str(item.path).replace("\\", "/"))


# Set (by scripts/with-postgres.sh in `make test`) to run the service tests against PostgreSQL too.
POSTGRES_URL = os.environ.get("TEST_DATABASE_URL", "")
DIALECT = "postgresql" if POSTGRES_URL else "sqlite"


def only_on(dialect: str, subject: str) -> pytest.MarkDecorator:
    """Skip a test of something that exists on one database only (`TEST_DATABASE_URL` selects PostgreSQL)."""
    return pytest.mark.skipif(dialect != DIALECT, reason=f"{subject} exists on {dialect} only; this run uses {DIALECT}")


def _seed(url: str) -> None:
    database = Database(url)
    migrate(database.engine)
    with database.transaction() as session:
        load_demo_data(session=session, password=DEMO_PASSWORD, now=DEMO_NOW)
    database.dispose()


@pytest.fixture(scope="session")
def template_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrated and demo-seeded once per run; tests get copies."""
    path = tmp_path_factory.mktemp("template") / "portal.db"
    _seed(f"sqlite:///{path}")
    return path


@contextmanager
def postgres_database(template: str | None = None) -> Iterator[str]:
    """A new database on the `TEST_DATABASE_URL` server (a copy of `template` when given), dropped afterwards."""
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = f"portal_{secrets.token_hex(6)}"
    copy = f' TEMPLATE "{template}"' if template else ""
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"{copy}'))
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    """A migrated, seeded PostgreSQL database that each test clones with CREATE DATABASE ... TEMPLATE."""
    with postgres_database() as url:
        _seed(url)
        yield str(make_url(url).database)


@pytest.fixture
def database_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """This test's own database: a copy of the SQLite template, or a PostgreSQL clone when configured."""
    if not POSTGRES_URL:
        yield f"sqlite:///{request.getfixturevalue('database_path')}"
        return
    with postgres_database(template=request.getfixturevalue("postgres_template")) as url:
        yield url


@pytest.fixture
def database_path(template_database: Path, tmp_path: Path) -> Path:
    path = tmp_path / "data" / "portal.db"
    path.parent.mkdir()
    shutil.copy(template_database, path)
    return path


@pytest.fixture
def app_env(database_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Environment for `main.py` under NiceGUI's `user` fixture: this test's database and a fixed key."""
    monkeypatch.setenv("DATA_DIR", str(database_path.parent))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{database_path}")
    monkeypatch.setenv("SECRET_KEY", TEST_SECRET_KEY)
    monkeypatch.setenv("DEMO_DATA", "0")
    monkeypatch.setenv("BILLING_CLOCK_INTERVAL_SECONDS", "0")
    monkeypatch.setenv("EMAIL_POLL_SECONDS", "0")  # tests that want the mail sender turn it on
    monkeypatch.setenv("GC_TUNING", "0")  # the app starts once per test: freezing objects each time would pile up
    return database_path


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return load_settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        secret_key=TEST_SECRET_KEY,
        _env_file=None,
    )


@pytest.fixture
def database(settings: Settings) -> Iterator[Database]:
    database = Database(settings.effective_database_url)
    yield database
    database.dispose()


@pytest.fixture
def test_gateway(settings: Settings) -> PaymentGateway:
    """The built-in test gateway (the default)."""
    return build_gateway(settings)


@pytest.fixture(params=GATEWAYS)
def gateway(request: pytest.FixtureRequest, settings: Settings) -> PaymentGateway:
    """Each gateway in turn: the built-in test gateway, then Stripe against localstripe."""
    return build_gateway(gateway_settings(settings, request.param))


@pytest.fixture
def app_context(settings: Settings, database: Database) -> AppContext:
    return AppContext(settings=settings, database=database, gateway=build_gateway(settings), clock=lambda: DEMO_NOW)
