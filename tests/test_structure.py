"""The layout's promises, read from the source: the engine never imports discord, no runtime import cycle,
one factory names the store's backends, and every public class and function says what it is for."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "cogs")
ENGINE = ("bot.core", "bot.cometapi", "bot.domain", "bot.store", "bot.simulator")


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


# The one set of queries, for both backends.
QUERIES = ("bot.store.job_queries", "bot.store.community_queries")


def test_only_the_store_names_its_backends():
    """Outside bot/store, nothing imports a database library or the store's insides: the bot gets its store from
    open_store() and sees the JobStore protocol."""
    inside = ("sqlalchemy", "alembic", "aiosqlite", "asyncpg", *QUERIES, "bot.store.database",
              "bot.store.dialects", "bot.store.schema", "bot.store.migrations")
    offenders = []
    for name, path in project_modules().items():
        if name.startswith("bot.store"):
            continue
        for node in imports(ast.parse(path.read_text(encoding="utf-8")), runtime_only=False):
            modules = [alias.name for alias in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            offenders += [f"{name} imports {module}" for module in modules if module.startswith(inside)]
    assert offenders == []


def test_the_discord_front_reaches_the_store_only_through_the_services():
    """ui/ and cogs/ know jobs, settings and the community's records from bot.domain, never from bot.store: the front
    talks to the services, the services to the store. One name is allowed: `database_outage`, which tells the one
    error path that an error means the database is away (a restart), not that the request was wrong."""
    allowed = {"database_outage"}
    offenders = []
    for name, path in project_modules().items():
        if not name.startswith(("bot.ui", "cogs")):
            continue
        for node in imports(ast.parse(path.read_text(encoding="utf-8")), runtime_only=False):
            if isinstance(node, ast.Import):
                offenders += [f"{name} imports {a.name}" for a in node.names if a.name.startswith("bot.store")]
            elif (node.module or "").startswith("bot.store"):
                offenders += [f"{name} takes {a.name}" for a in node.names if a.name not in allowed]
    assert offenders == []


def test_the_discord_front_never_calls_cometapi_itself():
    """ui/ and cogs/ ask CometAPI only through the engine's services (JobService, PersonaService, TakeExports, …):
    no module there touches the bot's client (`bot.cometapi`)."""
    reached = []
    for name, path in project_modules().items():
        if not name.startswith(("bot.ui", "cogs")):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr == "cometapi":
                reached.append(f"{name}:{node.lineno}")
    assert reached == []


def test_the_domain_is_plain_records():
    """bot.domain does no I/O: it imports no database, no network client, no discord and no other layer of the bot
    but the names of CometAPI's providers and actions."""
    offenders = []
    for name, path in project_modules().items():
        if not name.startswith("bot.domain"):
            continue
        for node in imports(ast.parse(path.read_text(encoding="utf-8")), runtime_only=False):
            modules = [alias.name for alias in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            if isinstance(node, ast.ImportFrom) and node.level:
                continue  # its own modules
            other_layer = [m for m in modules if m.startswith("bot.") and m != "bot.cometapi.models"]
            io = [m for m in modules if m.split(".")[0] in ("sqlalchemy", "aiohttp", "discord", "asyncpg", "aiosqlite")]
            offenders += [f"{name} imports {module}" for module in other_layer + io]
    assert offenders == []


def test_the_store_queries_never_branch_on_a_backend():
    """One set of queries: the query modules never name a dialect; what differs comes from dialects.Backend."""
    named = []
    for name, path in project_modules().items():
        if name not in QUERIES:
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


# ---- answer first: nothing that may reach CometAPI runs before the interaction is acknowledged -----------------

# Awaited calls that may reach CometAPI (seconds, where Discord allows 3): the client itself and the services whose
# methods call it (JobService's paid `send` is the launcher's, after it defers). Autocomplete is not among them on
# purpose: Discord lets no autocomplete be deferred, so style suggestions keep their own short timeout.
SLOW_CALL = re.compile(
    r"(^|\.)cometapi\.|(^|\.)personas\.create$|(^|\.)credit\.(balance|check)$|(^|\.)jobs\.(send|submit)$"
)
# Awaits that answer the interaction (after one of them, slow work no longer holds Discord's 3 s window).
ANSWER_CALL = re.compile(r"(^|\.)response\.(defer|send_message|send_modal|edit_message)$|^(safe_reply|send_answer)$")
# What Discord calls when a member acts: a form's submit, a Chorus item's work, a raw item callback.
ITEM_ENTRY_POINTS = frozenset({"on_submit", "on_job", "on_press", "callback"})

Function = ast.FunctionDef | ast.AsyncFunctionDef


def _own_nodes(function: Function) -> Iterator[ast.AST]:
    """The nodes of a function's body, without those of functions nested in it (they run when they are called)."""
    return _nodes_of(function.body)


def _nodes_of(nodes: list[ast.stmt] | list[ast.AST]) -> Iterator[ast.AST]:
    stack: list[ast.AST] = list(nodes)
    while stack:
        node = stack.pop()
        yield node
        stack.extend(child for child in ast.iter_child_nodes(node)
                     if not isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | ast.ClassDef))


