"""The REST API's resources: customer metadata, idempotency keys, and indexes for every list it pages through

Revision ID: e7b2c9a4d105
Revises: 5c8d2e61f0a7
Create Date: 2026-12-02 13:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e7b2c9a4d105"
down_revision: str | None = "5c8d2e61f0a7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("customers") as batch_op:
        batch_op.add_column(sa.Column("metadata", sa.JSON(), server_default="{}", nullable=False))
    op.create_table(
        "idempotency_keys",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("merchant_id", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("response_body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["merchants.id"], name="fk_idempotency_keys_merchant_id_merchants", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_idempotency_keys"),
        sa.UniqueConstraint("merchant_id", "key", name="uq_idempotency_keys_merchant_key"),
    )
    op.create_index("ix_idempotency_keys_merchant_created", "idempotency_keys", ["merchant_id", "created_at"])
    with op.batch_alter_table("subscriptions") as batch_op:
        batch_op.drop_index("ix_subscriptions_merchant_id")
        batch_op.drop_index("ix_subscriptions_customer_created")
        batch_op.create_index("ix_subscriptions_customer_created", ["customer_id", "created_at", "id"])
        batch_op.create_index("ix_subscriptions_merchant_created", ["merchant_id", "created_at", "id"])
        batch_op.create_index("ix_subscriptions_merchant_status_created", ["merchant_id", "status", "created_at", "id"])
    with op.batch_alter_table("invoices") as batch_op:
        batch_op.drop_index("ix_invoices_subscription")
        batch_op.create_index("ix_invoices_subscription", ["subscription_id", "created_at", "id"])
        batch_op.create_index("ix_invoices_merchant_created", ["merchant_id", "created_at", "id"])
        batch_op.create_index("ix_invoices_merchant_status_created", ["merchant_id", "status", "created_at", "id"])


def downgrade() -> None:
    with op.batch_alter_table("invoices") as batch_op:
        batch_op.drop_index("ix_invoices_merchant_status_created")
        batch_op.drop_index("ix_invoices_merchant_created")
        batch_op.drop_index("ix_invoices_subscription")
        batch_op.create_index("ix_invoices_subscription", ["subscription_id"])
    with op.batch_alter_table("subscriptions") as batch_op:
        batch_op.drop_index("ix_subscriptions_merchant_status_created")
        batch_op.drop_index("ix_subscriptions_merchant_created")
        batch_op.drop_index("ix_subscriptions_customer_created")
        batch_op.create_index("ix_subscriptions_customer_created", ["customer_id", "created_at"])
        batch_op.create_index("ix_subscriptions_merchant_id", ["merchant_id"])
    op.drop_index("ix_idempotency_keys_merchant_created", table_name="idempotency_keys")
    op.drop_table("idempotency_keys")
    with op.batch_alter_table("customers") as batch_op:
        batch_op.drop_column("metadata")
