"""Customers → Import: the preview of the first rows, a refused file naming its bad lines, then an import."""

from __future__ import annotations

from pathlib import Path

from nicegui import ui
from nicegui.elements.upload_files import SmallFileUpload
from nicegui.testing import User
from sqlalchemy import func, select

from app.db import Database
from app.models import Customer
from tests.ui.conftest import log_in


async def _upload(user: User, data: bytes) -> None:
    (element,) = user.find(marker="import-upload").elements
    with user.client:
        await element.handle_uploads([SmallFileUpload(name="customers.csv", content_type="text/csv", _data=data)])


def _count(app_env: Path, email: str) -> int:
    database = Database(f"sqlite:///{app_env}")
    with database.transaction() as session:
        count = session.scalar(select(func.count()).select_from(Customer).where(Customer.email == email))
    database.dispose()
    return int(count or 0)


async def test_preview_then_a_refused_file_then_skip_invalid(user: User, app_env: Path) -> None:
    await log_in(user, then="/customers")
    user.find(kind=ui.button, content="Import").click()
    await user.should_see("Import customers")
    await _upload(user, "\ufeffemail;name\nnew.one@example.com;New One\nbroken;Broken\n".encode())
    await user.should_see("Detected 2 columns, separated by semicolons: email, name.")
    await user.should_see("new.one@example.com")
    user.find(marker="import-start").click()
    await user.should_see("Nothing was imported: 1 of 2 rows have problems.", retries=50)
    await user.should_see("Enter a valid email address, like name@example.com.")
    assert _count(app_env, "new.one@example.com") == 0

    await _upload(user, "\ufeffemail;name\nnew.one@example.com;New One\nbroken;Broken\n".encode())
    await user.should_not_see("Nothing was imported", retries=50)  # the new file's preview replaced the result
    user.find(kind=ui.checkbox, content="Skip invalid rows").click()
    user.find(marker="import-start").click()
    await user.should_see("Imported 1 of 2 rows: 1 customers created", retries=50)
    assert _count(app_env, "new.one@example.com") == 1
