from nicegui import ui
from nicegui.testing import User

from tests.conftest import DEMO_PASSWORD
from tests.ui.conftest import log_in, sign_out


async def test_merchant_pages_redirect_to_login_and_back(user: User) -> None:
    await user.open("/settings/account")
    await user.should_see("Sign in to your dashboard")
    user.find("Email").type("owner@acme.test")
    user.find("Password").type(DEMO_PASSWORD)
    user.find(kind=ui.button, content="Sign in").click()
    await user.should_see("Public business name")
    await user.should_see("Acme Cloud")


async def test_wrong_password_shows_a_neutral_error(user: User) -> None:
    await log_in(user, password="wrong-password")
    await user.should_see("Email or password is incorrect.")
    await user.should_not_see("Sign out")


async def test_repeated_failures_lock_the_email(user: User) -> None:
    await user.open("/login")
    user.find("Email").type("owner@acme.test")
    for _ in range(5):
        user.find("Password").type("wrong-password")
        user.find(kind=ui.button, content="Sign in").click()
        await user.should_see("Email or password is incorrect.")
    user.find("Password").type(DEMO_PASSWORD)
    user.find(kind=ui.button, content="Sign in").click()
    await user.should_see("sign-in is paused for 15 minutes")
    await user.should_not_see("Sign out")


async def test_sign_out_ends_the_session(user: User) -> None:
    await log_in(user)
    await user.should_see("Sign out")
    await sign_out(user)
    await user.should_see("Sign in to your dashboard")
    await user.open("/settings/account")
    await user.should_see("Sign in to your dashboard")
