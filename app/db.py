"""Database engine, session factory, transactions and Alembic migrations."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

from app.errors import Unavailable

log = logging.getLogger(__name__)
MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


class DatabaseNotMigrated(SystemExit):
    """The database schema is older than the code: the message says which command fixes it."""


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def create_private_file(path: Path) -> None:
    """Create `path` readable by this user only (0600), in a folder only this user can enter (0700), unless it exists.

    The SQLite file holds customers' data and the merchants' password hashes; SQLite's own journal and WAL files take
    the database file's permissions.
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def make_engine(url: str) -> Engine:
    """Create an engine; SQLite gets WAL, foreign keys and a busy timeout, and its file is created private."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            create_private_file(Path(parsed.database))
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 5})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


class Database:
    """An engine plus its session factory; services receive sessions from `transaction()`."""

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        self.session_factory = sessionmaker(self.engine, expire_on_commit=False)
        self._writer = threading.Lock() if self.engine.dialect.name == "sqlite" else None

    @contextmanager
    def writer_turn(self) -> Iterator[None]:
        """Wrap a short write transaction that many requests run at once (API creates): on SQLite this process's
        writers then take turns, each woken as the one before commits, where SQLite's busy handler would have them
        retry after sleeps of growing length (10 concurrent creates: p95 287 -> 145 ms). Other databases: no-op."""
        if self._writer is None:
            yield
            return
        with self._writer:
            yield

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: commits on success, rolls back on any error.

        A database that is locked past the busy timeout, unreachable or out of connections raises `Unavailable`
        (after the rollback), so that pages can say "nothing was saved, try again" instead of failing obscurely.
        """
        try:
            with self.session_factory() as session, session.begin():
                yield session
        except (OperationalError, PoolTimeout) as error:
            log.warning("Database unavailable, transaction rolled back: %s", getattr(error, "orig", None) or error)
            raise Unavailable() from error

    def dispose(self) -> None:
        self.engine.dispose()


# The customer search index (FTS5 tables on SQLite, trigram indexes on PostgreSQL) is raw SQL from its migration;
# autogenerate must neither drop it nor report it as a difference from the models.
SEARCH_INDEX_PREFIX = "customer_search"
# Indexes with a DESC column are expressions to Alembic, which cannot reflect them to compare: their migration
# writes them out by hand and autogenerate leaves them alone.
EXPRESSION_INDEXES = frozenset({"ix_payment_methods_customer_order"})


def include_object(_object: Any, name: str | None, _type: str, reflected: bool, compare_to: Any) -> bool:
    """Alembic's `include_object` hook: skip database-only search objects and hand-written expression indexes."""
    if name in EXPRESSION_INDEXES:
        return False
    return not (reflected and compare_to is None and (name or "").startswith(SEARCH_INDEX_PREFIX))


def _alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def migrate(engine: Engine) -> None:
    """Apply every pending migration."""
    command.upgrade(_alembic_config(engine), "head")


def head_revision(engine: Engine) -> str | None:
    return ScriptDirectory.from_config(_alembic_config(engine)).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def ensure_migrated(engine: Engine) -> None:
    """Refuse to run on a database that is not at the newest migration."""
    if current_revision(engine) != head_revision(engine):
        raise DatabaseNotMigrated(
            "The database is not migrated to the current schema. Run: .venv/bin/python -m app migrate"
        )
