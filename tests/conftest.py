"""Shared fixtures: a migrated, demo-seeded SQLite template copied for each test, and browser tests last."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.config import Settings, load_settings
from app.context import AppContext
from app.db import Database, migrate
from app.services.demo_data import load_demo_data

TEST_SECRET_KEY = "test-secret-key-that-is-long-enough-0123456789"
DEMO_PASSWORD = "portal-demo"
# Demo data is built relative to this instant so that dates in tests are stable.
DEMO_NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Sync Playwright and NiceGUI's async `user` tests cannot share an event loop: browsers run last."""
    items.sort(key=lambda item: "tests/e2e/" in str(item.path).replace("\\", "/"))


@pytest.fixture(scope="session")
def template_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrated and demo-seeded once per run; tests get copies."""
    path = tmp_path_factory.mktemp("template") / "portal.db"
    database = Database(f"sqlite:///{path}")
    migrate(database.engine)
    with database.transaction() as session:
        load_demo_data(session=session, password=DEMO_PASSWORD, now=DEMO_NOW)
    database.engine.dispose()
    return path


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
    return database_path


@pytest.fixture
def settings(database_path: Path) -> Settings:
    return load_settings(
        data_dir=database_path.parent,
        database_url=f"sqlite:///{database_path}",
        secret_key=TEST_SECRET_KEY,
        _env_file=None,
    )


@pytest.fixture
def database(settings: Settings) -> Iterator[Database]:
    database = Database(settings.effective_database_url)
    yield database
    database.dispose()


@pytest.fixture
def app_context(settings: Settings, database: Database) -> AppContext:
    return AppContext(settings=settings, database=database, clock=lambda: DEMO_NOW)
