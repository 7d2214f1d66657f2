"""Customers by email, newest first, straight from the (merchant, email) index: the API's `?email=` needs no sort,
and the planner no longer prefers walking all of a merchant's customers to find one address. API keys get a name.

Revision ID: f3c8a1d6b2e4
Revises: e7b2c9a4d105
Create Date: 2026-12-02 13:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f3c8a1d6b2e4"
down_revision: str | None = "e7b2c9a4d105"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("api_keys") as batch_op:
        batch_op.add_column(sa.Column("name", sa.String(length=60), server_default="", nullable=False))
    with op.batch_alter_table("customers") as batch_op:
        batch_op.drop_index("ix_customers_merchant_email")
        batch_op.create_index("ix_customers_merchant_email", ["merchant_id", "email", "created_at", "id"])


def downgrade() -> None:
    with op.batch_alter_table("customers") as batch_op:
        batch_op.drop_index("ix_customers_merchant_email")
        batch_op.create_index("ix_customers_merchant_email", ["merchant_id", "email"])
    with op.batch_alter_table("api_keys") as batch_op:
        batch_op.drop_column("name")
