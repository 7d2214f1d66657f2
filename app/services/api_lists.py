"""Pages of the API's lists: newest first, `limit` objects after the object named by `starting_after`."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy import Select, select, tuple_
from sqlalchemy.orm import InstrumentedAttribute, Session

from app.errors import NotFound, ValidationFailed

DEFAULT_LIMIT = 10
MAX_LIMIT = 100


class Listed(Protocol):
    """A table the API lists: the merchant's rows, each with its creation time and id."""

    id: InstrumentedAttribute[str]
    merchant_id: InstrumentedAttribute[str]
    created_at: InstrumentedAttribute[datetime]


RowT = TypeVar("RowT")
SelectT = TypeVar("SelectT", bound=Select[Any])


def check_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed({"limit": f"Ask for between 1 and {MAX_LIMIT} objects."})


def require_owned(session: Session, table: type[Listed], object_id: str, merchant_id: str, *, param: str) -> None:
    """NotFound (naming `param`) unless `object_id` is one of the merchant's rows of `table`. A list filtered by it
    can then select by that id alone, which lets the database use the id's own newest-first index."""
    if session.scalar(select(table.id).where(table.id == object_id, table.merchant_id == merchant_id)) is None:
        raise NotFound(param, param=param)


def newest_first_page(
    session: Session,
    statement: Select[tuple[RowT]],
    table: type[Listed],
    *,
    merchant_id: str,
    limit: int,
    starting_after: str | None,
) -> tuple[list[RowT], bool]:
    """The rows of `statement` (already scoped to the merchant and filtered), newest first with the id as tie-breaker
    (the order of the lists' indexes), and whether more follow; see `newest_first` for `starting_after`."""
    rows = list(
        session.scalars(
            newest_first(session, statement, table, merchant_id=merchant_id, limit=limit, starting_after=starting_after)
        )
    )
    return rows[:limit], len(rows) > limit


def newest_first(
    session: Session,
    statement: SelectT,
    table: type[Listed],
    *,
    merchant_id: str,
    limit: int,
    starting_after: str | None,
) -> SelectT:
    """`statement` ordered for a page: newest first with the id as tie-breaker, `limit` + 1 rows (one more tells that
    more follow) after `starting_after`. That must name one of the merchant's rows of `table` (a deleted customer
    still marks a place): NotFound otherwise, as for any id not theirs."""
    check_limit(limit)
    if starting_after is not None:
        created_at = session.scalar(
            select(table.created_at).where(table.id == starting_after, table.merchant_id == merchant_id)
        )
        if created_at is None:
            raise NotFound("object", param="starting_after")
        statement = statement.where(tuple_(table.created_at, table.id) < tuple_(created_at, starting_after))
    return statement.order_by(table.created_at.desc(), table.id.desc()).limit(limit + 1)
