"""resubscribe, retention offers and credit balances: portal switches, a subscription's offer and discount, and a
customer's credit balance

Revision ID: e6a4c2b8d913
Revises: f3a8c1d5e924
Create Date: 2026-12-02 13:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e6a4c2b8d913"
down_revision: str | None = "f3a8c1d5e924"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DISCOUNT_KIND = sa.Enum("percent", "amount", name="discountkind", native_enum=False, length=20)


def upgrade() -> None:
    with op.batch_alter_table("portal_settings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("resubscribe", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(
            sa.Column("resubscribe_price_choice", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("retention_offer", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(
            sa.Column("retention_discount_kind", _DISCOUNT_KIND, nullable=False, server_default="percent")
        )
        batch_op.add_column(sa.Column("retention_discount_value", sa.Integer(), nullable=False, server_default="50"))
        batch_op.add_column(sa.Column("retention_periods", sa.Integer(), nullable=False, server_default="3"))
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("retention_offered_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("retention_accepted_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("discount_kind", _DISCOUNT_KIND, nullable=True))
        batch_op.add_column(sa.Column("discount_value", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("discount_invoices_left", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("credit_balance", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("credit_currency", sa.String(length=3), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_column("credit_currency")
        batch_op.drop_column("credit_balance")
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        for column in ("discount_invoices_left", "discount_value", "discount_kind"):
            batch_op.drop_column(column)
        batch_op.drop_column("retention_accepted_at")
        batch_op.drop_column("retention_offered_at")
    with op.batch_alter_table("portal_settings", schema=None) as batch_op:
        for column in (
            "retention_periods",
            "retention_discount_value",
            "retention_discount_kind",
            "retention_offer",
            "resubscribe_price_choice",
            "resubscribe",
        ):
            batch_op.drop_column(column)
