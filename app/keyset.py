"""Keyset pagination cursors: "after this (created_at, id)", so deep pages cost what the first page costs."""

from __future__ import annotations

from datetime import datetime

from app.errors import ValidationFailed

_SEPARATOR = "|"
STALE_CURSOR = "This page is no longer available; start again from the first page."


def encode_cursor(created_at: datetime, object_id: str) -> str:
    return f"{created_at.isoformat()}{_SEPARATOR}{object_id}"


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The (created_at, id) a cursor names; ValidationFailed({"after": …}) for anything else."""
    created_text, _, object_id = cursor.partition(_SEPARATOR)
    try:
        created_at = datetime.fromisoformat(created_text)
    except ValueError:
        raise ValidationFailed({"after": STALE_CURSOR}) from None
    if created_at.tzinfo is None or not object_id:
        raise ValidationFailed({"after": STALE_CURSOR})
    return created_at, object_id
