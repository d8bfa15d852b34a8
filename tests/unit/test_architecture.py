"""The layering promises of the project, checked on the source tree itself."""

from __future__ import annotations

import ast
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
ADAPTER_MAY_IMPORT = {"bot.types", "bot.ports", "bot.settings", "bot.logging", "bot.text"}
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
