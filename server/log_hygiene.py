"""Log lines that leak no portal link and cannot be forged, whoever logs them (this app, NiceGUI, uvicorn).

A portal URL is a bearer credential: `/portal/<token>` is logged as `/portal/[token]`. Control characters in logged
values are escaped (`\\r` -> `\\x0d`), so a path with `%0d%0a` in it cannot start a line of its own that looks
like the server wrote it. Both happen when a record is created (a log record factory), which covers every logger and
handler, including those uvicorn configures when it starts.
"""

from __future__ import annotations

import logging
import re
from typing import Any

PORTAL_TOKEN = re.compile(r"(/portal/)[^/?#\s\"'<>]+")
REDACTED_TOKEN = r"\1[token]"  # noqa: S105 - what replaces a token, not a secret
# C0 controls, DEL, C1's next line and Unicode's line and paragraph separators: what terminals and log viewers may
# take for a new line or use to hide text.
_ESCAPES = {code: f"\\x{code:02x}" for code in (*range(0x20), 0x7F, 0x85)} | {0x2028: "\\u2028", 0x2029: "\\u2029"}


def clean(text: str) -> str:
    """`text` with portal tokens redacted and control characters escaped."""
    return PORTAL_TOKEN.sub(REDACTED_TOKEN, text).translate(_ESCAPES)


def _clean_argument(value: Any) -> Any:
    if isinstance(value, bool | int | float) or value is None:
        return value  # numbers keep their type for %d and %f
    return clean(value if isinstance(value, str) else str(value))


class CleanLogRecord(logging.LogRecord):
    """A log record whose message and arguments went through `clean` (the arguments keep their positions, as
    uvicorn's access log formatter unpacks them)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if isinstance(self.msg, str):
            self.msg = clean(self.msg)
        if isinstance(self.args, tuple):
            self.args = tuple(_clean_argument(value) for value in self.args)
        elif isinstance(self.args, dict):
            self.args = {key: _clean_argument(value) for key, value in self.args.items()}


def install() -> None:
    """Create every log record of this process as a `CleanLogRecord` (for any logger, from now on)."""
    logging.setLogRecordFactory(CleanLogRecord)
