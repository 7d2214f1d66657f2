"""Mails are queued with their delivery state (status, attempts, next attempt), an HTML part and an attachment

Revision ID: e7c2a9d4b813
Revises: 2a64ca470bef
Create Date: 2026-12-02 13:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e7c2a9d4b813"
down_revision: str | None = "2a64ca470bef"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES = ("queued", "sending", "sent", "failed", "outbox")


def upgrade() -> None:
    with op.batch_alter_table("email_messages") as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=40), server_default="", nullable=False))
        batch_op.add_column(sa.Column("sender_name", sa.String(length=120), server_default="", nullable=False))
        batch_op.add_column(sa.Column("reply_to", sa.String(length=254), server_default="", nullable=False))
        batch_op.add_column(sa.Column("html_body", sa.Text(), server_default="", nullable=False))
        batch_op.add_column(sa.Column("attachment_invoice_id", sa.String(length=32), nullable=True))
        batch_op.add_column(
            sa.Column(
                "status",
                sa.Enum(*STATUSES, name="emailstatus", native_enum=False, length=20),
                server_default="outbox",
                nullable=False,
            )
        )
        batch_op.add_column(sa.Column("attempts", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("last_error", sa.String(length=300), server_default="", nullable=False))
        batch_op.create_index("ix_email_messages_status_next", ["status", "next_attempt_at"])
    # Mails from before the queue were sent at once (sent_at set) or kept in the outbox.
    op.execute("UPDATE email_messages SET status = 'sent' WHERE sent_at IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table("email_messages") as batch_op:
        batch_op.drop_index("ix_email_messages_status_next")
        for column in (
            "last_error",
            "next_attempt_at",
            "attempts",
            "status",
            "attachment_invoice_id",
            "html_body",
            "reply_to",
            "sender_name",
            "kind",
        ):
            batch_op.drop_column(column)
