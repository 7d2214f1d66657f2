"""Hostile and unusual text that merchants and customers may type: it must be stored and shown as plain text."""

from __future__ import annotations

# Markup, script and style injections, template syntax (NiceGUI renders with Vue), SQL, and text that is merely
# unusual (right-to-left override, zero-width characters, emoji, CJK). Each fits a 60-character field.
XSS_PAYLOADS: tuple[str, ...] = (
    "<script>alert('xss')</script>",
    "<img src=x onerror=alert(1)>",
    '"><svg onload=alert(1)>',
    "javascript:alert(document.cookie)",
    "data:text/html,<script>alert(1)</script>",
    "x; width: expression(alert(1)); background:url(javascript:x)",
    "{{ constructor.constructor('alert(1)')() }}",
    "'; DROP TABLE customers; --",
    "\u202eevil.exe\u202c right-to-left override",
    "zero\u200bwidth\u200dspaces\ufeff",
    "emoji 🧾💳🚀 中文 Ünïcödé",
)
# Control characters are never typed; PostgreSQL refuses NUL in text, so they are refused with a message.
CONTROL_CHARACTER_PAYLOADS: tuple[str, ...] = ("nul\x00byte", "bell\x07and\x1bescape")
# Line breaks and tabs: refused in single-line fields (names, address lines), kept in multi-line ones.
LINE_BREAK_PAYLOADS: tuple[str, ...] = ("two\nlines", "carriage\rreturn", "crlf\r\nforged: header", "tab\tseparated")


def too_long(limit: int) -> str:
    """One character more than `limit`."""
    return "x" * (limit + 1)


def fits(payload: str, limit: int) -> str:
    """The payload cut to `limit` characters, so that it is accepted by a field of that length."""
    return payload[:limit]
