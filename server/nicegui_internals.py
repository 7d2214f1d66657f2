"""Every use of NiceGUI's private parts, and the NiceGUI versions they were tested with.

The patches below speed up building elements and freeing them again (their measured effect is in
benchmarks/results/history.md, "Figures behind the tuning in the code"). They replace NiceGUI internals, which a minor
release may change without notice, so they are applied only on a NiceGUI release in `TESTED_NICEGUI` (pyproject.toml
pins the same range); on any other the app runs on NiceGUI's own code and logs a warning. Tests and benchmarks that
need a private part reach it through the functions at the end of this module.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib.metadata import version as installed_version
from typing import Any, get_args

import nicegui.client as nicegui_client
from fastapi import Request
from nicegui import Client, helpers, storage, ui
from nicegui import json as nicegui_json
from nicegui.element import Element
from nicegui.language import Language
from nicegui.outbox import Message, Outbox

# The NiceGUI releases these patches were tested with: from the first (inclusive) to the second (exclusive).
TESTED_NICEGUI = ((3, 18), (3, 19))

log = logging.getLogger(__name__)

# What the patches replace: NiceGUI's handler signature check, element clean-up and outbox loop, and the JSON
# module its client module builds pages with.
Functions = tuple[Callable[..., Any], Callable[..., Any], Callable[..., Any], Any]


def nicegui_functions() -> Functions:
    """The functions the patches replace, as NiceGUI has them now (patched or not)."""
    return helpers.expects_arguments, Element._handle_delete, Outbox.loop, nicegui_client.json


def install_functions(functions: Functions) -> None:
    (
        helpers.expects_arguments,
        Element._handle_delete,  # type: ignore[method-assign]
        Outbox.loop,  # type: ignore[method-assign]
        nicegui_client.json,
    ) = functions


ORIGINALS: Functions | None
try:
    _original_expects_arguments, _original_handle_delete, _original_outbox_loop, _ = ORIGINALS = nicegui_functions()
except AttributeError:  # a NiceGUI without them: `apply_patches` leaves it alone, and importing must not fail
    ORIGINALS = None
_answers_by_function: dict[Callable[..., Any], bool] = {}


def is_tested_nicegui(nicegui_version: str) -> bool:
    """Whether `nicegui_version` (like "3.18.0") lies in `TESTED_NICEGUI`."""
    release = tuple(int(number) for number in re.findall(r"\d+", nicegui_version.split("+")[0])[:3])
    lowest, beyond = TESTED_NICEGUI
    return lowest <= release < beyond


def _expects_arguments(handler: Callable[..., Any]) -> bool:
    """NiceGUI's check, remembered per function for bound methods.

    Every element registers its own bound methods as change handlers, and NiceGUI inspects each one's signature
    (`inspect.signature`), a large share of the time to build an element. For a bound method the answer depends
    only on the underlying function, so it is computed once per function instead of once per element.
    """
    function = getattr(handler, "__func__", None)
    if function is None:
        return _original_expects_arguments(handler)
    answer = _answers_by_function.get(function)
    if answer is None:
        answer = _answers_by_function[function] = _original_expects_arguments(handler)
    return answer


def _handle_delete_without_cycles(element: Element) -> None:
    """NiceGUI's clean-up of a deleted element, then the reference cycles it leaves are cut.

    An element's classes, style and props each keep their own bound `_update` method as change handler: three
    reference cycles per element, which only a full garbage collection frees, and with many clients alive a full
    collection stalls the server. Without the cycles, reference counting frees a deleted element at once.
    """
    _original_handle_delete(element)
    for observable in (element.classes, element.style, element.props):
        observable._change_handlers.clear()


async def _outbox_loop_once_connected(outbox: Outbox) -> None:
    """NiceGUI's outbox loop, started when the page's browser has connected (or its client was deleted).

    NiceGUI's loop checks ten times a second whether its client has connected. With hundreds of page loads whose
    browser never connects (link scanners, mail previews; each kept until pruned) that polling alone took a
    noticeable share of a core. Waiting for the connection instead costs nothing; what was queued meanwhile is sent
    then.

    Cancelling (at shutdown) also stops the outbox: the loop waits with Python 3.11's `wait_for`, which swallows a
    cancellation that arrives as its wait completes, and the loop then ran on until NiceGUI gave up after 2 s.
    """
    client = outbox._client()
    if client is not None and not client.has_socket_connection and not client.is_deleted:
        connected = client._connected  # set on connection, and on deletion to end waits
        del client  # waiting must not keep a pruned client alive
        await connected.wait()
    sending = asyncio.ensure_future(_original_outbox_loop(outbox))
    try:
        await asyncio.shield(sending)
    except asyncio.CancelledError:
        outbox.stop()  # ends the loop at its next check, even if the cancellation below is swallowed
        sending.cancel()
        await asyncio.wait({sending})
        raise


# NiceGUI's escapes for the elements' JSON in the page, `&` first: the others' entities contain it.
_PAGE_ESCAPES = sorted(
    ((chr(code), str(entity)) for code, entity in nicegui_client.HTML_ESCAPE_TABLE.items()),
    key=lambda escape: escape[0] != "&",
)


class _PageJsonText(str):
    """JSON text that NiceGUI's page builder escapes for HTML with `translate(HTML_ESCAPE_TABLE)`.

    `str.translate` with replacements longer than one character looks up every character of the text in the table
    (and catches a KeyError for almost all of them): about 1.5 ms of a portal page's 30 ms. The same escapes as one
    `str.replace` each give the same text in a fortieth of the time.
    """

    __slots__ = ()

    def translate(self, table: Any) -> str:
        if table is not nicegui_client.HTML_ESCAPE_TABLE:
            return str.translate(self, table)
        text = str(self)
        for character, entity in _PAGE_ESCAPES:
            text = text.replace(character, entity)
        return text


class _PageJson:
    """`nicegui.json` for NiceGUI's client module, whose `dumps` gives `_PageJsonText`."""

    @staticmethod
    def dumps(value: Any, *args: Any, **kwargs: Any) -> str:
        return _PageJsonText(nicegui_json.dumps(value, *args, **kwargs))

    def __getattr__(self, name: str) -> Any:
        return getattr(nicegui_json, name)


