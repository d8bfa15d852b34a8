"""``markdown`` blocks and native feedback buttons, checked against slack_sdk's own block classes."""

from __future__ import annotations

import uuid

import pytest
from slack_sdk.models.blocks import Block, ContextActionsBlock, FeedbackButtonsElement, MarkdownBlock

from adapters.slack import render, translate
from bot.types import Answer, Citation

CITE = Citation(marker=1, title="Deploy guide", uri="https://docs.example.org/deploy", heading="Production",
                snippet="", score=0.9, chunk_id=1, document_id=1, collection="default")


def _answer(text: str) -> Answer:
    return Answer(text=text, citations=[CITE], abstained=False, interaction_id=uuid.uuid4(), question="q")


def _valid(blocks):
    for block in blocks:
        Block.parse(block).validate_json()


@pytest.mark.parametrize("text", [
    "Run this:\n\n```bash\nmake deploy ENV=prod\n```\n\nThen watch the logs [1].",
    "Steps [1]:\n1. Build\n2. Test\n3. Deploy",
    "- build\n- ship",
    "| env | branch |\n|---|---|\n| prod | main |",
])
def test_code_lists_and_tables_go_in_one_markdown_block(text: str) -> None:
    [msg] = render.render_answer(_answer(text), markdown=True, native_feedback=True)
    body = msg.blocks[0]
    assert isinstance(Block.parse(body), MarkdownBlock) and body["text"] == text.strip()
    assert msg.text.startswith(text.strip()[:20])  # the plain-text fallback carries the answer
    _valid(msg.blocks)


@pytest.mark.parametrize("text", ["Deploys run from main [1].", "A sentence. --- Another with a - dash."])
def test_prose_stays_in_mrkdwn_sections(text: str) -> None:
    [msg] = render.render_answer(_answer(text), markdown=True)
    assert msg.blocks[0]["type"] == "section"


def test_markdown_is_off_unless_asked_and_over_the_limit_falls_back_to_sections() -> None:
    listy = "- a\n- b\n"
    assert render.render_answer(_answer(listy))[0].blocks[0]["type"] == "section"
    at_limit = listy + "x" * (render.MARKDOWN_LIMIT - len(listy))
    [msg] = render.render_answer(_answer(at_limit), markdown=True)
    assert msg.blocks[0]["type"] == "markdown" and len(msg.blocks[0]["text"]) == render.MARKDOWN_LIMIT
    _valid(msg.blocks[:1])
    over = render.render_answer(_answer(at_limit + "y"), markdown=True)
    blocks = [b for m in over for b in m.blocks]
    assert all(b["type"] != "markdown" for b in blocks)
    assert all(len(b["text"]["text"]) <= render.SECTION_LIMIT for b in blocks if b["type"] == "section")


def test_native_feedback_block_is_what_slack_sdk_builds() -> None:
    answer = _answer("Deploys run from main [1].")
    [msg] = render.render_answer(answer, native_feedback=True)
    block = msg.blocks[-1]
    parsed = Block.parse(block)
    assert isinstance(parsed, ContextActionsBlock)
    [element] = parsed.elements
    assert isinstance(element, FeedbackButtonsElement) and element.action_id == render.NATIVE_FEEDBACK
    parsed.validate_json()
    assert parsed.to_dict() == block  # nothing lost or invented on the way through the SDK
    buttons = block["elements"][0]
    up, down = buttons["positive_button"]["value"], buttons["negative_button"]["value"]
    assert translate.feedback_value(up) == (1, answer.interaction_id)
    assert translate.feedback_value(down) == (-1, answer.interaction_id)


def test_share_answers_keep_the_classic_buttons() -> None:
    [msg] = render.render_answer(_answer("x [1]"), native_feedback=True, share=True)
    assert msg.blocks[-1]["type"] == "actions"
    assert render.SHARE in [e["action_id"] for e in msg.blocks[-1]["elements"]]


def test_the_stream_tail_has_sources_with_freshness_and_feedback() -> None:
    from datetime import UTC, datetime, timedelta

    now = datetime(2026, 12, 1, tzinfo=UTC)
    cite = Citation(**{**CITE.__dict__, "ingested_at": now - timedelta(days=2)})
    answer = Answer(text="x [1]", citations=[cite], abstained=False, interaction_id=uuid.uuid4())
    tail = render.answer_tail(answer, now=now)
    assert "updated 2 days ago" in tail[1]["text"]["text"] and tail[-1]["type"] == "context_actions"
    _valid(tail)
