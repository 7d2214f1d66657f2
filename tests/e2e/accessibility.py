"""axe-core (Deque's engine, as shipped in the `axe-playwright-python` package) run inside a Playwright page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import axe_playwright_python
from playwright.sync_api import Page

AXE_SCRIPT = Path(axe_playwright_python.__file__).resolve().parent / "axe.min.js"
BLOCKING_IMPACTS = frozenset({"serious", "critical"})


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """Violations that block: serious or critical ones, and every landmark rule (`landmark-*`) whatever its impact."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(path=str(AXE_SCRIPT))
    results = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        violation
        for violation in results["violations"]
        if violation["impact"] in BLOCKING_IMPACTS or violation["id"].startswith("landmark-")
    ]


def describe(violations: list[dict[str, Any]]) -> str:
    """One line per failing node: rule, impact, the element's HTML and axe's summary of what to fix."""
    lines = []
    for violation in violations:
        for node in violation["nodes"][:5]:
            summary = " ".join(node.get("failureSummary", "").split())
            lines.append(f"{violation['id']} ({violation['impact']}): {node['html'][:160]} -- {summary[:240]}")
    return "\n".join(lines)
