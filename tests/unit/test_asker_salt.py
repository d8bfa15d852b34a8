"""The asker salt is never a public value: generated once into the data folder when unset (0600,
reused), public values refused with a ConfigError. TRUST_PLATFORM_ADMINS is off by default."""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path

import pytest

from bot import identity
from bot.admin.auth import is_admin
from bot.settings import ConfigError, load_settings
from bot.types import Actor

ASKER = Actor(platform="slack", user_id="U123ALICE")


@pytest.fixture(autouse=True)
def _fresh_cache():
    identity._cache.clear()
    yield
    identity._cache.clear()


def _settings(tmp_path: Path, **kw):
    return load_settings(_env_file=None, lorebot_data_dir=tmp_path / "data", **kw)


def test_unset_salt_is_generated_once_private_and_reused(tmp_path: Path) -> None:
    s = _settings(tmp_path)
    first = identity.user_hash(s, ASKER)
    path = tmp_path / "data" / identity.SALT_FILE
    assert path.exists() and (path.stat().st_mode & 0o777) == 0o600
    salt = path.read_text().strip()
    assert len(salt) == 64 and salt != "lorebot-default-salt"
    identity._cache.clear()  # a restart: the file, not memory, keeps the hash stable
    assert identity.user_hash(_settings(tmp_path), ASKER) == first
    assert path.read_text().strip() == salt


def test_each_install_gets_its_own_salt(tmp_path: Path) -> None:
    a = identity.user_hash(_settings(tmp_path / "a"), ASKER)
    b = identity.user_hash(_settings(tmp_path / "b"), ASKER)
    assert a != b


def test_public_default_no_longer_re_identifies(tmp_path: Path) -> None:
    """The issue's attack: hash a member list with the published salt and compare."""
    published = hmac.new(b"lorebot-default-salt", ASKER.key.encode(), hashlib.sha256).hexdigest()
    assert identity.user_hash(_settings(tmp_path), ASKER) != published


@pytest.mark.parametrize("value", ["lorebot-default-salt", "REPLACE-ME-with-a-random-string",
                                   "changeme-please", "your-salt-here"])
def test_public_or_placeholder_salt_is_a_config_error(tmp_path: Path, value: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="ASKER_HASH_SALT holds a public placeholder"):
        _settings(tmp_path, asker_hash_salt=value)
    monkeypatch.setenv("ASKER_HASH_SALT", value)
    with pytest.raises(ConfigError, match="public placeholder"):
        _settings(tmp_path)


def test_configured_salt_is_used_and_no_file_written(tmp_path: Path) -> None:
    value = "8d1f0c7a2b9e4d3f6a5c8b7e0d1f2a3b"
    s = _settings(tmp_path, asker_hash_salt=value)
    expected = hmac.new(value.encode(), ASKER.key.encode(), hashlib.sha256).hexdigest()
    assert identity.user_hash(s, ASKER) == expected
    assert not (tmp_path / "data" / identity.SALT_FILE).exists()


def test_existing_salt_file_is_read_and_a_bad_one_refused(tmp_path: Path) -> None:
    path = tmp_path / "data" / identity.SALT_FILE
    path.parent.mkdir(parents=True)
    path.write_text("f" * 64 + "\n")  # written by another process that started first
    expected = hmac.new(b"f" * 64, ASKER.key.encode(), hashlib.sha256).hexdigest()
    assert identity.user_hash(_settings(tmp_path), ASKER) == expected
    identity._cache.clear()
    path.write_text("")
    with pytest.raises(ConfigError, match="is empty"):
        identity.user_hash(_settings(tmp_path), ASKER)
    identity._cache.clear()
    path.write_text("lorebot-default-salt")
    with pytest.raises(ConfigError, match="public placeholder"):
        identity.user_hash(_settings(tmp_path), ASKER)


def test_salt_report_for_doctor(tmp_path: Path) -> None:
    s = _settings(tmp_path)
    state, problem = identity.salt_report(s)
    assert "generated into" in state and problem is None and not identity.salt_path(s).exists()
    identity.user_hash(s, ASKER)
    assert identity.salt_report(s) == (f"generated in {identity.salt_path(s)}", None)
    os.chmod(identity.salt_path(s), 0o644)
    assert "chmod 600" in (identity.salt_report(s)[1] or "")
    assert "shorter" in (identity.salt_report(_settings(tmp_path, asker_hash_salt="short1"))[1] or "")


def test_platform_admins_are_not_trusted_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    workspace_admin = Actor("slack", "U9", platform_admin=True)
    assert _settings(tmp_path).trust_platform_admins is False
    assert not is_admin(_settings(tmp_path), workspace_admin)
    monkeypatch.setenv("TRUST_PLATFORM_ADMINS", "true")
    assert is_admin(_settings(tmp_path), workspace_admin)
