"""A real SMTP server (aiosmtpd) in the test process, for any test that reads what the app sent.

Use the `smtp_server` fixture (registered in tests/conftest.py): point `SMTP_URL` at `smtp_server.url` (or use
`smtp_settings`), make the app send, then `smtp_server.wait_for(1)` returns the parsed mails without sleeping.
`smtp_server.refuse_with = 451` (or 550) makes it answer DATA with that code; `hold()` stops it in the middle of a
conversation (after RCPT) until `release()`, to kill a sender mid-send.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from app.config import Settings

WAIT_SECONDS = 20.0
_URL = re.compile(r"https?://[^\s\"'<>]+")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class SmtpServer:
    """What the server received, in order; each entry is a parsed mail plus its envelope recipients."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.recipients: list[list[str]] = []
        self.refuse_with: int | None = None
        self._arrived = threading.Condition()
        self._holding = False
        self.held = threading.Event()  # set when a conversation reached RCPT while holding
        self._release = threading.Event()
        self.port = free_port()
        self.url = f"smtp://127.0.0.1:{self.port}"

    # aiosmtpd handler hooks
    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any) -> str:  # noqa: N802
        envelope.rcpt_tos.append(address)
        if self._holding:
            self.held.set()
            await asyncio.get_running_loop().run_in_executor(None, self._release.wait)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        if self.refuse_with is not None:
            return f"{self.refuse_with} Refused by the test server"
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        with self._arrived:
            self.messages.append(message)
            self.recipients.append(list(envelope.rcpt_tos))
            self._arrived.notify_all()
        return "250 OK"

    def hold(self) -> None:
        self._holding, self._release = True, threading.Event()
        self.held.clear()

    def release(self) -> None:
        self._holding = False
        self._release.set()

    def wait_for(self, count: int, timeout: float = WAIT_SECONDS) -> list[EmailMessage]:
        """The first `count` mails, waiting for them to arrive (fails after `timeout` seconds)."""
        with self._arrived:
            arrived = self._arrived.wait_for(lambda: len(self.messages) >= count, timeout=timeout)
            assert arrived, f"expected {count} mails, received {len(self.messages)}"
            return list(self.messages[:count])

    def wait_for_mail_to(self, address: str, timeout: float = WAIT_SECONDS) -> EmailMessage:
        """The first mail to `address`, waiting for it to arrive."""
        with self._arrived:
            arrived = self._arrived.wait_for(lambda: bool(self.to(address)), timeout=timeout)
            received = [(message["To"], message["Subject"]) for message in self.messages]
            assert arrived, f"no mail to {address} among {received}"
            return self.to(address)[0]

    def to(self, address: str) -> list[EmailMessage]:
        """The mails sent to this address so far."""
        return [message for message in self.messages if message["To"] == address]

    def clear(self) -> None:
        with self._arrived:
            self.messages.clear()
            self.recipients.clear()


def text_part(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None, "the mail has no plain-text part"
    return str(part.get_content()).replace("\r\n", "\n")


def html_part(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None, "the mail has no HTML part"
    return str(part.get_content()).replace("\r\n", "\n")


def links_in(text: str) -> list[str]:
    """The http(s) addresses in a mail part, in order (HTML entities such as &amp; decoded)."""
    return [link.replace("&amp;", "&") for link in _URL.findall(text)]


def attachments(message: EmailMessage) -> dict[str, bytes]:
    """File name → bytes of each attachment."""
    return {part.get_filename() or "": bytes(part.get_content()) for part in message.iter_attachments()}


@contextmanager
def running_smtp_server() -> Iterator[SmtpServer]:
    """A real SMTP server on a free local port while the block runs."""
    server = SmtpServer()
    controller = Controller(server, hostname="127.0.0.1", port=server.port)
    controller.start()
    try:
        yield server
    finally:
        server.release()
        controller.stop()


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A real SMTP server on a free local port for this test."""
    with running_smtp_server() as server:
        yield server


@pytest.fixture
def smtp_settings(settings: Settings, smtp_server: SmtpServer) -> Settings:
    """The test's settings with SMTP_URL pointing at `smtp_server`."""
    return settings.model_copy(update={"smtp_url": smtp_server.url, "mail_from": "portal@portal.test"})
