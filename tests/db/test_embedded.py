"""The embedded server's lifecycle: start, reuse across processes, bad data folder, doctor."""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli.main import app
from bot.db.embedded import embedded_pid, start_embedded
from bot.settings import ConfigError

pytestmark = pytest.mark.db


@pytest.fixture
def server_dir() -> Iterator[Path]:
    """A data folder outside pytest's 0700 temp tree (as ``pg_server`` in conftest): PostgreSQL
    runs as the ``pgserver`` user when tests run as root, and another pytest session resets
    that tree's permissions when it starts."""
    path = Path(tempfile.mkdtemp(prefix="lorebot-test-emb-"))
    os.chmod(path, 0o755)
    # removed at exit, after the servers started in it have stopped (their own atexit hooks)
    atexit.register(shutil.rmtree, path, True)
    yield path

_CHILD = """
import sys
from pathlib import Path
from bot.db.embedded import start_embedded, embedded_pid
import psycopg
url = start_embedded(Path(sys.argv[1]))
with psycopg.connect(url.replace('+psycopg', '')) as c:
    c.execute('select 1')
print(embedded_pid(Path(sys.argv[1])))
"""


def test_two_processes_share_one_server(server_dir: Path) -> None:
    data = server_dir / "shared"
    url = start_embedded(data)
    pid = embedded_pid(data)
    assert pid is not None and "host=" in url
    out = subprocess.run([sys.executable, "-c", _CHILD, str(data)], capture_output=True,
                         text=True, check=True, timeout=120)
    # the child joined the running server instead of starting a second one,
    # and leaving did not stop it under us
    assert out.stdout.strip() == str(pid)
    assert embedded_pid(data) == pid


def test_unwritable_data_dir_gives_one_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(ConfigError, match="LOREBOT_DATA_DIR .* is not writable"):
        start_embedded(blocker / "data")


def test_doctor_against_database_url(settings, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.settings import get_settings

    monkeypatch.setenv("DATABASE_URL", settings.database_url.get_secret_value())
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-secret-value-1234")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["doctor"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "DATABASE_URL" in result.output and "pgvector      ok" in result.output
    assert "SLACK_BOT_TOKEN       set" in result.output
    assert "xoxb-secret-value" not in result.output


def test_doctor_against_embedded_server(server_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.settings import get_settings

    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("LOREBOT_DATA_DIR", str(server_dir / "emb"))
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        up = runner.invoke(app, ["db", "upgrade"])
        assert up.exit_code == 0, up.output
        result = runner.invoke(app, ["doctor"])
    finally:
        get_settings.cache_clear()
    assert "(embedded)" in result.output
    assert "schema        ok" in result.output
    assert "memory        ok" in result.output  # an empty store fits in shared_buffers


def test_wrong_database_url_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.settings import get_settings

    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody:pw@127.0.0.1:1/none")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["db", "current"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2
    assert "cannot connect to the database" in result.output
    assert "pw@" not in result.output
