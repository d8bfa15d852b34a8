"""The layering promises of the project, checked on the source tree itself."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ["bot", "adapters", "knowledge", "finetune"]

# top-level module -> folders allowed to import it
RULES = {
    "slack_bolt": {"adapters"},
    "slack_sdk": {"adapters"},
    "discord": {"adapters"},
    "llama_index": {"knowledge"},
    "pgvector": {"knowledge", "bot/db"},
    "onnxruntime": {"knowledge"},
    "peft": {"finetune"},
    "trl": {"finetune"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def test_sdks_are_imported_only_in_their_home() -> None:
    offenders = []
    for pkg in PACKAGES:
        for path in (ROOT / pkg).rglob("*.py"):
            rel = path.relative_to(ROOT).as_posix()
            for module in _imports(path) & RULES.keys():
                if not any(rel.startswith(home + "/") for home in RULES[module]):
                    offenders.append(f"{rel} imports {module}")
    assert not offenders, offenders


def test_core_and_knowledge_never_import_adapters_at_module_level() -> None:
    """bot/ and knowledge/ stay platform-free; only the CLI's composition root may load an
    adapter, and only inside a function (so the core imports without Slack or Discord)."""
    offenders = []
    for pkg in ["bot", "knowledge", "finetune"]:
        for path in (ROOT / pkg).rglob("*.py"):
            tree = ast.parse(path.read_text())
            for node in tree.body:  # module level only
                names = []
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module:
                    names = [node.module]
                if any(n.split(".")[0] == "adapters" for n in names):
                    offenders.append(path.relative_to(ROOT).as_posix())
    assert not offenders, offenders


def test_no_settings_instance_at_import() -> None:
    import subprocess
    import sys

    code = (
        "import bot.settings as s, bot.core, bot.cli.main;"
        "print(s.get_settings.cache_info().currsize)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         check=True, timeout=120)
    assert out.stdout.strip().splitlines()[-1] == "0"


def test_torch_waits_passively_unless_told_otherwise() -> None:
    """Spinning OpenMP threads starve a Postgres on the same cores; the packages that load torch
    ask for passive waiting before it loads, and an explicit setting still wins."""
    import os
    import subprocess
    import sys

    probe = ("import os, {pkg}, torch; "
             "print(os.environ['OMP_WAIT_POLICY'], 'torch' in __import__('sys').modules)")
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    for pkg in ("knowledge", "finetune"):
        out = subprocess.run([sys.executable, "-c", probe.format(pkg=pkg)], env=env, cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout.split()
        assert out == ["PASSIVE", "True"], (pkg, out)
    out = subprocess.run([sys.executable, "-c", probe.format(pkg="knowledge")],
                         env={**env, "OMP_WAIT_POLICY": "ACTIVE"}, cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout.split()
    assert out[0] == "ACTIVE"


PLATFORM_SDKS = {"slack_bolt", "slack_sdk", "discord"}
# What a chat adapter may use of lorebot: the neutral types, the Core protocol, settings and
# small pure helpers. Records (bot.db), answering and retrieval stay behind the Core facade.
ADAPTER_MAY_IMPORT = {"bot.types", "bot.ports", "bot.settings", "bot.logging", "bot.text", "bot.hygiene"}
# The channel-history readers are knowledge sources (documents in, no chat), so they also
# use the source interface of knowledge/.
HISTORY_MAY_IMPORT = {"knowledge.sources.base", "knowledge.sources.channel_history",
                      "knowledge.types"}


def _modules(path: Path) -> set[str]:
    """Every absolute module imported anywhere in the file (module level or in a function)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_the_core_never_imports_a_platform_sdk() -> None:
    offenders = [f"{p.relative_to(ROOT).as_posix()} imports {m}"
                 for p in (ROOT / "bot").rglob("*.py") for m in _modules(p)
                 if m.split(".")[0] in PLATFORM_SDKS]
    assert not offenders, offenders


def test_adapters_reach_lorebot_only_through_types_the_core_protocol_and_settings() -> None:
    offenders = []
    for path in (ROOT / "adapters").rglob("*.py"):
        rel = path.relative_to(ROOT).as_posix()
        allowed = ADAPTER_MAY_IMPORT | (HISTORY_MAY_IMPORT if path.name == "history.py" else set())
        for module in _modules(path):
            if module.split(".")[0] in {"bot", "knowledge", "finetune"} and module not in allowed:
                offenders.append(f"{rel} imports {module}")
    assert not offenders, offenders


def test_the_admin_router_does_not_import_the_core_facade() -> None:
    """bot/admin needs only settings and the database: no circle with bot/core.py."""
    offenders = [p.relative_to(ROOT).as_posix() for p in (ROOT / "bot" / "admin").rglob("*.py")
                 if "bot.core" in _modules(p)]
    assert not offenders, offenders


def test_no_importlib_wiring_in_the_composition_code() -> None:
    """Modules are imported by name so a broken one fails loudly, not skipped in silence."""
    offenders = [p.relative_to(ROOT).as_posix()
                 for p in [*(ROOT / "bot" / "admin").rglob("*.py"), ROOT / "bot" / "cli" / "main.py"]
                 if "import_module" in p.read_text()]
    assert not offenders, offenders


# --- the direction of dependencies ------------------------------------------------------------

