"""A guard rejection end to end: the answering service sends the draft, stores the reason with
the interaction, counts it by kind in /metrics, and `finetune status` shows it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot import metrics, style
from bot.answering.service import AnsweringService
from bot.cli import finetune_cmd
from bot.db import training as records
from bot.db.models import Interaction
from bot.db.scopes import set_scope
from bot.style_report import rejection_summary
from bot.types import Actor, ChannelRef
from finetune import api, runtime
from finetune.guard import KINDS
from tests.helpers.kb import load_kb

pytestmark = pytest.mark.db

CHAN = ChannelRef(platform="slack", id="C-eng")


class _ChangesAFact:
    """A style model that restyles the draft and, like the issue's examples, changes a fact."""

    def rewrite(self, question: str, draft: str) -> str:
        changed = re.sub(r"\d+", lambda m: str(int(m.group()) + 7), draft, count=1)
        if changed == draft:
            changed = re.sub(r"\[(\d+)\]", r"[\1] It never takes more than 45 minutes.", draft,
                             count=1)
        return "Sure! " + changed


def _rejected(counter_kind: str) -> float:
    return metrics.REGISTRY.get_sample_value("lorebot_style_rejections_total",
                                             {"reason": counter_kind}) or 0.0


def test_a_rejected_rewrite_is_logged_counted_and_shown(database, settings, tmp_path: Path,
                                                        monkeypatch) -> None:
    load_kb(database, settings)
    with database.session() as s:
        set_scope(session=s, platform="slack", channel="C-eng", collections=["engineering"])
        records.add_style_model(session=s, version="v-bad", base_model="test",
                                path=str(tmp_path), metrics={"effective": {"rouge_l": 0.5}})
    api.activate(db=database, version="v-bad")
    fake_runtime = runtime.StyleRuntime(loader=lambda path: _ChangesAFact(), refresh_s=0)
    monkeypatch.setattr(runtime, "RUNTIME", fake_runtime)
    monkeypatch.setattr(style, "RUNTIME", fake_runtime)  # the bot's composition holds it too
    settings.style_model_enabled = True
    assert rejection_summary(db=database) == "no style rewrites rejected in the last 7 days"

    svc = AnsweringService.from_settings(settings, database)
    answer = svc.answer("How do I roll back a bad deploy?", channel=CHAN, thread=None,
                        asker=Actor(platform="slack", user_id="U1"))
    with database.session() as s:
        row = s.get(Interaction, answer.interaction_id)
        assert row is not None and row.draft_answer
        assert answer.text == row.draft_answer  # the draft went out, not the rewrite
        reason = row.style_rejected
    assert reason is not None
    kind = reason.split(":")[0]
    assert kind in KINDS, reason
    assert _rejected(kind) >= 1

    summary = rejection_summary(db=database)
    assert summary.startswith("style rewrites rejected in the last 7 days: 1 (" + kind + " 1)")
    assert reason[:60] in summary

    monkeypatch.setattr(finetune_cmd, "settings", lambda: settings)
    out = CliRunner().invoke(finetune_cmd.app, ["status"])
    assert out.exit_code == 0, out.output
    assert "active style model: v-bad" in out.output
    assert f"rejected in the last 7 days: 1 ({kind} 1)" in out.output
