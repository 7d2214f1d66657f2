"""Portal settings and Branding in Chromium: live preview, Preview tab, leave-page prompt, uploads, phone layout."""

from __future__ import annotations

from io import BytesIO

from PIL import Image
from playwright.sync_api import Dialog, Page, expect

from tests.e2e.conftest import log_in

PAGE = "/settings/portal"


def test_draft_changes_show_live_and_in_the_preview_tab_then_save(page: Page, server_url: str) -> None:
    page.set_viewport_size({"width": 1440, "height": 900})
    log_in(page, server_url, PAGE)
    preview = page.get_by_role("region", name="Portal preview")
    invoices_in_preview = preview.get_by_role("region", name="Invoice history")
    expect(invoices_in_preview).to_be_visible()
    save = page.get_by_role("button", name="Save")
    expect(save).to_be_disabled()

    page.get_by_role("switch", name="Invoice history").click()
    expect(invoices_in_preview).to_have_count(0)
    expect(page.get_by_text("Unsaved changes")).to_be_visible()
    headline = page.get_by_label("Headline")
    original_headline = headline.input_value()
    headline.fill("Hosting that grows with you")
    expect(preview.get_by_text("Hosting that grows with you")).to_be_visible()

    page.get_by_label("Terms of service URL").fill("http://acme.test/terms")
    expect(page.get_by_text("Enter a full https:// address")).to_be_visible()
    expect(save).to_be_disabled()
    page.get_by_label("Terms of service URL").fill("https://acme.test/terms")
    expect(save).to_be_enabled()

    with page.context.expect_page() as opened:
        page.get_by_role("button", name="Preview in a new tab").click()
    tab = opened.value
    expect(tab.get_by_text("Preview — not saved")).to_be_visible()
    expect(tab.get_by_text("Hosting that grows with you")).to_be_visible()
    expect(tab.get_by_role("region", name="Subscriptions")).to_be_visible()
    expect(tab.get_by_role("region", name="Invoice history")).to_have_count(0)
    tab.close()

    prompts: list[str] = []

    def dismiss(dialog: Dialog) -> None:
        prompts.append(dialog.type)
        dialog.dismiss()

    page.on("dialog", dismiss)
    page.close(run_before_unload=True)  # the browser asks; dismissing keeps the page and the draft
    expect(page.get_by_text("Unsaved changes")).to_be_visible()
    assert prompts == ["beforeunload"]

    page.get_by_role("switch", name="Invoice history").click()  # back on, so other browser tests see it
    save.click()
    expect(page.get_by_text("Saved", exact=True)).to_be_visible()
    expect(page.get_by_text("Unsaved changes")).to_be_hidden()
    page.reload()
    expect(page.get_by_label("Headline")).to_have_value("Hosting that grows with you")

    page.get_by_label("Headline").fill(original_headline)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved", exact=True).last).to_be_visible()


def test_on_a_phone_form_and_preview_switch_without_horizontal_scrolling(page: Page, server_url: str) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, server_url, PAGE)
    preview = page.get_by_role("region", name="Portal preview")
    expect(page.get_by_role("switch", name="Invoice history")).to_be_visible()
    expect(preview).to_be_hidden()
    page.get_by_role("button", name="Preview", exact=True).click()  # the Form / Preview switch
    expect(preview).to_be_visible()
    expect(page.get_by_role("switch", name="Invoice history")).to_be_hidden()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_branding_upload_and_colour_show_in_the_preview_then_save(page: Page, server_url: str) -> None:
    page.set_viewport_size({"width": 1440, "height": 900})
    log_in(page, server_url, "/settings/branding")
    preview = page.get_by_role("region", name="Portal preview")
    image = BytesIO()
    Image.new("RGB", (300, 200), "#0f7b6c").save(image, format="PNG")
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Upload icon").click()
    chooser.value.set_files(files=[{"name": "icon.png", "mimeType": "image/png", "buffer": image.getvalue()}])
    expect(preview.locator('img[src^="data:image/png;base64,"]')).to_be_visible()

    page.get_by_role("textbox", name="Brand colour").fill("#0f7b6c")
    expect(page.get_by_text("Button text on the brand colour: contrast 5.2:1")).to_be_visible()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved", exact=True)).to_be_visible()
    saved_icon = preview.locator('img[src*="/icon.png?v="]')
    expect(saved_icon).to_be_visible()
    served = page.request.get(server_url + str(saved_icon.get_attribute("src")))
    assert served.headers["content-type"] == "image/png"
    assert Image.open(BytesIO(served.body())).size == (128, 128)

    page.get_by_role("button", name="Remove icon").click()  # back to the demo branding for other browser tests
    page.get_by_role("textbox", name="Brand colour").fill("#635bff")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("No icon yet")).to_be_visible()
    expect(page.get_by_text("Unsaved changes")).to_be_hidden()
