"""portal sign-in and email changes: single-use sign-in links, sign-in requests per client address, email changes

Revision ID: b9e4d2a7c3f1
Revises: b3f1c9d27a44
Create Date: 2026-12-02 13:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.models

revision: str = "b9e4d2a7c3f1"
down_revision: str | None = "b3f1c9d27a44"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("portal_links", schema=None) as batch_op:
        batch_op.add_column(sa.Column("single_use", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        "portal_sign_in_requests",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("client_address", sa.String(length=45), nullable=False),
        sa.Column("created_at", app.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_sign_in_requests")),
    )
    with op.batch_alter_table("portal_sign_in_requests", schema=None) as batch_op:
        batch_op.create_index("ix_portal_sign_in_requests_client_created", ["client_address", "created_at"])
        batch_op.create_index(batch_op.f("ix_portal_sign_in_requests_created_at"), ["created_at"])
    op.create_table(
        "email_changes",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("merchant_id", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("old_email", sa.String(length=254), nullable=False),
        sa.Column("new_email", sa.String(length=254), nullable=False),
        sa.Column("locale", sa.String(length=20), nullable=False),
        sa.Column("created_at", app.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", app.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", app.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("canceled_at", app.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_email_changes_customer_id_customers"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["merchants.id"], name=op.f("fk_email_changes_merchant_id_merchants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_changes")),
    )
    with op.batch_alter_table("email_changes", schema=None) as batch_op:
        batch_op.create_index("ix_email_changes_customer_created", ["customer_id", "created_at"])


def downgrade() -> None:
    op.drop_table("email_changes")
    op.drop_table("portal_sign_in_requests")
    with op.batch_alter_table("portal_links", schema=None) as batch_op:
        batch_op.drop_column("single_use")
