"""`python -m app api-keys create --email LOGIN [--name NAME]` prints a working secret key as its last line."""

from __future__ import annotations

import pytest

from app.__main__ import main
from app.config import Settings
from app.db import Database
from app.services.api_keys import MAX_ACTIVE_KEYS, authenticate_api_key, list_api_keys
from tests.unit.portal_support import merchant_id_of


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """The environment points the CLI at this test's database (SQLite or PostgreSQL)."""
    monkeypatch.setenv("DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("DATABASE_URL", settings.effective_database_url)
    monkeypatch.setenv("SECRET_KEY", settings.secret_key)


@pytest.mark.usefixtures("cli_env")
def test_prints_a_new_key_of_the_logins_merchant_last(database: Database, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["api-keys", "create", "--email", "OWNER@acme.test", "--name", "Signup flow"]) == 0
    secret = capsys.readouterr().out.strip().splitlines()[-1]
    with database.transaction() as session:
        caller = authenticate_api_key(session=session, secret=secret)
        acme = merchant_id_of(session, "Acme Cloud")
        [key] = list_api_keys(session=session, merchant_id=acme)
    assert caller is not None and caller.merchant_id == acme
    assert (key.name, secret.startswith(key.prefix)) == ("Signup flow", True)


@pytest.mark.usefixtures("cli_env")
def test_an_unknown_login_or_too_many_keys_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["api-keys", "create", "--email", "nobody@acme.test"]) == 1
    assert "No merchant login" in capsys.readouterr().err
    for _ in range(MAX_ACTIVE_KEYS):
        assert main(["api-keys", "create", "--email", "owner@acme.test"]) == 0
    assert main(["api-keys", "create", "--email", "owner@acme.test"]) == 2  # the Account details page's rule
    assert "at most" in capsys.readouterr().err
    assert main(["api-keys", "create", "--email", "owner@acme.test", "--name", "x" * 61]) == 2