def _awaited_calls(function: Function) -> list[tuple[tuple[int, int], str]]:
    """`(position, callee)` of each awaited call in the function's own body, in source order."""
    return _awaits_in(function.body)


def _awaits_in(nodes: list[ast.stmt] | list[ast.AST]) -> list[tuple[tuple[int, int], str]]:
    found = [((node.lineno, node.col_offset), ast.unparse(node.value.func)) for node in _nodes_of(nodes)
             if isinstance(node, ast.Await) and isinstance(node.value, ast.Call)]
    return sorted(found)


def _callee_name(callee: str) -> str | None:
    """The project function a call names, when it is `name(...)`, `self.name(...)` or `cls.name(...)`."""
    head, _, name = callee.rpartition(".")
    return name if head in ("", "self", "cls") else None


class _Slow(Exception):
    """Raised by the scan at the first call that may reach CometAPI before the interaction was answered."""

    def __init__(self, callee: str) -> None:
        super().__init__(callee)
        self.callee = callee


def _scan(body: list[ast.stmt], answered: bool, slow_names: set[str]) -> bool | None:
    """Follow a block statement by statement: whether the interaction is answered where the block falls through
    (None when it never does: it returns or raises), raising _Slow at a slow call made before any answer. A branch
    that answers and returns answers nothing for the code after it; both branches must answer for that."""

    def awaits(nodes: list[ast.AST], answered: bool) -> bool:
        for _, callee in _awaits_in(nodes):
            if ANSWER_CALL.search(callee):
                answered = True
            elif not answered and (SLOW_CALL.search(callee) or _callee_name(callee) in slow_names):
                raise _Slow(callee)
        return answered

    state: bool | None = answered
    for stmt in body:
        if state is None:
            return None  # unreachable code after a return
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue
        if isinstance(stmt, ast.If):
            state = awaits([stmt.test], state)
            # `if not interaction.response.is_done(): <answer>`: the other way round, it was answered already.
            test = ast.unparse(stmt.test)
            done_in_body = "is_done()" in test and not test.startswith("not ")
            done_in_else = "is_done()" in test and test.startswith("not ")
            ends = [_scan(stmt.body, state or done_in_body, slow_names),
                    _scan(stmt.orelse, state or done_in_else, slow_names)]
            state = None if ends == [None, None] else all(end for end in ends if end is not None)
        elif isinstance(stmt, ast.Try):
            entry = state
            ends = [_scan(stmt.body + stmt.orelse, entry, slow_names)]
            ends += [_scan(handler.body, entry, slow_names) for handler in stmt.handlers]
            falls = [end for end in ends if end is not None]
            state = all(falls) if falls else None
            final = _scan(stmt.finalbody, bool(state) if state is not None else entry, slow_names)
            state = None if state is None or final is None else (state or final)
        elif isinstance(stmt, ast.With | ast.AsyncWith):
            state = _scan(stmt.body, awaits(list(stmt.items), state), slow_names)
        elif isinstance(stmt, ast.For | ast.AsyncFor | ast.While):
            head = awaits([stmt.iter if not isinstance(stmt, ast.While) else stmt.test], state)
            _scan(stmt.body, head, slow_names)  # may run no time at all: what it answers does not count after it
            state = _scan(stmt.orelse, head, slow_names)
        else:
            state = awaits([stmt], state)
            if isinstance(stmt, ast.Return | ast.Raise):
                state = None
    return state


def _first_slow_before_answer(
    function: Function, slow_names: set[str], *, answered: bool = False
) -> str | None:
    """The first awaited call that may reach CometAPI before the function (or its caller) answered, if any."""
    try:
        _scan(function.body, answered, slow_names)
    except _Slow as slow:
        return slow.callee
    return None


def _decorated_as_command(function: Function) -> bool:
    return any(re.search(r"(command|context_menu)\b", ast.unparse(d)) for d in function.decorator_list)


