from __future__ import annotations

import logging
import re
from io import StringIO
from pathlib import Path

import pytest

from bot.logging import configure_logging, scrub
from bot.settings import ConfigError, Settings, load_settings, normalise_database_url

ROOT = Path(__file__).resolve().parents[2]


def test_database_url_is_normalised_to_psycopg3() -> None:
    s = load_settings(_env_file=None, database_url="postgres://u:p@db:5432/lore")
    assert s.database_url is not None
    assert s.database_url.get_secret_value() == "postgresql+psycopg://u:p@db:5432/lore"
    assert normalise_database_url("postgresql+asyncpg://h/x") == "postgresql+psycopg://h/x"


def test_non_postgres_url_is_refused_with_a_fix() -> None:
    with pytest.raises(ConfigError, match="PostgreSQL URL"):
        load_settings(_env_file=None, database_url="sqlite:///x.db")


def test_empty_database_url_means_embedded() -> None:
    assert load_settings(_env_file=None, database_url="  ").database_url is None


def test_secrets_never_appear_in_repr_or_dump() -> None:
    s = load_settings(_env_file=None, slack_bot_token="xoxb-123456789-abcdefghijkl",
                      database_url="postgresql://u:hunter2@h/db")
    text = repr(s) + str(s.model_dump())
    assert "xoxb-123456789" not in text
    assert "hunter2" not in text


def test_placeholder_secret_is_refused_when_connecting() -> None:
    s = load_settings(_env_file=None, slack_bot_token="xoxb-REPLACE-ME")
    with pytest.raises(ConfigError, match="placeholder"):
        s.secret("slack_bot_token")
    with pytest.raises(ConfigError, match="DISCORD_TOKEN is not set"):
        s.secret("discord_token")
    real = load_settings(_env_file=None, slack_bot_token="xoxb-1111-2222-abcdEFGH")
    assert real.secret("slack_bot_token") == "xoxb-1111-2222-abcdEFGH"


def test_lists_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOREBOT_ADMINS", "slack:U1, discord:42")
    monkeypatch.setenv("DISCORD_GUILD_IDS", "1,2")
    s = load_settings(_env_file=None)
    assert s.lorebot_admins == ["slack:U1", "discord:42"]
    assert s.discord_guild_ids == [1, 2]


def test_admin_entry_without_platform_is_refused() -> None:
    with pytest.raises(ConfigError, match="platform prefix"):
        load_settings(_env_file=None, lorebot_admins="U123")


def test_bad_ranges_are_refused() -> None:
    with pytest.raises(ConfigError, match="CHUNK_OVERLAP"):
        load_settings(_env_file=None, chunk_size_tokens=100, chunk_overlap_tokens=100)


def test_env_example_lists_every_setting() -> None:
    example = (ROOT / ".env.example").read_text()
    names = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", example, re.M))
    missing = {f.upper() for f in Settings.model_fields} - names
    assert not missing, f".env.example lacks {sorted(missing)}"
    # every setting line has a comment line above it
    lines = example.splitlines()
    for i, line in enumerate(lines):
        if re.match(r"^#?\s*[A-Z][A-Z0-9_]+=", line):
            assert i > 0 and lines[i - 1].startswith("#"), f"no comment above {line}"


def test_logs_scrub_tokens_and_carry_request_id() -> None:
    from bot.logging import bind_request_id

    buf = StringIO()
    configure_logging("INFO", "json", stream=buf)
    with bind_request_id("req-42"):
        logging.getLogger("t").info("token xoxb-12345-abcdef and postgresql://u:pw@h/db")
    out = buf.getvalue()
    assert "xoxb-12345" not in out and ":pw@" not in out
    assert '"request_id": "req-42"' in out
    assert scrub("Authorization: Bearer abc.def") == "Authorization: Bearer ***"
