"""Lifecycle mails: queued as facts with an occasion (once each), and each merchant's mail settings

Revision ID: f3a8c1d5e924
Revises: b9e4d2a7c3f1
Create Date: 2026-12-02 13:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f3a8c1d5e924"
down_revision: str | None = "b9e4d2a7c3f1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("email_messages") as batch_op:
        batch_op.add_column(sa.Column("facts", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("occasion", sa.String(length=120), nullable=True))
        batch_op.create_unique_constraint("uq_email_messages_merchant_occasion", ["merchant_id", "occasion"])
    op.create_table(
        "mail_settings",
        sa.Column("merchant_id", sa.String(length=32), nullable=False),
        sa.Column("disabled_kinds", sa.JSON(), nullable=False),
        sa.Column("reply_to", sa.String(length=254), nullable=False),
        sa.Column("renewal_reminder_days", sa.Integer(), nullable=False),
        sa.Column("renewal_reminder_all_plans", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchants.id"],
            name=op.f("fk_mail_settings_merchant_id_merchants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("merchant_id", name=op.f("pk_mail_settings")),
    )


def downgrade() -> None:
    op.drop_table("mail_settings")
    with op.batch_alter_table("email_messages") as batch_op:
        batch_op.drop_constraint("uq_email_messages_merchant_occasion", type_="unique")
        batch_op.drop_column("occasion")
        batch_op.drop_column("facts")