def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _project_modules() -> dict[str, Path]:
    return {_module_name(p): p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")}


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    """Nodes under ``if TYPE_CHECKING:``: never run, so not part of the runtime import graph."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If):
            test = node.test
            name = test.id if isinstance(test, ast.Name) else getattr(test, "attr", None)
            if name == "TYPE_CHECKING":
                for child in node.body:
                    skipped.update(id(n) for n in ast.walk(child))
    return skipped


def _imported_names(name: str, path: Path, *, runtime_only: bool,
                    modules: dict[str, Path] | None = None) -> set[str]:
    """Every dotted name an import in this file names, at any depth (inside functions too).

    ``from X import y`` yields ``X.y`` if that is one of ``modules``, else ``X`` (without
    ``modules``: both); relative imports are resolved against the module's package.
    """
    tree = ast.parse(path.read_text(), filename=str(path))
    skipped = _type_checking_nodes(tree) if runtime_only else set()
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package[: len(package) - (node.level - 1)]
                base = ".".join(up + ([node.module] if node.module else []))
            for alias in node.names:
                full = f"{base}.{alias.name}"
                if modules is None:
                    found.update({base, full})
                else:
                    found.add(full if full in modules else base)
    return found


def test_knowledge_and_finetune_never_import_bot_or_adapters() -> None:
    """The libraries take small typed arguments; only bot/ composes them (any import counts,
    inside functions and under TYPE_CHECKING too)."""
    offenders = []
    for name, path in _project_modules().items():
        if name.split(".")[0] not in {"knowledge", "finetune"}:
            continue
        for imported in _imported_names(name, path, runtime_only=False):
            if imported.split(".")[0] in {"bot", "adapters"}:
                offenders.append(f"{name} imports {imported}")
    assert not offenders, sorted(offenders)


def _import_graph() -> dict[str, set[str]]:
    modules = _project_modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets = set()
        for imported in _imported_names(name, path, runtime_only=True, modules=modules):
            if imported in modules:  # X.y that is a module; else X is (a name inside X)
                targets.add(imported)
        graph[name] = targets - {name}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
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
    return found


def test_cycle_finder_finds_a_circle() -> None:
    """The check below can fail: a two-module circle and a three-module one are reported."""
    graph = {"a": {"b"}, "b": {"a"}, "c": {"d"}, "d": {"e"}, "e": {"c", "a"}, "f": {"a"}}
    assert sorted(_cycles(graph)) == [["a", "b"], ["c", "d", "e"]]


def test_no_import_circles_among_project_modules() -> None:
    """Computed from every runtime import (module level and inside functions) of bot/,
    adapters/, knowledge/ and finetune/; imports under TYPE_CHECKING do not run."""
    assert _cycles(_import_graph()) == []


SQL_HOMES = ("bot/db/", "knowledge/store/")
_RAW_SQL = re.compile(r"^\s*(SELECT|INSERT|UPDATE|DELETE|WITH|CREATE|DROP|ALTER|TRUNCATE|SET)\b", re.I)


def _sql_uses(tree: ast.AST) -> list[str]:
    # ``from sqlalchemy import text as sql`` is still text()
    text_names = {"text", "exec_driver_sql"} | {
        alias.asname for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
        and (node.module or "").startswith("sqlalchemy") for alias in node.names
        if alias.name == "text" and alias.asname
    }
    uses = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
        # ``ax.text(...)`` (matplotlib) is not SQL: an attribute ``text`` counts only on the
        # sqlalchemy module itself (``sa.text``, ``sqlalchemy.text``).
        on_module = isinstance(func, ast.Name) or (
            isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)
            and func.value.id in {"sa", "sqlalchemy"})
        if called == "exec_driver_sql" or (called in text_names and on_module):
            uses.append(f"{called}(...) at line {node.lineno}")
        elif called in {"execute", "executemany"} and node.args:
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str) \
                    and _RAW_SQL.match(first.value):
                uses.append(f"raw SQL passed to {called} at line {node.lineno}")
            if isinstance(first, ast.JoinedStr):
                head = "".join(v.value for v in first.values if isinstance(v, ast.Constant))
                if _RAW_SQL.match(head):
                    uses.append(f"raw SQL f-string passed to {called} at line {node.lineno}")
    return uses


def test_sql_text_lives_only_in_the_store_modules() -> None:
    """Raw SQL (``text(...)``, ``exec_driver_sql``, SQL strings handed to ``execute``) is written
    only in bot/db/ and knowledge/store/ (and the alembic migrations)."""
    offenders = []
    for pkg in PACKAGES:
        for path in (ROOT / pkg).rglob("*.py"):
            rel = path.relative_to(ROOT).as_posix()
            if rel.startswith(SQL_HOMES):
                continue
            offenders += [f"{rel}: {use}" for use in _sql_uses(ast.parse(path.read_text()))]
    assert not offenders, offenders


def test_sql_finder_sees_each_form() -> None:
    code = ("from sqlalchemy import text\n"
            "s.execute(text('SELECT 1'))\n"
            "conn.exec_driver_sql('VACUUM')\n"
            "cur.execute('INSERT INTO t VALUES (1)')\n"
            "cur.execute(f'SELECT * FROM {t}')\n"
            "s.execute(select(Model))\n"
            "from sqlalchemy import text as sql\n"
            "s.execute(sql('DELETE FROM t'))\n"
            "ax.text(0, 1, 'a label')\n"
            "import sqlalchemy as sa\n"
            "s.execute(sa.text('SELECT 2'))\n")
    assert len(_sql_uses(ast.parse(code))) == 6
