"""Shared set-up for the hardening suite: whole-database snapshots, a clock that ticks, verified accesses."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from app.db import Database
from app.models import Base
from tests.conftest import DEMO_NOW

Snapshot = dict[str, list[tuple[Any, ...]]]


def snapshot(database: Database, *, skip: tuple[str, ...] = ()) -> Snapshot:
    """Every row of every table (sorted), to prove that a refused or failed action changed nothing at all.

    `skip` names `table` or `table.column` entries to leave out (e.g. a link's `last_used_at`).
    """
    rows: Snapshot = {}
    with database.transaction() as session:
        for table in Base.metadata.sorted_tables:
            if table.name in skip:
                continue
            columns = [column for column in table.columns if f"{table.name}.{column.name}" not in skip]
            result = session.execute(select(*columns)).all()
            rows[table.name] = sorted((tuple(row) for row in result), key=repr)
    return rows


def ticking_clock(start: datetime = DEMO_NOW) -> Callable[[], datetime]:
    """A thread-safe clock that moves one millisecond per reading, as a real clock does between requests."""
    ticks = itertools.count()
    lock = threading.Lock()

    def now() -> datetime:
        with lock:
            return start + timedelta(milliseconds=next(ticks))

    return now
