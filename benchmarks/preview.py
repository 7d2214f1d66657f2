"""Server time for one settings change to re-render the live preview (NiceGUI's simulated user, no browser)."""

from __future__ import annotations

import asyncio
import os
import secrets
import statistics
import tempfile
import time
from pathlib import Path

from nicegui import app, ui
from nicegui.storage import Storage
from nicegui.testing.user_simulation import user_simulation

from app.db import Database, migrate
from app.models import utcnow
from app.services.demo_data import DEMO_OWNER_EMAIL, load_demo_data
from benchmarks.http_load import percentile

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = secrets.token_urlsafe(16)  # a throwaway database: any password will do
CHANGES = 200


async def _measure(samples: int, folder: str) -> list[float]:
    # As NiceGUI's pytest plugin does: a private storage folder, so resetting globals touches no page context.
    Storage.path = Path(folder) / "storage"
    app.storage = Storage()
    async with user_simulation(main_file=ROOT / "main.py") as user:
        await user.open("/login?redirect_to=/settings/portal")
        user.find("Email").type(DEMO_OWNER_EMAIL)
        user.find(kind=ui.input, content="Password").type(PASSWORD)
        user.find(kind=ui.button, content="Sign in").click()
        await user.should_see(kind=ui.switch, content="Invoice history", retries=100)
        # A mix of what merchants do: flip a section on and off, and type in the business information.
        (invoices,) = user.find(kind=ui.switch, content="Invoice history").elements
        (shipping,) = user.find(kind=ui.switch, content="Shipping information").elements
        (headline,) = user.find(kind=ui.input, content="Headline").elements
        changes = (
            lambda: invoices.set_value(not invoices.value),
            lambda: shipping.set_value(not shipping.value),
            lambda: headline.set_value(f"{headline.value}x"[-100:]),
        )
        durations = []
        with user:
            for index in range(samples):
                before = set(user.client.elements)
                started = time.perf_counter()
                changes[index % len(changes)]()  # the handler updates the draft and re-renders the preview
                durations.append((time.perf_counter() - started) * 1000)
                if set(user.client.elements) == before:
                    raise AssertionError("the change did not re-render the preview within its handler")
        return durations


def measure_preview(samples: int = CHANGES) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="portal-preview-bench-") as folder:
        database = Database(f"sqlite:///{Path(folder) / 'portal.db'}")
        migrate(database.engine)
        with database.transaction() as session:
            load_demo_data(session=session, password=PASSWORD, now=utcnow())
        database.dispose()
        saved = dict(os.environ)
        os.environ.update(
            DATA_DIR=folder,
            DATABASE_URL=str(database.engine.url),
            SECRET_KEY=secrets.token_urlsafe(48),
            DEMO_DATA="0",
            BILLING_CLOCK_INTERVAL_SECONDS="0",
            # NiceGUI's simulated user is built for pytest and checks this variable to skip page-only clean-up.
            PYTEST_CURRENT_TEST="benchmarks/preview.py",
        )
        try:
            durations = asyncio.run(_measure(samples, folder))[10:]  # warm-up
        finally:
            os.environ.clear()
            os.environ.update(saved)
    return {
        "changes": len(durations),
        "p50_ms": statistics.median(durations),
        "p95_ms": percentile(durations, 0.95),
    }
