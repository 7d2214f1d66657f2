"""Portal languages: locale negotiation and gettext catalogs (en, de, fr, zh_Hans) read from `app/locales/`.

How the UI uses it (components/portal, pages/portal.py):

    from app.i18n import translator
    _ = translator(view.locale)           # a Callable[[str], str]; unknown msgids come back unchanged (English)
    ui.label(_("Subscriptions"))
    ui.label(_("Cancels on {date}").format(date=format_date(..., locale=view.locale)))

- msgids are the English texts; placeholders are `str.format` names in braces, filled *after* translating.
- Service error messages (`ValidationFailed.field_errors` values, `Forbidden`/`NotFound` texts, card declines)
  are English msgids in the same catalogs: show them as `_(message)`.
- `SUPPORTED_LOCALES` maps the locale a customer can switch to onto its native name (for a language select);
  `switcher_locale(view.locale)` gives the entry a negotiated locale belongs to (e.g. `en_GB` -> `en_US`).
- `negotiate_locale(customer_locale, accept_language)` picks the locale to format money and dates with: the
  customer's record if we speak its language, else the best `Accept-Language` entry, else `en_US`.
- Add a msgid by adding it to every `app/locales/<lang>/LC_MESSAGES/messages.po`; `tests/unit/test_portal_i18n.py`
  fails when a string used in the portal has no translation. The `.po` files are read directly (no compile step).
"""

from __future__ import annotations

import gettext
from collections.abc import Callable
from functools import lru_cache
from io import BytesIO
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
DEFAULT_LOCALE = "en_US"
SUPPORTED_LOCALES: dict[str, str] = {
    "en_US": "English",
    "de_DE": "Deutsch",
    "fr_FR": "Français",
    "zh_Hans_CN": "简体中文",
}
# BCP 47 tags are short; anything longer is not parsed at all.
MAX_TAG_LENGTH = 35
# The catalog that serves each language; Chinese is served only in Simplified script.
_CATALOGS: dict[str, str] = {"en": "en", "de": "de", "fr": "fr", "zh": "zh_Hans"}

Translate = Callable[[str], str]


def _parse(tag: str) -> Locale | None:
    """A Babel locale for `en_GB`, `en-GB`, `zh-CN` (-> zh_Hans_CN) or `de`; None when Babel does not know it."""
    tag = tag.strip()
    if not tag or tag == "*":
        return None
    try:
        return Locale.parse(tag.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return None


def _catalog_name(locale: Locale) -> str | None:
    if locale.language == "zh" and locale.script not in (None, "Hans"):
        return None  # Traditional Chinese readers get the next language they asked for
    return _CATALOGS.get(locale.language)


def is_supported(locale: str) -> bool:
    return supported_locale(locale) is not None


def supported_locale(tag: str) -> str | None:
    """`tag` as Babel names it (`en-US` -> `en_US`) when we speak its language, else None (`xx`, `` or junk)."""
    parsed = _parse(tag) if len(tag) <= MAX_TAG_LENGTH else None
    return str(parsed) if parsed is not None and _catalog_name(parsed) is not None else None


def _accept_language_tags(header: str) -> list[str]:
    """Tags of an Accept-Language header, best first (stable for equal weights); q=0 means 'not this'."""
    weighted: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and quality > 0:
            weighted.append((-quality, position, tag))
    return [tag for _, _, tag in sorted(weighted)]


def negotiate_locale(customer_locale: str, accept_language: str) -> str:
    """The locale to show the portal in: the customer's own if supported, else the browser's best, else en_US."""
    for tag in (customer_locale, *_accept_language_tags(accept_language)):
        parsed = _parse(tag)
        if parsed is not None and _catalog_name(parsed) is not None:
            return str(parsed)
    return DEFAULT_LOCALE


def switcher_locale(locale: str) -> str:
    """The `SUPPORTED_LOCALES` key that speaks the language of `locale` (`de_AT` -> `de_DE`)."""
    parsed = _parse(locale)
    language = _catalog_name(parsed) if parsed else None
    for key in SUPPORTED_LOCALES:
        candidate = _parse(key)
        if candidate is not None and _catalog_name(candidate) == language:
            return key
    return DEFAULT_LOCALE


@lru_cache(maxsize=16)
def _translations(catalog_name: str, domain: str = "messages") -> gettext.NullTranslations:
    path = LOCALES_DIR / catalog_name / "LC_MESSAGES" / f"{domain}.po"
    if not path.exists():
        return gettext.NullTranslations()
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=catalog_name)
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled)


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "translate later"
    """Marks an English message that is shown to customers after translation elsewhere (found by the i18n test)."""
    return message


def translator(locale: str, domain: str = "messages") -> Translate:
    """`gettext` for `locale`: the translated text of an English msgid, or the msgid itself when missing.

    `domain` names the catalog file: `messages` (the portal) or `mails` (app/services/mail_text.py).
    """
    parsed = _parse(locale)
    catalog_name = (_catalog_name(parsed) if parsed else None) or "en"
    return _translations(catalog_name, domain).gettext
