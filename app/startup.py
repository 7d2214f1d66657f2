"""Start-up steps shared by `main.py` and the CLI: open the database, check migrations, load demo data."""

from __future__ import annotations

import logging

from app.clock import system_clock
from app.config import Settings
from app.context import AppContext
from app.db import Database, ensure_migrated
from app.gateways import build_gateway
from app.services.demo_data import has_any_merchant, load_demo_data

log = logging.getLogger(__name__)


def build_context(settings: Settings) -> AppContext:
    """Open the database (refusing an unmigrated one), load demo data on a first start when asked, pick the gateway."""
    database = Database(settings.effective_database_url)
    ensure_migrated(database.engine)
    if settings.demo_data:
        with database.transaction() as session:
            if not has_any_merchant(session):
                load_demo_data(session=session, password=settings.demo_password, now=system_clock())
                log.info("Loaded demo data")
    return AppContext(settings=settings, database=database, gateway=build_gateway(settings))
