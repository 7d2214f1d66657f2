"""The layers of DESIGN.md, read from the code's own imports: a change that crosses one fails here."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MAX_MODULE_LINES = 500


def _modules(folder: str) -> list[Path]:
    return sorted(path for path in (ROOT / folder).rglob("*.py") if "tests" not in path.relative_to(ROOT).parts)


def _imports(path: Path) -> Iterator[tuple[int, str]]:
    """Every module `path` imports (absolute names), with its line, including imports inside functions."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module
            # `from app import models` imports app.models
            yield from ((node.lineno, f"{node.module}.{alias.name}") for alias in node.names)


def _violations(folder: str, forbidden: tuple[str, ...]) -> list[str]:
    return [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path in _modules(folder)
        for line, name in _imports(path)
        if any(name == prefix or name.startswith(f"{prefix}.") for prefix in forbidden)
    ]


@pytest.mark.parametrize(
    ("folder", "forbidden"),
    [
        pytest.param("components", ("app.models", "app.db", "app.services"), id="components see views only"),
        pytest.param("pages", ("app.models", "app.db"), id="pages reach data through services"),
        pytest.param("app", ("nicegui", "components", "pages", "server"), id="the domain knows no UI"),
    ],
)
def test_layers_import_only_downwards(folder: str, forbidden: tuple[str, ...]) -> None:
    assert _violations(folder, forbidden) == []


def test_the_check_sees_a_forbidden_import(tmp_path: Path) -> None:
    """The rule above is not vacuous: a component importing the models is found, also inside a function."""
    module = tmp_path / "leaky.py"
    module.write_text("def f():\n    from app import models\n    from app.services.portal import reads\n")
    assert [name for _, name in _imports(module)] == [
        "app",
        "app.models",
        "app.services.portal",
        "app.services.portal.reads",
    ]


@pytest.mark.parametrize("folder", ["app", "components", "pages", "server"])
def test_source_modules_stay_small(folder: str) -> None:
    too_long = {
        str(path.relative_to(ROOT)): lines
        for path in _modules(folder)
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert too_long == {}
