"""Form helpers: a group of named inputs whose errors come from the domain's validation."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from nicegui import ui
from nicegui.elements.mixins.validation_element import ValidationElement
from nicegui.elements.mixins.value_element import ValueElement


class FieldGroup:
    """Named inputs that are read together and shown their field errors together."""

    def __init__(self) -> None:
        self.fields: dict[str, ValueElement] = {}

    def add(self, name: str, element: ValueElement) -> ValueElement:
        if isinstance(element, ValidationElement):
            element.without_auto_validation()  # errors come from the domain, not from per-element rules
        self.fields[name] = element
        return element

    def values(self) -> dict[str, Any]:
        return {name: _clean(element.value) for name, element in self.fields.items()}

    def show_errors(self, errors: Mapping[str, str]) -> None:
        for name, element in self.fields.items():
            if isinstance(element, ValidationElement):
                element.error = errors.get(name)

    def on_change(self, handler: Callable[[], None]) -> None:
        for element in self.fields.values():
            element.on_value_change(lambda _event: handler())


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip()
    return "" if value is None else value


def text_field(
    label: str, value: str, *, max_length: int | None = None, hint: str = "", input_type: str = "text"
) -> ui.input:
    """An outlined, labelled text input; `max_length` adds a counter (the service still checks the length)."""
    field = ui.input(label, value=value).props(f"outlined dense type={input_type}").classes("w-full")
    if max_length:
        field.props(f"counter maxlength={max_length}")
    if hint:
        field.props["hint"] = hint
    return field
