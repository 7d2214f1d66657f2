"""The customer page lists payments newest first with the id as tie-breaker: the index covers that whole order

Revision ID: b3f1c9d27a44
Revises: f3c8a1d6b2e4
Create Date: 2026-12-02 14:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "b3f1c9d27a44"
down_revision: str | None = "f3c8a1d6b2e4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_payments_customer_created", table_name="payments")
    op.create_index("ix_payments_customer_created_id", "payments", ["customer_id", "created_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_payments_customer_created_id", table_name="payments")
    op.create_index("ix_payments_customer_created", "payments", ["customer_id", "created_at"])
