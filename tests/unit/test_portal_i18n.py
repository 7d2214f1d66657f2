"""Portal languages: negotiation, and a translation in every catalog for every message customers can see."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from app.enums import CancellationReason
from app.gateways.base import customer_message
from app.i18n import LOCALES_DIR, SUPPORTED_LOCALES, negotiate_locale, switcher_locale, translator
from app.services.portal import MAX_QUANTITY
from app.tax_ids import TAX_ID_TYPES
from app.validation import check_country, check_email, check_length, check_phone, check_postal_code

ROOT = Path(__file__).resolve().parents[2]
# Files whose `t(...)`, `text(...)`, `_(...)` and `N_(...)` calls with a literal are customer-facing messages.
SOURCES = [
    *sorted((ROOT / "components" / "portal").glob("*.py")),
    ROOT / "pages" / "portal.py",
    *sorted((ROOT / "app" / "services" / "portal").glob("*.py")),
    ROOT / "app" / "services" / "payments.py",
    ROOT / "app" / "services" / "charges.py",
    ROOT / "app" / "gateways" / "base.py",
    ROOT / "app" / "services" / "invoice_pdf.py",
    ROOT / "server" / "page_limits.py",
    ROOT / "pages" / "portal_sign_in.py",
    ROOT / "app" / "services" / "portal_sign_in.py",
]
TRANSLATED_CATALOGS = ("de", "fr", "zh_Hans")


def _literal_calls(path: Path) -> set[str]:
    messages = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        function = node.func
        name = function.id if isinstance(function, ast.Name) else getattr(function, "attr", None)
        first = node.args[0]
        if name in {"t", "text", "_", "N_"} and isinstance(first, ast.Constant) and isinstance(first.value, str):
            messages.add(first.value)
    return messages


def _component_labels() -> set[str]:
    """Status badges and the preview notice of the portal UI (imported only once components/portal exists)."""
    if not (ROOT / "components" / "portal" / "subscriptions.py").exists():
        return set()
    from components.badges import INVOICE_LABELS, SUBSCRIPTION_LABELS
    from components.portal.actions import PREVIEW_MESSAGE

    return {PREVIEW_MESSAGE} | {label for label, _ in (*INVOICE_LABELS.values(), *SUBSCRIPTION_LABELS.values())}


def customer_facing_messages() -> set[str]:
    """Every English message the portal can show (literal calls, labels, and the services' formatted errors)."""
    messages = set().union(*(_literal_calls(path) for path in SOURCES if path.exists()))
    messages |= _component_labels()
    messages |= {reason.label for reason in CancellationReason} | {tax_id.label for tax_id in TAX_ID_TYPES.values()}
    messages |= {tax_id.invalid_message for tax_id in TAX_ID_TYPES.values()}
    messages |= {f"Choose a quantity between 1 and {MAX_QUANTITY}."}
    validation = [
        check_email("not-an-email"),
        check_phone("12"),
        check_phone("+1 000 000 0000"),
        check_country("XX"),
        check_length("", 10, required=True),
        check_length("\x00", 10),
        check_postal_code("US", ""),
        *(check_postal_code(country, "?") for country in ("US", "DE", "FR", "CN", "GB", "CA")),
    ]
    return messages | {message for message in validation if message}


def _catalog(name: str) -> dict[str, str]:
    with (LOCALES_DIR / name / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle)
    return {message.id: message.string for message in catalog if message.id and not message.fuzzy}


def _placeholders(text: str) -> set[str]:
    return set(re.findall(r"{(\w*)}", text))


@pytest.mark.parametrize("name", TRANSLATED_CATALOGS)
def test_every_customer_facing_message_is_translated(name: str) -> None:
    catalog = _catalog(name)
    missing = sorted(message for message in customer_facing_messages() if not catalog.get(message))
    assert missing == [], f"add these msgids to app/locales/{name}/LC_MESSAGES/messages.po"
    wrong = [msgid for msgid, text in catalog.items() if text and _placeholders(text) != _placeholders(msgid)]
    assert wrong == [], "translations must keep the {placeholders} of their msgid"


def test_translator_translates_and_falls_back_to_english() -> None:
    assert translator("de_DE")("Subscriptions") == "Abonnements"
    assert translator("de_AT")("Subscriptions") == "Abonnements"
    assert translator("fr_CA")("Invoice history") == "Historique des factures"
    assert translator("zh_Hans_CN")("Download PDF") == "下载 PDF"
    assert translator("en_GB")("Subscriptions") == "Subscriptions"
    assert translator("de_DE")("A message nobody translated") == "A message nobody translated"
    assert translator("xx")("Subscriptions") == "Subscriptions"


@pytest.mark.parametrize("gateway_code", ["card_declined", "expired_card", "incorrect_cvc", "unknown", ""])
def test_gateway_errors_are_catalog_messages(gateway_code: str) -> None:
    assert customer_message(gateway_code) in customer_facing_messages()


@pytest.mark.parametrize(
    ("customer", "header", "expected"),
    [
        ("de_DE", "fr-FR", "de_DE"),
        ("en_GB", "", "en_GB"),
        ("", "fr-CH, de;q=0.9", "fr_CH"),
        ("es_ES", "es, de-AT;q=0.8, en;q=0.5", "de_AT"),
        ("", "zh-CN,zh;q=0.9", "zh_Hans_CN"),
        ("", "zh-TW, en;q=0.1", "en"),  # no Traditional Chinese catalog: the next language asked for
        ("", "de;q=0, fr;q=0.5", "fr"),
        ("", "*", "en_US"),
        ("", "", "en_US"),
        ("", "garbage;;q=x", "en_US"),
    ],
)
def test_locale_negotiation(customer: str, header: str, expected: str) -> None:
    assert negotiate_locale(customer, header) == expected


def test_switcher_offers_each_language_once() -> None:
    assert list(SUPPORTED_LOCALES) == ["en_US", "de_DE", "fr_FR", "zh_Hans_CN"]
    assert [switcher_locale(locale) for locale in ("en_GB", "de_AT", "fr_CA", "zh_Hans_CN", "es_ES")] == [
        "en_US",
        "de_DE",
        "fr_FR",
        "zh_Hans_CN",
        "en_US",
    ]
