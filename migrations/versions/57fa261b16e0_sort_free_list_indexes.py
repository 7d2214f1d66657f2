"""Indexes in the order the portal and the details page list things, so no list needs a sort

Revision ID: 57fa261b16e0
Revises: 7a1c0f3e9b21
Create Date: 2026-11-26 04:25:30.432700
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "57fa261b16e0"
down_revision: str | None = "7a1c0f3e9b21"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_invoices_customer_created", table_name="invoices")
    op.create_index("ix_invoices_customer_created", "invoices", ["customer_id", "created_at", "id"])
    op.drop_index("ix_invoices_customer_status_created", table_name="invoices")
    op.create_index("ix_invoices_customer_status_created", "invoices", ["customer_id", "status", "created_at", "id"])
    op.drop_index("ix_payment_methods_customer_id", table_name="payment_methods")
    op.create_index(
        "ix_payment_methods_customer_order",
        "payment_methods",
        ["customer_id", sa.text("is_default DESC"), "created_at", "id"],
    )
    op.drop_index("ix_prices_merchant_id", table_name="prices")
    op.create_index("ix_prices_merchant_order", "prices", ["merchant_id", "interval", "unit_amount", "id"])
    op.drop_index("ix_subscription_items_subscription_id", table_name="subscription_items")
    op.create_index("ix_subscription_items_subscription_order", "subscription_items", ["subscription_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_subscription_items_subscription_order", table_name="subscription_items")
    op.create_index("ix_subscription_items_subscription_id", "subscription_items", ["subscription_id"])
    op.drop_index("ix_prices_merchant_order", table_name="prices")
    op.create_index("ix_prices_merchant_id", "prices", ["merchant_id"])
    op.drop_index("ix_payment_methods_customer_order", table_name="payment_methods")
    op.create_index("ix_payment_methods_customer_id", "payment_methods", ["customer_id"])
    op.drop_index("ix_invoices_customer_status_created", table_name="invoices")
    op.create_index("ix_invoices_customer_status_created", "invoices", ["customer_id", "status", "created_at"])
    op.drop_index("ix_invoices_customer_created", table_name="invoices")
    op.create_index("ix_invoices_customer_created", "invoices", ["customer_id", "created_at"])
