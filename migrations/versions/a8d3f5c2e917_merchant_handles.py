"""merchant handles: each merchant's sign-in address /p/login/{handle}, filled in from the business names

Revision ID: a8d3f5c2e917
Revises: 2a64ca470bef
Create Date: 2026-12-02 13:20:00
"""

import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a8d3f5c2e917"
down_revision: str | None = "2a64ca470bef"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _handles(rows: list[tuple[str, str]]) -> dict[str, str]:
    """A unique handle per merchant id from its business name ("Acme Cloud" -> acme-cloud, then acme-cloud-2)."""
    taken: set[str] = set()
    handles: dict[str, str] = {}
    for merchant_id, name in rows:
        base = "-".join(re.findall(r"[a-z0-9]+", (name or "").lower()))[:36].strip("-")
        base = base if len(base) >= 2 else "shop"
        candidate, number = base, 1
        while candidate in taken:
            number += 1
            candidate = f"{base}-{number}"
        taken.add(candidate)
        handles[merchant_id] = candidate
    return handles


def upgrade() -> None:
    with op.batch_alter_table("merchants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("handle", sa.String(length=40), nullable=True))
    merchants = sa.table("merchants", sa.column("id", sa.String), sa.column("handle", sa.String))
    connection = op.get_bind()
    rows = connection.execute(sa.text("SELECT id, public_business_name FROM merchants ORDER BY created_at, id")).all()
    for merchant_id, handle in _handles([(row[0], row[1]) for row in rows]).items():
        connection.execute(merchants.update().where(merchants.c.id == merchant_id).values(handle=handle))
    with op.batch_alter_table("merchants", schema=None) as batch_op:
        batch_op.alter_column("handle", existing_type=sa.String(length=40), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_merchants_handle"), ["handle"])


def downgrade() -> None:
    with op.batch_alter_table("merchants", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_merchants_handle"), type_="unique")
        batch_op.drop_column("handle")
