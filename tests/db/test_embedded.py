"""The embedded server's lifecycle: start, reuse across processes, bad data folder, doctor."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli.main import app
from bot.db.embedded import embedded_pid, start_embedded
from bot.settings import ConfigError

pytestmark = pytest.mark.db

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


def test_two_processes_share_one_server(tmp_path: Path) -> None:
    data = tmp_path / "shared"
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


def test_doctor_against_embedded_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.settings import get_settings

    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("LOREBOT_DATA_DIR", str(tmp_path / "emb"))
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
