"""customer search: FTS5 trigram index on SQLite, pg_trgm GIN indexes on PostgreSQL

Revision ID: 7a1c0f3e9b21
Revises: 5e32e7f962b9
Create Date: 2026-11-26 04:00:00.000000

Case-insensitive substring search on a customer's name or email without scanning the customers table.

SQLite: a contentless FTS5 table with the trigram tokenizer. Its rowids come from `customer_search_keys`, an
explicit INTEGER PRIMARY KEY per customer id, because customers have string primary keys and their implicit rowids
may change on VACUUM. Triggers on `customers` keep both in sync. Note for later migrations: recreating the
`customers` table (a batch "move and copy") drops these triggers; re-create them afterwards.

PostgreSQL: pg_trgm GIN indexes on name and email serve `ILIKE '%…%'`.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "7a1c0f3e9b21"
down_revision: str | None = "5e32e7f962b9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A contentless FTS5 table can only forget a row when given the values it indexed, hence 'delete' with old.*.
SQLITE_UPGRADE = (
    """
    CREATE TABLE customer_search_keys (
        id INTEGER PRIMARY KEY,
        customer_id VARCHAR(32) NOT NULL UNIQUE
    )
    """,
    "CREATE VIRTUAL TABLE customer_search USING fts5(name, email, content='', tokenize='trigram')",
    """
    CREATE TRIGGER customer_search_insert AFTER INSERT ON customers BEGIN
        INSERT INTO customer_search_keys (customer_id) VALUES (new.id);
        INSERT INTO customer_search (rowid, name, email)
            SELECT id, new.name, new.email FROM customer_search_keys WHERE customer_id = new.id;
    END
    """,
    """
    CREATE TRIGGER customer_search_update AFTER UPDATE OF id, name, email ON customers BEGIN
        INSERT INTO customer_search (customer_search, rowid, name, email)
            SELECT 'delete', id, old.name, old.email FROM customer_search_keys WHERE customer_id = old.id;
        UPDATE customer_search_keys SET customer_id = new.id WHERE customer_id = old.id;
        INSERT INTO customer_search (rowid, name, email)
            SELECT id, new.name, new.email FROM customer_search_keys WHERE customer_id = new.id;
    END
    """,
    """
    CREATE TRIGGER customer_search_delete AFTER DELETE ON customers BEGIN
        INSERT INTO customer_search (customer_search, rowid, name, email)
            SELECT 'delete', id, old.name, old.email FROM customer_search_keys WHERE customer_id = old.id;
        DELETE FROM customer_search_keys WHERE customer_id = old.id;
    END
    """,
    "INSERT INTO customer_search_keys (customer_id) SELECT id FROM customers ORDER BY created_at, id",
    """
    INSERT INTO customer_search (rowid, name, email)
        SELECT k.id, c.name, c.email FROM customer_search_keys AS k JOIN customers AS c ON c.id = k.customer_id
    """,
)
SQLITE_DOWNGRADE = (
    "DROP TRIGGER customer_search_delete",
    "DROP TRIGGER customer_search_update",
    "DROP TRIGGER customer_search_insert",
    "DROP TABLE customer_search",
    "DROP TABLE customer_search_keys",
)
POSTGRESQL_UPGRADE = (
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX customer_search_name_trgm ON customers USING gin (name gin_trgm_ops)",
    "CREATE INDEX customer_search_email_trgm ON customers USING gin (email gin_trgm_ops)",
)
POSTGRESQL_DOWNGRADE = (
    "DROP INDEX customer_search_email_trgm",
    "DROP INDEX customer_search_name_trgm",
)


def _run(statements: dict[str, Sequence[str]]) -> None:
    for statement in statements.get(op.get_bind().dialect.name, ()):
        op.execute(statement)


def upgrade() -> None:
    _run({"sqlite": SQLITE_UPGRADE, "postgresql": POSTGRESQL_UPGRADE})


def downgrade() -> None:
    _run({"sqlite": SQLITE_DOWNGRADE, "postgresql": POSTGRESQL_DOWNGRADE})
