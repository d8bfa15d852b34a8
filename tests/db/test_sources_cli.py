"""`lorebot sources ...` and `lorebot ingest` through the real CLI, database and embedder."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from bot import schedules
from bot.settings import get_settings

pytestmark = pytest.mark.db


@pytest.fixture
def cli(db_url, tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("LOREBOT_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    from bot.cli.main import app

    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, list(args), catch_exceptions=False)

    yield invoke
    get_settings.cache_clear()


def test_sources_add_list_show_ingest_remove(cli, tmp_path):
    kb = tmp_path / "kb"
    kb.mkdir()
    (kb / "faq.md").write_text("# FAQ\n\n## Who runs deploys?\n\nThe release captain runs deploys "
                               "every Tuesday and posts a summary.\n")
    (kb / "empty.md").write_text("")
    added = cli("sources", "add", "handbook", str(kb), "--collection", "eng", "--every", "6h")
    assert added.exit_code == 0, added.output
    assert "added source handbook [folder]" in added.output and "eng" in added.output

    listed = cli("sources", "list", "--json")
    rows = json.loads(listed.output)
    assert rows[0]["name"] == "handbook" and rows[0]["schedule"] == "every:6h"
    assert rows[0]["collection"] == "eng" and rows[0]["status"] == "new"

    ran = cli("ingest", "handbook", "--json")
    assert ran.exit_code == 0, ran.output
    result = json.loads(ran.output)
    assert result["status"] == "partial" and result["added"] == 1 and result["failed"] == 1
    assert result["embeddings_computed"] == result["chunks_written"] > 0

    again = cli("ingest", "handbook")
    assert again.exit_code == 0
    assert "unchanged 1" in again.output and "embeddings computed 0" in again.output

    shown = cli("sources", "show", "handbook")
    assert "schedule: every 6h" in shown.output
    assert "documents: 1" in shown.output and "empty.md" in shown.output

    everything = cli("ingest", "--all", "--json")
    assert json.loads(everything.output)[0]["unchanged"] == 1

    removed = cli("sources", "remove", "handbook", "--yes")
    assert removed.exit_code == 0 and "1 documents" in removed.output
    assert "no sources yet" in cli("sources", "list").output


def test_cli_errors_are_one_clear_line(cli, tmp_path):
    missing = cli("sources", "add", "x", str(tmp_path / "missing"))
    assert missing.exit_code == 2 and "does not exist" in missing.output
    bad_cron = cli("sources", "add", "x", str(tmp_path), "--cron", "99 * * * *")
    assert bad_cron.exit_code == 2 and "invalid cron" in bad_cron.output
    assert cli("ingest", "nope").exit_code == 2
    assert "NAME or --all" in cli("ingest").output
    assert "--all --reembed" in cli("ingest", "x", "--reembed").output
    assert cli("sources", "show", "nope").exit_code == 2


def test_schedule_parsing_round_trips():
    assert schedules.to_schedule(every="6H") == "every:6h"
    assert schedules.to_schedule(cron="0  */6 * * *") == "cron:0 */6 * * *"
    assert schedules.to_schedule() is None
    assert schedules.trigger_args("every:30m") == {"trigger": "interval", "seconds": 1800}
    cron = schedules.trigger_args("cron:0 */6 * * *")["trigger"]
    assert str(cron.fields[5]) == "*/6"  # the hour field
    assert schedules.describe("every:1d") == "every 1d" and schedules.describe(None) == "on demand only"
    for bad in ("6", "fast", "10s", "0m"):
        with pytest.raises(schedules.ScheduleError):
            schedules.to_schedule(every=bad)
    with pytest.raises(schedules.ScheduleError, match="five fields"):
        schedules.to_schedule(cron="every day")
    with pytest.raises(schedules.ScheduleError):
        schedules.parse_schedule("weekly:monday")
