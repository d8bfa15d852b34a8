"""LOREBOT_ENV_FILE makes the env file explicit; unset, ./.env is read as before."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import ConfigError, load_settings


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    (cwd / ".env").write_text("LOREBOT_LOG_LEVEL=DEBUG\n")  # a stray .env where lorebot starts
    monkeypatch.chdir(cwd)
    monkeypatch.delenv("LOREBOT_LOG_LEVEL", raising=False)
    monkeypatch.delenv("LOREBOT_ENV_FILE", raising=False)
    return tmp_path


def test_unset_reads_the_working_directory_env(elsewhere: Path) -> None:
    assert load_settings().lorebot_log_level == "DEBUG"


def test_explicit_file_wins_over_the_working_directory(elsewhere: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    chosen = elsewhere / "etc" / "lorebot.env"
    chosen.parent.mkdir()
    chosen.write_text("LOREBOT_LOG_LEVEL=WARNING\n")
    monkeypatch.setenv("LOREBOT_ENV_FILE", str(chosen))
    settings = load_settings()
    assert settings.lorebot_log_level == "WARNING" and settings.lorebot_env_file == str(chosen)


def test_none_reads_only_the_environment(elsewhere: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOREBOT_ENV_FILE", "none")
    assert load_settings().lorebot_log_level == "INFO"


def test_missing_explicit_file_is_a_config_error(elsewhere: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOREBOT_ENV_FILE", str(elsewhere / "nope.env"))
    with pytest.raises(ConfigError, match="LOREBOT_ENV_FILE=.* is not a file"):
        load_settings()
