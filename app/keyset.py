"""Keyset pagination cursors: "after this (created_at, id)", so deep pages cost what the first page costs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol, TypeVar

from sqlalchemy import ColumnElement, tuple_
from sqlalchemy.orm import InstrumentedAttribute

from app.errors import ValidationFailed

_SEPARATOR = "|"
STALE_CURSOR = "This page is no longer available; start again from the first page."


class Keyed(Protocol):
    @property
    def created_at(self) -> datetime: ...
    @property
    def id(self) -> str: ...


K = TypeVar("K", bound=Keyed)


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


def after_cursor(
    created_at: InstrumentedAttribute[datetime], object_id: InstrumentedAttribute[str], cursor: str
) -> ColumnElement[bool]:
    """The rows listed after `cursor` in a newest-first (created_at, id) order."""
    cursor_created_at, cursor_id = decode_cursor(cursor)
    return tuple_(created_at, object_id) < tuple_(cursor_created_at, cursor_id)


def split_page(rows: Sequence[K], page_size: int) -> tuple[Sequence[K], str | None]:
    """One page of `rows` (fetched with `limit(page_size + 1)`), and the cursor of the next page when there is one."""
    if len(rows) <= page_size:
        return rows, None
    last = rows[page_size - 1]
    return rows[:page_size], encode_cursor(last.created_at, last.id)
