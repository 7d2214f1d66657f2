"""Every use of NiceGUI's private parts: patches that speed up building elements and freeing them again."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from nicegui import helpers
from nicegui.element import Element
from nicegui.outbox import Outbox

_original_expects_arguments = helpers.expects_arguments
_original_handle_delete = Element._handle_delete
_original_outbox_loop = Outbox.loop
_answers_by_function: dict[Callable[..., Any], bool] = {}


def _expects_arguments(handler: Callable[..., Any]) -> bool:
    """NiceGUI's check, remembered per function for bound methods.

    Every element registers its own bound methods as change handlers, and NiceGUI inspects each one's signature
    (`inspect.signature`): about a third of the time to build an element. For a bound method the answer depends
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
    reference cycles per element, which only a full garbage collection frees. A page of the portal leaves about
    3,000 such objects per client, and with many clients alive a full collection stalls the server for a second.
    Without the cycles, reference counting frees a deleted element at once.
    """
    _original_handle_delete(element)
    for observable in (element._classes, element._style, element._props):
        observable._change_handlers.clear()


async def _outbox_loop_once_connected(outbox: Outbox) -> None:
    """NiceGUI's outbox loop, started when the page's browser has connected (or its client was deleted).

    NiceGUI's loop checks ten times a second whether its client has connected. With hundreds of page loads whose
    browser never connects (link scanners, mail previews; each kept 20 s before pruning) that polling alone took a
    tenth of a core. Waiting for the connection instead costs nothing; what was queued meanwhile is sent then.

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


def speed_up_nicegui() -> None:
    """Install all three: remembered handler signatures, deleted elements freed without garbage collection, and
    outbox loops that wait for their browser instead of polling."""
    helpers.expects_arguments = _expects_arguments
    Element._handle_delete = _handle_delete_without_cycles  # type: ignore[method-assign]
    Outbox.loop = _outbox_loop_once_connected  # type: ignore[method-assign]
