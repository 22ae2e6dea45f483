"""The shape of the house, checked by walking the imports of every source file.

- ``bridge/`` (the kernel) imports nothing from ``adapters/`` or ``commands/``: they plug in
  through entry points.
- ``adapters/`` and ``commands/`` never import each other.
- ``commands/`` only declares: no SQL (SQLAlchemy) and no model classes; every query and
  state change lives in ``bridge/services/``.
- No import cycle among the kernel's modules at import time.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _module(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(module: str, node: ast.ImportFrom, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def _imports(path: Path, *, import_time_only: bool) -> set[str]:
    """Modules a file imports. ``import_time_only``: only what runs when the module is
    imported (not under ``if TYPE_CHECKING:``, not inside functions)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    module = _module(path)
    found: set[str] = set()

    def visit(node: ast.AST, top: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                if not import_time_only:
                    visit(child, top)
                continue
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                if not import_time_only:
                    visit(child, False)
                continue
            if isinstance(child, ast.Import):
                found.update(alias.name for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = _resolve(module, child, path.name == "__init__.py")
                found.add(base)
                found.update(f"{base}.{alias.name}" for alias in child.names)
            visit(child, top)

    visit(tree, True)
    return found


def _files(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def test_the_kernel_imports_no_adapter_and_no_command() -> None:
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in _files("bridge")
        for name in sorted(_imports(path, import_time_only=False))
        if name.split(".")[0] in ("adapters", "commands")
    ]
    assert offenders == []


def test_the_kernel_has_no_importlib_reach_back() -> None:
    """Plug-ins are found through entry points (``bridge/plugins.py``), not by module name."""
    offenders = [
        str(path.relative_to(ROOT))
        for path in _files("bridge")
        if 'import_module(f"adapters' in path.read_text(encoding="utf-8")
        or 'import_module(f"commands' in path.read_text(encoding="utf-8")
    ]
    assert offenders == []


@pytest.mark.parametrize(("folder", "other"), [("adapters", "commands"), ("commands", "adapters")])
def test_adapters_and_commands_never_import_each_other(folder: str, other: str) -> None:
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in _files(folder)
        for name in sorted(_imports(path, import_time_only=False))
        if name.split(".")[0] == other
    ]
    assert offenders == []


def test_commands_only_declare() -> None:
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in _files("commands")
        for name in sorted(_imports(path, import_time_only=False))
        if name.split(".")[0] == "sqlalchemy" or name.startswith("bridge.models")
    ]
    assert offenders == []


def test_no_import_cycle_in_the_kernel() -> None:
    graph: dict[str, set[str]] = {}
    modules = {_module(path) for path in _files("bridge")}
    for path in _files("bridge"):
        name = _module(path)
        graph[name] = {
            target
            for target in _imports(path, import_time_only=True)
            if target in modules and target != name
        }

    cycles: list[list[str]] = []
    state: dict[str, int] = {}

    def walk(node: str, stack: list[str]) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                walk(nxt, stack)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            walk(node, [])
    assert [" → ".join(c) for c in cycles] == []
