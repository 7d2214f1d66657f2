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
from app.services.billing import CardOnFile, ChargeResult
from app.services.payments import TestGateway
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


class CountingGateway(TestGateway):
    """The test gateway, counting the charges it really made (answers from its idempotency memory are not)."""

    __test__ = False

    def __init__(self) -> None:
        super().__init__()
        self.charges = 0
        self._lock = threading.Lock()

    def charge_card_on_file(
        self, *, card: CardOnFile, amount_minor: int, currency: str, idempotency_key: str, now: datetime
    ) -> ChargeResult:
        with self._lock:
            if idempotency_key not in self._charges:
                self.charges += 1
            return super().charge_card_on_file(
                card=card, amount_minor=amount_minor, currency=currency, idempotency_key=idempotency_key, now=now
            )
