"""`python -m app billing run --now …` moves the billing clock; a moment without a UTC offset is refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.__main__ import main
from app.db import Database
from app.models import Invoice


def test_billing_run_processes_what_is_due_and_a_second_run_does_nothing(
    app_env: Path, database: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["billing", "run", "--now", "2027-01-15T00:00:00Z"]) == 0
    first = capsys.readouterr().out
    with database.transaction() as session:
        invoices = session.scalar(select(func.count()).select_from(Invoice))
    assert main(["billing", "run", "--now", "2027-01-15T00:00:00+00:00"]) == 0
    second = capsys.readouterr().out
    with database.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Invoice)) == invoices

    assert "Billing clock advanced to 2027-01-15T00:00:00+00:00" in first
    assert ": 0 invoices created" not in first
    assert "0 invoices created, 0 payments succeeded, 0 failed, 0 subscriptions ended" in second


def test_a_moment_without_an_offset_is_refused(app_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["billing", "run", "--now", "2027-01-15T00:00:00"])
    assert exited.value.code == 2
    assert "add a UTC offset" in capsys.readouterr().err
