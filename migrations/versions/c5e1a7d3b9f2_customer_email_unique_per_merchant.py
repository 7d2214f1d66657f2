"""An email belongs to one live customer of a merchant, enforced by a partial unique index: two API requests (or an
import and a request) that both found the address free can no longer both create a customer with it.

Revision ID: c5e1a7d3b9f2
Revises: e6a4c2b8d913
Create Date: 2026-12-02 16:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c5e1a7d3b9f2"
down_revision: str | None = "e6a4c2b8d913"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE = sa.text("deleted_at IS NULL AND email <> ''")


def upgrade() -> None:
    # Before, a confirmed email change in the portal could give a customer another live customer's address.
    duplicates = op.get_bind().execute(
        sa.text(
            "SELECT merchant_id, email, COUNT(*) FROM customers WHERE deleted_at IS NULL AND email <> '' "
            "GROUP BY merchant_id, email HAVING COUNT(*) > 1"
        )
    ).all()
    if duplicates:
        listed = "; ".join(f"{merchant} {email} ({count} customers)" for merchant, email, count in duplicates[:20])
        raise RuntimeError(
            f"{len(duplicates)} email addresses belong to more than one customer of a merchant: {listed}. Delete or "
            "change all but one of each (dashboard or DELETE /api/v1/customers/{id}), then migrate again."
        )
    op.create_index(
        "uq_customers_merchant_live_email",
        "customers",
        ["merchant_id", "email"],
        unique=True,
        sqlite_where=LIVE,
        postgresql_where=LIVE,
    )


def downgrade() -> None:
    op.drop_index("uq_customers_merchant_live_email", table_name="customers")
