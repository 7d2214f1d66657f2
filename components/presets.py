"""Element classes with their classes and props built in, for elements that pages build many times."""

from __future__ import annotations

import types
from typing import TypeVar, cast

from nicegui.element import Element

E = TypeVar("E", bound=Element)


def preset(base: type[E], *, classes: str | None = None, props: str | None = None, style: str | None = None) -> type[E]:
    """`base` with `classes`, `props` and `style` built in, for elements that every portal page builds many times.

    `ui.label(text).classes(c)` has NiceGUI handle a change (and `.props(p)` one per property) after construction;
    as class defaults they are in place from the start, which makes building such an element markedly cheaper
    (figures: benchmarks/results/history.md).
    """
    namespace = {"default_classes": classes, "default_props": props, "default_style": style}
    return cast(type[E], types.new_class(base.__name__, (base,), namespace))
