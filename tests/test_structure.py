"""The layout's promises, read from the source: the engine never imports discord, no runtime import cycle,
one factory names the store's backends, and every public class and function says what it is for."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "cogs")
ENGINE = ("bot.core", "bot.cometapi", "bot.store", "bot.simulator")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_modules() -> dict[str, Path]:
    return {module_name(path): path for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports(tree: ast.AST, *, runtime_only: bool) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement, at any depth (a function-level import runs too); optionally without the
    ones under `if TYPE_CHECKING:`, which never run."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if runtime_only and isinstance(node, ast.If) and _is_type_checking(node):
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def imported_names(module: str, path: Path, node: ast.Import | ast.ImportFrom, known: set[str]) -> set[str]:
    """The project modules an import statement loads (a submodule when one is named, else the package)."""
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names}
    base = node.module or ""
    if node.level:
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for _ in range(node.level - 1):
            package = package.rpartition(".")[0]
        base = f"{package}.{base}" if base else package
    found = set()
    for alias in node.names:
        candidate = f"{base}.{alias.name}"
        found.add(candidate if candidate in known else base)
    return found


def loaded_by(module: str, target: str, known: set[str]) -> set[str]:
    """Importing `target` also runs its packages' __init__ files, except packages `module` itself lives in
    (those are already being imported when `module` runs)."""
    loaded = {target} if target in known else set()
    parts = target.split(".")
    for depth in range(1, len(parts)):
        package = ".".join(parts[:depth])
        if package in known and not (module == package or module.startswith(package + ".")):
            loaded.add(package)
    return loaded


def import_graph() -> dict[str, set[str]]:
    modules = project_modules()
    known = set(modules)
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in imports(tree, runtime_only=True):
            for target in imported_names(name, path, node, known):
                graph[name] |= loaded_by(name, target, known) - {name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in sorted(graph[node]):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_engine_never_imports_discord():
    """No module of core, cometapi, store or simulator imports discord, not even for type checking."""
    offenders = []
    for name, path in project_modules().items():
        if not name.startswith(ENGINE):
            continue
        for node in imports(ast.parse(path.read_text(encoding="utf-8")), runtime_only=False):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            if any(n == "discord" or n.startswith("discord.") for n in names):
                offenders.append(f"{name}:{node.lineno}")
    assert offenders == []


def test_there_is_no_runtime_import_cycle():
    """The modules that run when the bot starts import each other in one direction only."""
    assert cycles(import_graph()) == []


def test_the_cycle_check_can_fail():
    """The checker finds a cycle hidden in a function-level import (as buttons → flow → buttons once was)."""
    a = ast.parse("from pkg import b\n")
    b = ast.parse("def f():\n    from pkg.a import thing\n")
    known = {"pkg", "pkg.a", "pkg.b"}
    graph: dict[str, set[str]] = {"pkg": set(), "pkg.a": set(), "pkg.b": set()}
    for name, tree in (("pkg.a", a), ("pkg.b", b)):
        for node in imports(tree, runtime_only=True):
            for target in imported_names(name, Path(f"{name}.py"), node, known):
                graph[name] |= loaded_by(name, target, known) - {name}
    assert cycles(graph) == [["pkg.a", "pkg.b"]]


def test_only_the_store_names_its_backends():
    """Outside bot/store, nothing imports a database library or the store's insides: the bot gets its store from
    open_store() and sees the JobStore protocol."""
    inside = ("sqlalchemy", "alembic", "aiosqlite", "asyncpg", "bot.store.sql", "bot.store.database",
              "bot.store.dialects", "bot.store.schema", "bot.store.migrations")
    offenders = []
    for name, path in project_modules().items():
        if name.startswith("bot.store"):
            continue
        for node in imports(ast.parse(path.read_text(encoding="utf-8")), runtime_only=False):
            modules = [alias.name for alias in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            offenders += [f"{name} imports {module}" for module in modules if module.startswith(inside)]
    assert offenders == []


def test_the_store_queries_never_branch_on_a_backend():
    """One set of queries: bot/store/sql never names a dialect; what differs comes from dialects.Backend."""
    named = []
    for name, path in project_modules().items():
        if not name.startswith("bot.store.sql"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and node.value in ("sqlite", "postgresql", "postgres"):
                named.append(f"{name}:{node.lineno}")
            if isinstance(node, ast.Attribute) and node.attr == "name" and "dialect" in ast.unparse(node.value):
                named.append(f"{name}:{node.lineno}")
    assert named == []


def public_definitions(tree: ast.Module) -> Iterator[tuple[str, ast.AST]]:
    """Public classes, functions and methods (not nested in functions); dunder methods other than __call__
    are documented by their class."""
    def walk(body: list[ast.stmt], prefix: str) -> Iterator[tuple[str, ast.AST]]:
        for node in body:
            if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                name = node.name
                private = name.startswith("_") and name != "__call__"
                if not private:
                    yield prefix + name, node
                if isinstance(node, ast.ClassDef) and not private:
                    yield from walk(node.body, f"{prefix}{name}.")

    yield from walk(tree.body, "")


@pytest.mark.parametrize("package", PACKAGES)
def test_every_public_class_and_function_has_a_docstring(package):
    """Every public class, function and method in bot/ and cogs/ carries a docstring."""
    missing = []
    for name, path in project_modules().items():
        if not name.startswith(package):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if ast.get_docstring(tree) is None:
            missing.append(f"{name} (module)")
        for qualified, node in public_definitions(tree):
            if ast.get_docstring(node) is None:  # type: ignore[arg-type]
                missing.append(f"{name}.{qualified}")
    assert missing == []
