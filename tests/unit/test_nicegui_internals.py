import ast
import logging
import tomllib
from collections.abc import Iterator
from itertools import product
from pathlib import Path

import nicegui.client as nicegui_client
import pytest
from nicegui import helpers

from server import nicegui_internals
from server.nicegui_internals import (
    ORIGINALS,
    PATCHES,
    TESTED_NICEGUI,
    _expects_arguments,
    _PageJsonText,
    apply_patches,
    install_functions,
    is_tested_nicegui,
    nicegui_functions,
)

ROOT = Path(__file__).resolve().parents[2]
INTERNALS = ROOT / "server" / "nicegui_internals.py"


class Handlers:
    def with_event(self, event: object) -> None: ...

    def without_arguments(self) -> None: ...

    def with_default(self, event: object = None) -> None: ...


@pytest.fixture
def unpatched_nicegui() -> Iterator[None]:
    """NiceGUI's own code for the test (the app the other tests started has patched it), as it was afterwards."""
    before = nicegui_functions()
    assert ORIGINALS is not None
    install_functions(ORIGINALS)
    yield
    install_functions(before)


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


def test_the_pages_json_is_escaped_as_nicegui_escapes_it() -> None:
    table = nicegui_client.HTML_ESCAPE_TABLE
    texts = ["", "&amp;", '<script>`${x}`</script> & "é" 中', *map("".join, product('a&<>`$;"é', repeat=3))]
    for text in texts:
        assert _PageJsonText(text).translate(table) == text.translate(table)
    assert _PageJsonText("ab").translate({ord("a"): "z"}) == "zb"  # any other table: str's own translate
    assert PATCHES[3].dumps({"a": "<b>"}).translate(table) == '{"a":"&lt;b&gt;"}'


def test_a_tested_nicegui_gets_the_patches(unpatched_nicegui: None, caplog: pytest.LogCaptureFixture) -> None:
    assert apply_patches("3.18.0") is True
    assert nicegui_functions() == PATCHES
    assert helpers.expects_arguments is _expects_arguments  # what NiceGUI calls: the module attribute
    assert not caplog.records


def test_an_untested_nicegui_keeps_its_own_code_and_a_warning_says_so(
    unpatched_nicegui: None, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger=nicegui_internals.__name__):
        assert apply_patches("3.19.0") is False
    assert nicegui_functions() == ORIGINALS
    (warning,) = caplog.records
    assert warning.levelno == logging.WARNING
    assert "NiceGUI 3.19.0 is not one this app was tested with (>=3.18,<3.19)" in warning.getMessage()


@pytest.mark.parametrize(
    ("version", "tested"),
    [
        ("3.18.0", True),
        ("3.18.7", True),
        ("3.18.1.post1", True),
        ("3.17.9", False),
        ("3.19.0rc1", False),
        ("3.19.0", False),
        ("4.0.0", False),
    ],
)
def test_tested_versions_are_the_declared_range(version: str, tested: bool) -> None:
    assert is_tested_nicegui(version) is tested


def test_the_installed_nicegui_is_tested_and_pyproject_pins_the_tested_range(unpatched_nicegui: None) -> None:
    assert apply_patches() is True
    pyproject = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())
    lowest, beyond = (".".join(map(str, release)) for release in TESTED_NICEGUI)
    assert f"nicegui>={lowest},<{beyond}" in pyproject["project"]["dependencies"]


def _names_defined(tree: ast.AST) -> Iterator[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            yield node.name
        elif isinstance(node, ast.Name | ast.Attribute) and isinstance(node.ctx, ast.Store):
            yield node.id if isinstance(node, ast.Name) else node.attr
        elif isinstance(node, ast.arg):
            yield node.arg
        elif isinstance(node, ast.alias):
            yield node.asname or node.name


# Public despite the underscore: named tuples' documented methods (urllib's parse results are named tuples).
NAMED_TUPLE_API = frozenset({"_asdict", "_field_defaults", "_fields", "_make", "_replace"})


def _private_uses(path: Path, tree: ast.AST, own: set[str]) -> Iterator[str]:
    """`thing._name` where `_name` is no name of this project (nor a dunder, an enum's `_sunder_` or a named tuple's
    method)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.endswith("_"):
            if node.attr not in own:
                yield f"{path.relative_to(ROOT)}:{node.lineno} .{node.attr}"
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("nicegui"):
            yield from (
                f"{path.relative_to(ROOT)}:{node.lineno} {alias.name}" for alias in node.names if alias.name[0] == "_"
            )


def test_only_the_internals_module_touches_nicegui_s_private_parts() -> None:
    """Private attributes that this project does not define are NiceGUI's: only server/nicegui_internals.py may
    use them, so that its version check covers every one."""
    sources = [
        ROOT / "main.py",
        *(
            path
            for folder in ("app", "components", "pages", "server", "tests", "benchmarks")
            for path in sorted((ROOT / folder).rglob("*.py"))
        ),
    ]
    trees = {path: ast.parse(path.read_text(encoding="utf-8")) for path in sources}
    internals = trees.pop(INTERNALS)
    own = {name for tree in trees.values() for name in _names_defined(tree)} | NAMED_TUPLE_API
    assert [use for path, tree in trees.items() for use in _private_uses(path, tree, own)] == []
    assert list(_private_uses(INTERNALS, internals, own))  # not vacuous: it sees the internals module's own uses
