from nicegui import ui
from nicegui.testing import User

from tests.ui.conftest import log_in


def _error_of(user: User, label: str) -> str | None:
    (field,) = user.find(kind=ui.input, content=label).elements
    return field.error


async def test_invalid_fields_show_inline_errors_and_block_save(user: User) -> None:
    await log_in(user)
    (save,) = user.find(kind=ui.button, content="Save").elements
    assert not save.enabled  # nothing changed yet
    user.find("Public business name").clear()
    assert _error_of(user, "Public business name") == "This field is required."
    user.find("Website").type("http://acme.test")
    assert "https://" in (_error_of(user, "Website") or "")
    assert not save.enabled
    user.find("Public business name").type("Acme Hosting")
    user.find("Website").clear().type("https://acme.test")
    assert _error_of(user, "Public business name") is None
    assert _error_of(user, "Website") is None
    assert save.enabled


async def test_saving_changes_the_business_name_in_the_header(user: User) -> None:
    await log_in(user)
    user.find("Public business name").clear().type("Acme Hosting")
    user.find(kind=ui.button, content="Save").click()
    await user.should_see("Saved")
    await user.open("/settings/account")
    await user.should_see(kind=ui.label, content="Acme Hosting")


async def test_a_taken_or_bad_handle_is_refused_with_a_clear_error(user: User) -> None:
    await log_in(user)
    (save,) = user.find(kind=ui.button, content="Save").elements
    user.find("Handle").clear().type("acme_cloud")
    assert "lower-case letters" in (_error_of(user, "Handle") or "")
    assert not save.enabled
    user.find("Handle").clear().type("globex")
    assert _error_of(user, "Handle") is None
    user.find(kind=ui.button, content="Save").click()
    await user.should_see("This handle is taken. Choose another one.")
    user.find("Handle").clear().type("acme-hosting")
    user.find(kind=ui.button, content="Save").click()
    await user.should_see("Saved")
    await user.open("/settings/portal")
    (address,) = user.find(kind=ui.input, content="Sign-in address").elements
    assert address.value.endswith("/p/login/acme-hosting")
