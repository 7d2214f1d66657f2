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
