from urllib.parse import urlencode

from playwright.sync_api import Page, expect

from tests.e2e.conftest import log_in


def test_merchant_logs_in_and_edits_account_details(page: Page, server_url: str) -> None:
    page.goto(f"{server_url}/settings/account")
    expect(page).to_have_url(f"{server_url}/login?redirect_to=%2Fsettings%2Faccount")
    page.get_by_label("Email").fill("owner@acme.test")
    page.get_by_label("Password", exact=True).fill("wrong-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("Email or password is incorrect.")

    log_in(page, server_url)
    expect(page.get_by_role("heading", name="Account details")).to_be_visible()
    name = page.get_by_label("Public business name")
    expect(name).to_have_value("Acme Cloud")
    name.fill("")
    expect(page.get_by_text("This field is required.")).to_be_visible()
    expect(page.get_by_role("button", name="Save")).to_be_disabled()
    name.fill("Acme Cloud Hosting")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved")).to_be_visible()
    page.reload()
    expect(page.get_by_label("Public business name")).to_have_value("Acme Cloud Hosting")


def test_health_route_checks_the_database(page: Page, server_url: str) -> None:
    response = page.request.get(f"{server_url}/healthz")
    assert response.ok
    assert response.json() == {"status": "ok"}


def test_sign_out_posts_the_form_and_an_open_tab_then_asks_to_sign_in(page: Page, server_url: str) -> None:
    log_in(page, server_url, "/customers")
    other_tab = page.context.new_page()
    other_tab.goto(f"{server_url}/customers")
    other_tab.get_by_role("link", name="Chloé Müller").click()
    expect(other_tab.get_by_role("heading", name="Chloé Müller", level=1)).to_be_visible()
    customer_path = other_tab.url.removeprefix(server_url)
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{server_url}/login")

    other_tab.get_by_role("button", name="Copy url").click()  # the tab still shows the dashboard: its action refuses
    expect(other_tab).to_have_url(f"{server_url}/login?{urlencode({'redirect_to': customer_path})}")
    page.goto(f"{server_url}/logout")  # signed out, a link to /logout leads to sign in
    expect(page).to_have_url(f"{server_url}/login")
