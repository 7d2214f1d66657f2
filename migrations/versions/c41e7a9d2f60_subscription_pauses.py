"""subscription pauses: the portal switch and its durations, and a subscription's pause dates

Revision ID: c41e7a9d2f60
Revises: ff9bb04fbbce
Create Date: 2026-12-02 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.models

revision: str = "c41e7a9d2f60"
down_revision: str | None = "ff9bb04fbbce"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("portal_settings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pause_subscriptions", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(
            sa.Column("pause_durations", sa.JSON(), nullable=False, server_default='["1", "2", "3", "until_resumed"]')
        )
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pause_starts_at", app.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("pause_resumes_at", app.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_subscriptions_pause_resumes_at"), ["pause_resumes_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subscriptions_pause_resumes_at"))
        batch_op.drop_column("pause_resumes_at")
        batch_op.drop_column("pause_starts_at")
    with op.batch_alter_table("portal_settings", schema=None) as batch_op:
        batch_op.drop_column("pause_durations")
        batch_op.drop_column("pause_subscriptions")
