"""Waiting for a refresh: `@ui.refreshable` rebuilds run right after the handler, so tests poll like `should_see`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from nicegui import ui


async def eventually(check: Callable[[], bool], what: str, *, retries: int = 30) -> None:
    for _attempt in range(retries):
        if check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"expected {what}")


async def rebuilt(element: ui.element) -> None:
    """Until `element` was replaced by a refresh of its container."""
    await eventually(lambda: element.is_deleted, f"{element} to be rebuilt")