def unanswered_slow_work(sources: dict[str, str]) -> list[str]:
    """Entry points (commands, item callbacks, form submits, and the callbacks forms hand a submit to) that await
    something that may reach CometAPI before the interaction is answered; `sources` maps module names to code."""
    trees = {name: ast.parse(text) for name, text in sources.items()}
    functions = [(name, node) for name, tree in trees.items() for node in ast.walk(tree)
                 if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)]
    # Helpers that reach CometAPI without answering first make their callers slow too (to a fixed point).
    slow_names: set[str] = set()
    while True:
        grown = {node.name for _, node in functions if _first_slow_before_answer(node, slow_names)} | slow_names
        if grown == slow_names:
            break
        slow_names = grown
    # A form that answers before handing its submit on makes the callbacks it is given safe.
    forms_answering_first: dict[str, bool] = {}
    for tree in trees.values():
        for cls in (node for node in ast.walk(tree) if isinstance(node, ast.ClassDef)):
            submit = next((f for f in cls.body if isinstance(f, ast.AsyncFunctionDef) and f.name == "on_submit"), None)
            if submit is not None:
                calls = [callee for _, callee in _awaited_calls(submit)]
                hand_on = next((i for i, callee in enumerate(calls) if callee == "self._on_done"), len(calls))
                forms_answering_first[cls.name] = any(ANSWER_CALL.search(c) for c in calls[:hand_on])
    offenders = []
    for module, tree in trees.items():
        for outer in (node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)):
            nested = {f.name: f for f in ast.walk(outer) if isinstance(f, ast.AsyncFunctionDef) and f is not outer}
            for call in (n for n in _own_nodes(outer) if isinstance(n, ast.Call)):
                form = ast.unparse(call.func).rpartition(".")[2]
                for keyword in call.keywords:
                    if keyword.arg == "on_done" and isinstance(keyword.value, ast.Name) and keyword.value.id in nested:
                        handed = nested[keyword.value.id]
                        slow = _first_slow_before_answer(handed, slow_names,
                                                         answered=forms_answering_first.get(form, False))
                        if slow:
                            offenders.append(f"{module}:{handed.lineno} {handed.name} (submit of {form}) awaits {slow}")
            entry = outer.name in ITEM_ENTRY_POINTS or (module.startswith("cogs") and _decorated_as_command(outer))
            slow = _first_slow_before_answer(outer, slow_names) if entry else None
            if slow:
                offenders.append(f"{module}:{outer.lineno} {outer.name} awaits {slow} before answering")
    return sorted(offenders)


def test_forms_and_buttons_answer_before_they_ask_cometapi():
    """Every command, button, select and form that may wait on CometAPI acknowledges the interaction first (defers,
    answers, or goes through the launcher, which defers before its paid call), so Discord's 3 s never run out while
    CometAPI thinks."""
    sources = {name: path.read_text(encoding="utf-8") for name, path in project_modules().items()
               if name.startswith(("bot.ui", "cogs"))}
    assert unanswered_slow_work(sources) == []


def test_the_answer_first_check_can_fail():
    """The checker finds CometAPI reached before an answer: directly in a button, through a helper, and in the
    callback a form hands its submit to when the form does not defer first (and accepts it when it does)."""
    items = (
        "class A:\n"
        "    async def on_job(self, interaction, job):\n"
        "        await self._ask(job)\n"
        "        await interaction.response.defer()\n"
        "    async def _ask(self, job):\n"
        "        return await bot.cometapi.tools.wav(job)\n"
        "class B:\n"
        "    async def on_job(self, interaction, job):\n"
        "        await interaction.response.defer()\n"
        "        await self._ask(job)\n"
        "async def open_form(interaction, job):\n"
        "    async def made(form_interaction, name):\n"
        "        await bot.personas.create(job, name)\n"
        "    await interaction.response.send_modal(SlowForm(interaction, on_done=made))\n"
        "    await interaction.response.send_modal(QuickForm(interaction, on_done=made))\n"
        "class C:\n"
        "    async def on_job(self, interaction, job):\n"
        "        if job.gone:\n"
        "            await safe_reply(interaction, 'gone')\n"
        "            return\n"
        "        await bot.cometapi.tools.wav(job)\n"
        "class D:\n"
        "    async def on_job(self, interaction, job):\n"
        "        if job.gone:\n"
        "            await safe_reply(interaction, 'gone')\n"
        "        else:\n"
        "            await interaction.response.defer()\n"
        "        await bot.cometapi.tools.wav(job)\n"
    )
    forms = (
        "class SlowForm:\n"
        "    async def on_submit(self, interaction):\n"
        "        await self._on_done(interaction, 'x')\n"
        "class QuickForm:\n"
        "    async def on_submit(self, interaction):\n"
        "        await interaction.response.defer(ephemeral=True, thinking=True)\n"
        "        await self._on_done(interaction, 'x')\n"
    )
    assert unanswered_slow_work({"bot.ui.items.x": items, "bot.ui.forms": forms}) == [
        "bot.ui.items.x:12 made (submit of SlowForm) awaits bot.personas.create",
        "bot.ui.items.x:17 on_job awaits bot.cometapi.tools.wav before answering",
        "bot.ui.items.x:2 on_job awaits self._ask before answering",
    ]
