"""The data folder and the SQLite database are private to the user the app runs as (they were world-readable)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from tests.e2e.conftest import ROOT


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_data_folder_and_database_are_private(tmp_path: Path) -> None:
    data = tmp_path / "new-data"  # not "data": the autouse fixtures put a copy of the demo database there
    env = {key: value for key, value in os.environ.items() if not key.startswith(("NICEGUI_", "PYTEST_"))}
    env.update(DATA_DIR=str(data), DATABASE_URL="", SECRET_KEY="")
    previous = os.umask(0o022)  # the usual umask, under which files are world-readable unless created otherwise
    try:
        subprocess.run([sys.executable, "-m", "app", "migrate"], cwd=ROOT, env=env, check=True, capture_output=True)
    finally:
        os.umask(previous)
    assert mode(data) == 0o700
    assert mode(data / "portal.db") == 0o600
    assert mode(data / "secret_key") == 0o600
    assert all(mode(path) & 0o077 == 0 for path in data.iterdir()), {
        path.name: oct(mode(path)) for path in data.iterdir()
    }
