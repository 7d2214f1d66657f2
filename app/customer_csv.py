"""Reading a customer import file: UTF-8 (with or without BOM), comma or semicolon, streamed row by row, each row
checked on its own (the database checks come later: unknown prices, existing customers).

Columns: `email` (required), `name`, `phone`, `locale`, `address_line1`, `address_line2`, `address_city`,
`address_postal_code`, `address_state`, `address_country`, and `price` (a `price_…` id) with `quantity` and
`trial_end` (an ISO date) to start a subscription. A column left out of the file keeps what an existing customer has;
an empty cell clears it.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import BinaryIO

from app.views import Address

CUSTOMER_COLUMNS = ("email", "name", "phone", "locale")
ADDRESS_COLUMNS = tuple(f"address_{part}" for part in ("line1", "line2", "city", "postal_code", "state", "country"))
SUBSCRIPTION_COLUMNS = ("price", "quantity", "trial_end")
COLUMNS = CUSTOMER_COLUMNS + ADDRESS_COLUMNS + SUBSCRIPTION_COLUMNS
MAX_CELL = 1000  # longer than any field allows; refused before anything parses it
csv.field_size_limit(MAX_CELL * 4)


@dataclass(frozen=True, slots=True)
class Problem:
    """Why a line cannot be imported: its line number in the file (the header is line 1), the column and the reason."""

    line: int
    column: str
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}, {self.column}: {self.reason}" if self.column else f"line {self.line}: {self.reason}"


class FileProblem(Exception):
    """The file as a whole cannot be read (not UTF-8, no header, no email column, unknown columns)."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(problem) for problem in problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class Row:
    """One data line as read: `values` has the file's columns (stripped); `line` is where it ends in the file."""

    line: int
    values: dict[str, str]

    @property
    def address(self) -> Address | None:
        """The billing address, when the file has any address column (absent columns count as empty)."""
        if not any(column in self.values for column in ADDRESS_COLUMNS):
            return None
        return Address(**{column.removeprefix("address_"): self.values.get(column, "") for column in ADDRESS_COLUMNS})


@dataclass(frozen=True, slots=True)
class Header:
    columns: tuple[str, ...]
    delimiter: str


def open_rows(stream: BinaryIO) -> tuple[Header, Iterator[Row]]:
    """The header and an iterator over the data rows of a CSV file read from `stream` (bytes), one row at a time.

    The delimiter is the header line's: a semicolon when it has more semicolons than commas. Blank lines are skipped.
    A file that is not UTF-8 raises FileProblem when the bad bytes are reached.
    """
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="", errors="strict")
    try:
        first = text.readline()
    except UnicodeDecodeError:
        raise FileProblem([Problem(1, "", "The file is not UTF-8 text. Save it as CSV UTF-8 and try again.")]) from None
    delimiter = ";" if first.count(";") > first.count(",") else ","
    header_cells = next(csv.reader([first], delimiter=delimiter), [])
    columns = tuple(cell.strip().lower().lstrip(codecs.BOM_UTF8.decode()) for cell in header_cells)
    problems = [
        Problem(1, column or f"column {index + 1}", f"Unknown column. Use {', '.join(COLUMNS)}.")
        for index, column in enumerate(columns)
        if column not in COLUMNS
    ]
    problems += [Problem(1, column, "This column appears twice.") for column in _duplicates(columns)]
    if "email" not in columns:
        problems.append(Problem(1, "email", "The file needs an email column (and a header line naming its columns)."))
    if problems:
        raise FileProblem(problems)
    return Header(columns, delimiter), _rows(text, columns, delimiter)


def _rows(text: io.TextIOWrapper, columns: tuple[str, ...], delimiter: str) -> Iterator[Row]:
    reader = csv.reader(text, delimiter=delimiter)
    line = 1
    try:
        for cells in reader:
            line = reader.line_num + 1  # the reader counts from after the header line
            if not any(cell.strip() for cell in cells):
                continue
            yield Row(
                line,
                {column: cell.strip() for column, cell in zip(columns, cells, strict=False)} | _extra(cells, columns),
            )
    except UnicodeDecodeError:
        raise FileProblem(
            [Problem(line + 1, "", "The file is not UTF-8 text. Save it as CSV UTF-8 and try again.")]
        ) from None
    except csv.Error as error:
        raise FileProblem([Problem(line + 1, "", f"The line cannot be read as CSV ({error}).")]) from None


def _extra(cells: list[str], columns: tuple[str, ...]) -> dict[str, str]:
    """More cells than columns: kept under a name that row_problems reports."""
    return {"": "extra"} if len(cells) > len(columns) and any(cell.strip() for cell in cells[len(columns) :]) else {}


def _duplicates(columns: tuple[str, ...]) -> list[str]:
    seen: set[str] = set()
    return [column for column in columns if column in seen or seen.add(column)]  # type: ignore[func-returns-value]


def subscription_problems(
    row: Row, today: date, max_trial_days: int, max_quantity: int
) -> tuple[list[Problem], int, datetime | None]:
    """The quantity (1 by default) and trial end (midnight UTC of the date) of a row with a price, and what is wrong
    with them."""
    problems: list[Problem] = []
    quantity_text = row.values.get("quantity", "") or "1"
    quantity = int(quantity_text) if quantity_text.isdigit() else 0
    if not 1 <= quantity <= max_quantity:
        problems.append(Problem(row.line, "quantity", f"Give a whole number from 1 to {max_quantity}."))
    trial_end = None
    if trial_text := row.values.get("trial_end", ""):
        try:
            trial_date = date.fromisoformat(trial_text)
        except ValueError:
            problems.append(Problem(row.line, "trial_end", "Give the date as YYYY-MM-DD, like 2027-01-31."))
        else:
            if not 0 < (trial_date - today).days <= max_trial_days:
                problems.append(
                    Problem(row.line, "trial_end", f"The trial must end after today and within {max_trial_days} days.")
                )
            trial_end = datetime(trial_date.year, trial_date.month, trial_date.day, tzinfo=UTC)
    if not row.values.get("price") and (row.values.get("quantity") or trial_text):
        problems.append(Problem(row.line, "price", "Give the price (price_…) that the quantity and trial are for."))
    return problems, quantity, trial_end


def sample(stream: BinaryIO, rows: int = 5) -> tuple[Header, list[Row]]:
    """The header and the first `rows` data rows, for a preview."""
    header, iterator = open_rows(stream)
    first: list[Row] = []
    for row in iterator:
        first.append(row)
        if len(first) == rows:
            break
    return header, first
