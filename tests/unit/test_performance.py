from nicegui import helpers
from nicegui.element import Element
from nicegui.outbox import Outbox

from server.nicegui_internals import (
    _expects_arguments,
    _handle_delete_without_cycles,
    _outbox_loop_once_connected,
    speed_up_nicegui,
)


class Handlers:
    def with_event(self, event: object) -> None: ...

    def without_arguments(self) -> None: ...

    def with_default(self, event: object = None) -> None: ...


def test_bound_methods_get_the_same_answers_as_nicegui_gives() -> None:
    first, second = Handlers(), Handlers()
    for handlers in (first, second, first):  # the second and third ask hit the remembered answer
        assert _expects_arguments(handlers.with_event) is True
        assert _expects_arguments(handlers.without_arguments) is False
        assert _expects_arguments(handlers.with_default) is False


def test_plain_functions_and_lambdas_are_still_inspected_each_time() -> None:
    assert _expects_arguments(lambda event: None) is True
    assert _expects_arguments(lambda: None) is False
    assert _expects_arguments(lambda *args: None) is False


def test_installing_replaces_nicegui_s_check_clean_up_and_outbox_loop() -> None:
    originals = helpers.expects_arguments, Element._handle_delete, Outbox.loop
    try:
        speed_up_nicegui()
        assert helpers.expects_arguments is _expects_arguments
        assert Element._handle_delete is _handle_delete_without_cycles
        assert Outbox.loop is _outbox_loop_once_connected
    finally:
        helpers.expects_arguments, Element._handle_delete, Outbox.loop = originals  # type: ignore[method-assign]
