"""The import graph of ``axolotl.receipts`` is one-way (issue 17, DESIGN.md "Layers").

Read from the sources with :mod:`ast`, so a cycle hidden behind a
bottom-of-module or function-level import is found as well as one at the top.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = "axolotl.receipts"
ROOT = Path(__file__).resolve().parents[1] / "axolotl" / "receipts"
MODULES = sorted(p.stem for p in ROOT.glob("*.py"))


def _module_name(stem: str) -> str:
    return PACKAGE if stem == "__init__" else f"{PACKAGE}.{stem}"


def _targets(node: ast.Import | ast.ImportFrom) -> set[str]:
    """The modules of this package that an import statement loads."""
    found: set[str] = set()
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        if node.level:  # relative imports are not used in this package; refuse them too
            return {"<relative import>"}
        base = node.module or ""
        # ``from axolotl.receipts import entities`` loads the package and the submodule.
        names = [base, *(f"{base}.{alias.name}" for alias in node.names)]
    for name in names:
        if name == PACKAGE:
            found.add(PACKAGE)
        elif name.startswith(PACKAGE + "."):
            stem = name[len(PACKAGE) + 1 :].split(".")[0]
            if stem in MODULES:
                found.add(_module_name(stem))
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _graph() -> tuple[dict[str, set[str]], list[str]]:
    """Edges (module -> sibling modules it imports) and a list of misplaced imports."""
    edges: dict[str, set[str]] = {}
    misplaced: list[str] = []
    for stem in MODULES:
        name = _module_name(stem)
        tree = ast.parse((ROOT / f"{stem}.py").read_text(encoding="utf-8"))
        edges[name] = set()
        # Every import of a sibling, wherever it sits (TYPE_CHECKING blocks count:
        # a cycle of annotations is still a cycle).
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                edges[name] |= _targets(node) - {name}
        # Imports belong in the module's head: after the docstring and before
        # any other statement, at module level or in an ``if TYPE_CHECKING:``.
        head = True
        for index, stmt in enumerate(tree.body):
            if index == 0 and isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
                continue
            if isinstance(stmt, ast.Import | ast.ImportFrom):
                if not head:
                    misplaced.append(f"{name}:{stmt.lineno}: import after the module's head")
                continue
            if isinstance(stmt, ast.If) and _is_type_checking(stmt.test):
                continue
            head = False
        top = {id(stmt) for stmt in tree.body}
        for stmt in tree.body:
            if isinstance(stmt, ast.If) and _is_type_checking(stmt.test):
                top |= {id(inner) for inner in stmt.body}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom) and id(node) not in top:
                misplaced.append(f"{name}:{node.lineno}: import inside a function or class")
    return edges, misplaced


def _cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph, as a path that ends where it starts, or ``None``."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(edges):
        if start not in state:
            found = visit(start)
            if found:
                return found
    return None


def test_the_receipt_modules_import_each_other_one_way() -> None:
    edges, _ = _graph()
    cycle = _cycle(edges)
    assert cycle is None, " -> ".join(cycle or [])


def test_imports_sit_in_the_module_head() -> None:
    _, misplaced = _graph()
    assert misplaced == []


@pytest.mark.parametrize(
    ("low", "high"),
    [
        ("limits", "entities"),
        ("fields", "entities"),
        ("entities", "tree"),
        ("entities", "pb"),
        ("entities", "yowsup"),
        ("node", "tree"),
        ("node", "text"),
    ],
)
def test_codecs_import_the_values_never_the_reverse(low: str, high: str) -> None:
    edges, _ = _graph()
    reach = {_module_name(low)}
    frontier = [_module_name(low)]
    while frontier:
        for nxt in edges[frontier.pop()]:
            if nxt not in reach:
                reach.add(nxt)
                frontier.append(nxt)
    assert _module_name(high) not in reach, f"{low} reaches {high}"
    assert PACKAGE not in reach, f"{low} imports the package itself (which imports every module)"


def test_the_checker_finds_a_cycle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None