PATCHES: Functions = (_expects_arguments, _handle_delete_without_cycles, _outbox_loop_once_connected, _PageJson())


def apply_patches(nicegui_version: str | None = None) -> bool:
    """Install the patches above on a tested NiceGUI (the installed one unless `nicegui_version` is given).

    Returns whether they are installed: on an untested NiceGUI nothing is changed and a warning says so.
    """
    nicegui_version = nicegui_version or installed_version("nicegui")
    if ORIGINALS is None or not is_tested_nicegui(nicegui_version):
        lowest, beyond = (".".join(map(str, release)) for release in TESTED_NICEGUI)
        log.warning(
            "NiceGUI %s is not one this app was tested with (>=%s,<%s): running without its NiceGUI speed-ups "
            "(server/nicegui_internals.py) and without early pruning of unconnected page loads",
            nicegui_version,
            lowest,
            beyond,
        )
        return False
    install_functions(PATCHES)
    return True


@contextmanager
def storage_of(request: Request) -> Iterator[None]:
    """`app.storage.user` as it is for `request`'s session.

    NiceGUI picks a session's storage by the request in a context variable, which an event handler takes from the
    request its element was created in: not always the page's own (an element rebuilt from outside any event).
    """
    token = storage.request_contextvar.set(request)
    try:
        yield
    finally:
        storage.request_contextvar.reset(token)


# NiceGUI's socket.io route, and the route each `ui.upload` registers for its files (`Upload._registered_url`).
SOCKET_PATH_PREFIX = "/_nicegui_ws/"
_UPLOAD_PATH = re.compile(r"/_nicegui/client/(?P<client>[^/]+)/upload/[^/]+")


def upload_client_id(path: str) -> str | None:
    """The id of the page (client) an upload route belongs to, or None when `path` is not an upload route."""
    match = _UPLOAD_PATH.fullmatch(path)
    return match.group("client") if match else None


def page_session_id(client_id: str) -> str | None:
    """The session id of the browser a live page was built for (None for an unknown or deleted page)."""
    client = Client.instances.get(client_id)
    if client is None or client.is_deleted or client.request is None:
        return None
    return client.request.session.get("id")


def awaits_reconnection(client: Client) -> bool:
    """Whether NiceGUI has scheduled `client`'s deletion after its browser disconnected (the reconnect timeout)."""
    return bool(client._delete_tasks)


# --- The page's language ---------------------------------------------------------------------------------------

PAGE_LANGUAGES = frozenset(get_args(Language))  # Quasar's language packs, which NiceGUI serves
DEFAULT_PAGE_LANGUAGE = "en-US"


def page_language(locale: str) -> str:
    """The Quasar language pack closest to a Babel locale: `de_DE` -> `de-DE`, `fr_FR` -> `fr`, `zh_Hans_CN` ->
    `zh-CN`; English when Quasar has none of its language."""
    parts = locale.replace("-", "_").split("_")
    language, territory = parts[0].lower(), parts[-1].upper() if len(parts) > 1 else ""
    for candidate in (f"{language}-{territory}", language, f"{language}-CN" if language == "zh" else ""):
        if candidate in PAGE_LANGUAGES:
            return candidate
    return DEFAULT_PAGE_LANGUAGE


def set_page_language(locale: str) -> None:
    """Serve the page being built with `<html lang>` (and Quasar's own texts) in the language of `locale`.

    NiceGUI takes the language from the page's route, fixed for every request; the portal's language is the
    customer's, so this client gets its own copy of the route's page settings with that language.
    """
    client = ui.context.client
    client.page = copy.copy(client.page)
    client.page.language = page_language(locale)  # type: ignore[assignment]


def switch_page_language(client: Client, locale: str) -> None:
    """Change `<html lang>` of a page already shown (the customer picked another language)."""
    with client:
        ui.run_javascript(f"document.documentElement.lang = {json.dumps(page_language(locale))}")


# --- For tests and benchmarks -----------------------------------------------------------------------------------


def mark_connected(client: Client) -> None:
    """What NiceGUI does when the browser of `client` connects (and when deleting it): wake what waits for that."""
    client._connected.set()


def outbox_stopped(outbox: Outbox) -> bool:
    """Whether `outbox.stop()` was called: NiceGUI's loop ends at its next check."""
    return outbox._should_stop


def element_markers(element: Element) -> list[str]:
    """The markers `element.mark(...)` gave it."""
    return element._markers


def watch_messages(outbox: Outbox, watcher: Callable[[Message], None]) -> None:
    """Show `watcher` every message `outbox` sends to the browser, before it is sent."""
    emit = outbox._emit

    async def watched_emit(message: Message) -> None:
        watcher(message)
        await emit(message)

    outbox._emit = watched_emit  # type: ignore[method-assign]
