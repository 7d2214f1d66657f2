"""products and prices record when they were made (lists newest first; day and week intervals need no schema change)

Revision ID: 5c8d2e61f0a7
Revises: a8d3f5c2e917, e7c2a9d4b813 (also joins the two heads that landed at once)
Create Date: 2026-12-02 13:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.models

revision: str = "5c8d2e61f0a7"
down_revision: str | tuple[str, ...] | None = ("a8d3f5c2e917", "e7c2a9d4b813")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ("products", "prices"):
        # Existing rows get the migration's time: SQLite cannot add a column with a non-constant default, so the
        # column is added nullable, filled, then made NOT NULL (batch mode rebuilds the table on SQLite).
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column("created_at", app.models.UTCDateTime(timezone=True), nullable=True))
        op.execute(sa.text(f"UPDATE {table} SET created_at = CURRENT_TIMESTAMP"))
        with op.batch_alter_table(table) as batch_op:
            batch_op.alter_column("created_at", existing_type=app.models.UTCDateTime(timezone=True), nullable=False)


def downgrade() -> None:
    for table in ("prices", "products"):
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column("created_at")
