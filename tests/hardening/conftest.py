"""Hardening tests that drive pages use NiceGUI's `user` fixture on this test's copy of the demo database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.db import Database


@pytest.fixture(autouse=True)
def _use_test_database(app_env: Path) -> None:
    """The environment `main.py` reads, set before the `user` fixture runs it."""


@pytest.fixture
def app_database(app_env: Path) -> Iterator[Database]:
    """The database the `user` fixture's app runs on (SQLite even when TEST_DATABASE_URL selects PostgreSQL, where
    the `database` fixture is a PostgreSQL one)."""
    database = Database(f"sqlite:///{app_env}")
    yield database
    database.dispose()
