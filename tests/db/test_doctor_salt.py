"""`lorebot doctor` on the asker salt, through the real CLI against the test database."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot import identity
from bot.cli.main import app
from bot.settings import get_settings

pytestmark = pytest.mark.db


def _doctor() -> tuple[int, str]:
    get_settings.cache_clear()
    result = CliRunner().invoke(app, ["doctor"])
    get_settings.cache_clear()
    return result.exit_code, result.output


def test_doctor_refuses_the_public_default_salt(cli_env) -> None:
    cli_env.setenv("ASKER_HASH_SALT", "lorebot-default-salt")
    code, output = _doctor()
    assert code == 2 and "ASKER_HASH_SALT holds a public placeholder" in output
    assert "Traceback" not in output


def test_doctor_warns_about_a_short_salt(cli_env) -> None:
    cli_env.setenv("ASKER_HASH_SALT", "abc123")
    code, output = _doctor()
    assert "ASKER_HASH_SALT       set (short)" in output
    assert "to do:" in output and "shorter than 16" in output


def test_doctor_shows_the_generated_salt_and_warns_when_readable(cli_env, settings) -> None:
    cli_env.delenv("ASKER_HASH_SALT", raising=False)
    code, output = _doctor()
    path = Path(settings.lorebot_data_dir) / identity.SALT_FILE
    assert f"generated into {path} on first start" in output
    identity._cache.clear()
    identity.user_hash(settings, identity.Actor("slack", "U1"))
    os.chmod(path, 0o644)
    code, output = _doctor()
    assert f"generated in {path}" in output and f"chmod 600 {path}" in output
    assert path.read_text().strip() not in output  # the salt itself is never printed
    identity._cache.clear()
