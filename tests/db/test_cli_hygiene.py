"""Through the real CLI and database: collection names are checked where collections are created,
URL credentials never shown, terminal escapes stripped from listed text, NUL cleaned from questions."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.db.models import Interaction

pytestmark = pytest.mark.db


@pytest.fixture
def cli(cli_env):
    from bot.cli.main import app

    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, list(args), catch_exceptions=False)

    return invoke


@pytest.mark.parametrize("name", ["eng'; drop table x;--", "ｅｎｇ", "Eng", "-x"])
def test_sources_add_refuses_a_bad_collection_name(cli, tmp_path: Path, name: str) -> None:
    (tmp_path / "kb").mkdir()
    result = cli("sources", "add", "handbook", str(tmp_path / "kb"), "--collection", name)
    assert result.exit_code == 2 and "is not allowed" in result.output
    assert json.loads(cli("sources", "list", "--json").output) == []  # nothing was created


def test_collection_created_only_under_a_valid_name_in_the_db_layer(database) -> None:
    from bot.db import sources as sources_db

    with database.session() as s, pytest.raises(ValueError, match="is not allowed"):
        sources_db.create_source(session=s, name="x", kind="folder", location="/tmp",
                                 collection="eng'; drop table x;--")
    with database.session() as s:
        assert [c.name for c in sources_db.list_collections(session=s)] == []


def test_sources_list_hides_url_credentials(cli) -> None:
    added = cli("sources", "add", "wiki", "https://ops:Hunter2Secret@wiki.example.com/start", "--kind", "web")
    assert added.exit_code == 0, added.output
    assert "Hunter2Secret" not in added.output
    assert "Hunter2Secret" not in cli("sources", "list").output
    rows = json.loads(cli("sources", "list", "--json").output)
    assert rows[0]["location"] == "https://wiki.example.com/start"
    assert "Hunter2Secret" not in cli("sources", "show", "wiki").output


def test_listed_text_has_no_terminal_escapes(cli, tmp_path: Path) -> None:
    sneaky = tmp_path / "kb\x1b[2J\x1b]0;owned\x07\u202etxt"
    sneaky.mkdir()
    assert cli("sources", "add", "handbook", str(sneaky)).exit_code == 0
    listed = cli("sources", "list").output
    assert "handbook" in listed and "\x1b" not in listed and "\u202e" not in listed and "\x07" not in listed


def test_gaps_output_has_no_terminal_escapes(cli, database) -> None:
    with database.session() as s:
        for _ in range(2):
            s.add(Interaction(id=uuid.uuid4(), platform="slack", channel="C1", asker_hash="h" * 64,
                              question="how do I \x1b[31mrotate\x1b[0m keys\u202e? \x1b]0;title\x07",
                              answer="I don't know", abstained=True))
    result = cli("admin", "gaps")
    assert result.exit_code == 0, result.output
    assert "rotate" in result.output
    assert "\x1b" not in result.output and "\u202e" not in result.output and "\x07" not in result.output


def test_ask_with_nul_and_a_lone_surrogate_answers(cli) -> None:
    result = cli("ask", "how do we\x00 deploy \ud800?", "--json")
    assert result.exit_code == 0, result.output
    assert "answer" in json.loads(result.output)


@pytest.mark.parametrize("url", ["http://169.254.169.254/latest/meta-data/", "http://metadata.google.internal/",
                                 "http://[::1]:8080/", "http://0x7f000001/", "http://2130706433/",
                                 "http://10.0.0.1/wiki"])
def test_sources_add_refuses_internal_web_addresses(cli, url: str) -> None:
    result = cli("sources", "add", "meta", url, "--kind", "web")
    assert result.exit_code == 2 and ("public addresses only" in result.output or "metadata" in result.output)
    assert json.loads(cli("sources", "list", "--json").output) == []


def test_sources_add_allows_an_internal_host_the_operator_listed(cli_env, cli) -> None:
    cli_env.setenv("WEB_ALLOWED_PRIVATE_HOSTS", "10.0.0.0/8")
    from bot.settings import get_settings

    get_settings.cache_clear()
    assert cli("sources", "add", "wiki", "http://10.0.0.1/wiki", "--kind", "web").exit_code == 0
