"""NiceGUI `user` tests run `main.py` against this test's copy of the demo database."""

from __future__ import annotations

from pathlib import Path

import pytest
from nicegui import ui
from nicegui.testing import User

from tests.conftest import DEMO_PASSWORD


@pytest.fixture(autouse=True)
def _use_test_database(app_env: Path) -> None:
    """Every UI test gets the environment before the `user` fixture runs main.py."""


async def log_in(
    user: User, email: str = "owner@acme.test", password: str = DEMO_PASSWORD, *, then: str = "/settings/account"
) -> None:
    """Sign in through the login page; with the right password, wait until `then` has opened."""
    await user.open(f"/login?redirect_to={then}")
    user.find("Email").type(email)
    user.find("Password").type(password)
    user.find(kind=ui.button, content="Sign in").click()
    if password == DEMO_PASSWORD:
        await user.should_see("Sign out", retries=30)


async def sign_out(user: User) -> None:
    """What the dashboard's Sign out button does in a browser: post the page's form, then follow to `/login`."""
    (token,) = user.find(marker="sign-out-token").elements
    response = await user.http_client.post("/logout", data={"sign_out_token": token.props["value"]})
    assert response.status_code == 303
    await user.open(response.headers["location"])
