"""One live customer per email address and merchant (a partial unique index): telling its refusal from others."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from app.models import LIVE_EMAIL_INDEX


def is_live_email_clash(error: IntegrityError) -> bool:
    """The error is the unique index on live customers' emails: PostgreSQL names the index, SQLite its columns."""
    text = str(error.orig)
    return LIVE_EMAIL_INDEX in text or "customers.merchant_id, customers.email" in text
