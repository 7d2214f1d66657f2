"""Named leases in the database: a job runs in one process at a time, and a crashed holder's lease expires."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from app.db import Database
from app.models import Lease


def acquire_lease(*, database: Database, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
    """Take (or extend, when `holder` has it) the lease `name` until `now + ttl`; False when another holder has it."""
    with database.transaction() as session:
        taken = session.execute(
            update(Lease)
            .where(Lease.name == name, (Lease.expires_at <= now) | (Lease.holder == holder))
            .values(holder=holder, expires_at=now + ttl)
        )
        if taken.rowcount == 1:  # type: ignore[attr-defined]
            return True
    try:
        with database.transaction() as session:
            session.add(Lease(name=name, holder=holder, expires_at=now + ttl))
    except IntegrityError:
        return False  # someone else holds it (or just created it)
    return True


def release_lease(*, database: Database, name: str, holder: str, now: datetime) -> None:
    """Give the lease back early so the next run need not wait for it to expire."""
    with database.transaction() as session:
        session.execute(update(Lease).where(Lease.name == name, Lease.holder == holder).values(expires_at=now))
