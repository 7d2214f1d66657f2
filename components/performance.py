"""Speeds up NiceGUI where the portal pays for it: building elements, and freeing them again."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nicegui import helpers
from nicegui.element import Element

_original_expects_arguments = helpers.expects_arguments
_original_handle_delete = Element._handle_delete
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


def speed_up_nicegui() -> None:
    """Install both: remembered handler signatures and deleted elements freed without garbage collection."""
    helpers.expects_arguments = _expects_arguments
    Element._handle_delete = _handle_delete_without_cycles  # type: ignore[method-assign]
