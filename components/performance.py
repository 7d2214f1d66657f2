"""Speeds up building NiceGUI elements, which is what re-rendering the live preview costs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nicegui import helpers

_original_expects_arguments = helpers.expects_arguments
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


def remember_handler_signatures() -> None:
    helpers.expects_arguments = _expects_arguments
