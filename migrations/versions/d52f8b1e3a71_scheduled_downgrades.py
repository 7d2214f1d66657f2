"""scheduled downgrades: the portal switch, and a subscription's plan change waiting for the period end

Revision ID: d52f8b1e3a71
Revises: c41e7a9d2f60
Create Date: 2026-12-02 08:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d52f8b1e3a71"
down_revision: str | None = "c41e7a9d2f60"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("portal_settings", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("downgrades_at_period_end", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("scheduled_price_id", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("scheduled_quantity", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_subscriptions_scheduled_price_id_prices"), "prices", ["scheduled_price_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_subscriptions_scheduled_price_id_prices"), type_="foreignkey")
        batch_op.drop_column("scheduled_quantity")
        batch_op.drop_column("scheduled_price_id")
    with op.batch_alter_table("portal_settings", schema=None) as batch_op:
        batch_op.drop_column("downgrades_at_period_end")
