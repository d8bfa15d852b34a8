"""`lorebot finetune ...` wiring: clear messages and exit codes on a real (empty) database."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from bot.cli import finetune_cmd


@pytest.fixture
def run(settings, database, monkeypatch):
    monkeypatch.setattr(finetune_cmd, "settings", lambda: settings)
    runner = CliRunner()
    return lambda *args: runner.invoke(finetune_cmd.app, list(args))


def test_cli_on_an_empty_database(run, settings, tmp_path) -> None:
    res = run("status")
    assert res.exit_code == 0 and "no style model is active" in res.output

    res = run("list", "--json")
    assert res.exit_code == 0 and json.loads(res.output) == []

    res = run("train", "--max-steps", "2")
    assert res.exit_code == 2 and "no feedback to learn from yet" in res.output

    res = run("train", "--base", str(tmp_path / "missing-model"))
    assert res.exit_code == 2 and "does not exist" in res.output

    res = run("activate", "style-nope")
    assert res.exit_code == 2 and "no style model 'style-nope'" in res.output

    res = run("rollback")
    assert res.exit_code == 2 and "nothing to roll back" in res.output

    res = run("dataset", "--out", str(tmp_path / "ds"))
    assert res.exit_code == 0 and "0 examples" in res.output
    assert json.loads((tmp_path / "ds" / "report.json").read_text())["total"] == 0
