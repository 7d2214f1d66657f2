"""Add every customer-facing portal message that is missing to each catalog in app/locales (empty, to translate).

Run `.venv/bin/python scripts/update_catalogs.py` after adding texts to the portal, then fill in the new `msgstr`s;
`tests/unit/test_portal_i18n.py` fails until every catalog except English translates them.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.i18n import LOCALES_DIR
from tests.unit.test_portal_i18n import customer_facing_messages

CATALOGS = ("en", "de", "fr", "zh_Hans")


def update(name: str, messages: set[str]) -> int:
    path = LOCALES_DIR / name / "LC_MESSAGES" / "messages.po"
    if path.exists():
        with path.open("rb") as handle:
            catalog = read_po(handle, locale=name)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        catalog = Catalog(locale=name, project="subscription-portal", domain="messages")
    catalog.fuzzy = False  # a reviewed header, so that compiling keeps its charset
    added = [message for message in sorted(messages) if message not in catalog]
    for message in added:
        catalog.add(message, "")
    with path.open("wb") as handle:
        write_po(handle, catalog, width=120, sort_output=True, omit_header=False)
    return len(added)


if __name__ == "__main__":
    found = customer_facing_messages()
    for catalog_name in CATALOGS:
        print(f"{catalog_name}: {update(catalog_name, found)} new messages")
