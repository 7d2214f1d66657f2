"""Hardening tests that drive pages use NiceGUI's `user` fixture on this test's copy of the demo database."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _use_test_database(app_env: Path) -> None:
    """The environment `main.py` reads, set before the `user` fixture runs it."""
