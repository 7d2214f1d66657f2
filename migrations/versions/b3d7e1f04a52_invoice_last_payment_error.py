"""Invoices keep why their latest charge failed, which the invoice object (and its events) carry

Revision ID: b3d7e1f04a52
Revises: ba1c3963a9a9
Create Date: 2026-11-27 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b3d7e1f04a52"
down_revision: str | None = "ba1c3963a9a9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("invoices") as batch_op:
        batch_op.add_column(sa.Column("last_payment_error", sa.String(length=300), server_default="", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("invoices") as batch_op:
        batch_op.drop_column("last_payment_error")
