"""Pure tests of the Slack Block Kit rendering: mrkdwn conversion, splitting, sources, buttons."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from adapters.slack import render, translate
from bot.types import Answer, Citation

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def _cite(marker: int, **kw: object) -> Citation:
    base = dict(marker=marker, title=f"Doc {marker}", uri=f"https://docs.example.org/d{marker}",
                heading="Setup > Install", snippet="...", score=0.8, chunk_id=marker, document_id=marker,
                collection="default", ingested_at=NOW - timedelta(days=3))
    base.update(kw)
    return Citation(**base)  # type: ignore[arg-type]


def _answer(text: str, citations: list[Citation] | None = None, **kw: object) -> Answer:
    return Answer(text=text, citations=citations if citations is not None else [_cite(1)],
                  abstained=False, interaction_id=uuid.uuid4(), **kw)  # type: ignore[arg-type]


def _sections(messages: list[render.SlackMessage]) -> list[str]:
    return [b["text"]["text"] for m in messages for b in m.blocks
            if b["type"] == "section" and b.get("block_id") != "lorebot_sources"]


def test_markdown_becomes_slack_mrkdwn() -> None:
    md = ("## Deploying\nRun **make deploy** then *wait*; see [the guide](https://x.org/a?b=1&c=2).\n"
          "- first\n* second\n~~old~~ and `a **literal** <b>`\n```python\nx = a**b < c\n```")
    out = render.to_mrkdwn(md)
    lines = out.split("\n")
    assert lines[0] == "*Deploying*"
    assert "*make deploy*" in out and "_wait_" in out
    assert "<https://x.org/a?b=1&amp;c=2|the guide>" in out
    assert lines[2] == "• first" and lines[3] == "• second"
    assert "~old~" in out
    assert "`a **literal** &lt;b&gt;`" in out  # inline code untouched except escaping
    assert "```\nx = a**b &lt; c\n```" in out  # language tag dropped, code verbatim
    assert "snake_case_name" in render.to_mrkdwn("snake_case_name")


def test_unclosed_fence_is_closed() -> None:
    out = render.to_mrkdwn("text\n```\ncode line")
    assert out.count("```") == 2


def test_split_keeps_citations_and_stays_within_limit() -> None:
    sentence = "The deploy runs at noon [12] and rolls back on failure [3]. "
    text = sentence * 300  # ~18,000 characters, no paragraph breaks
    parts = render.split_text(text, 3000)
    assert len(parts) >= 6
    assert all(len(p) <= 3000 for p in parts)
    # Nothing lost or invented, and every citation intact in some part.
    assert " ".join(parts).split() == text.split()
    assert sum(len(re.findall(r"\[\d+\]", p)) for p in parts) == 600
    assert all(p.rstrip().endswith(".") for p in parts[:-1])  # cut at sentence ends


def test_split_never_cuts_a_citation_even_without_spaces() -> None:
    text = ("x" * 2998) + "[42]" + ("y" * 100)
    parts = render.split_text(text, 3000)
    assert all(len(p) <= 3000 for p in parts)
    assert any("[42]" in p for p in parts)


def test_split_prefers_paragraphs_and_keeps_code_blocks_whole() -> None:
    para = "word " * 100  # 500 chars
    code = "```\n" + "\n".join(f"line {i}" for i in range(200)) + "\n```"  # ~1,500 chars
    text = f"{para}\n\n{para}\n\n{code}\n\n{para}"
    parts = render.split_text(text, 2000)
    assert all(len(p) <= 2000 for p in parts)
    assert sum(p.count(code) for p in parts) == 1  # the block travels whole
    assert all(p.count("```") % 2 == 0 for p in parts)


def test_a_code_block_longer_than_a_section_is_refenced() -> None:
    code = "```\n" + "\n".join(f"print({i})  # some explanation here" for i in range(300)) + "\n```"
    parts = render.split_text(code, 3000)
    assert len(parts) >= 4
    assert all(len(p) <= 3000 for p in parts)
    assert all(p.startswith("```") and p.endswith("```") for p in parts)
    body = [line for p in parts for line in p.split("\n") if line != "```"]
    assert body == code.split("\n")[1:-1]


def test_twelve_thousand_character_answer_splits_within_slack_limits() -> None:
    paragraphs = [f"Paragraph {i}: " + ("the service restarts cleanly [1] and logs [2]. " * 20)
                  for i in range(13)]
    text = "\n\n".join(paragraphs)
    assert 12_000 <= len(text) <= 13_000
    answer = _answer(text, [_cite(1), _cite(2)])
    messages = render.render_answer(answer, now=NOW)
    sections = _sections(messages)
    assert len(sections) >= 4
    assert all(len(s) <= render.SECTION_LIMIT for s in sections)
    for m in messages:
        assert len(m.blocks) <= render.MAX_BLOCKS
        assert len(m.text) <= render.MESSAGE_LIMIT
    joined = "\n\n".join(sections)
    assert joined.count("[1]") == text.count("[1]") and joined.count("[2]") == text.count("[2]")
    assert [p.split(":")[0] for p in joined.split("\n\n")] == [f"Paragraph {i}" for i in range(13)]
    # The sources and buttons come once, at the end.
    last = messages[-1].blocks
    assert last[-1]["type"] == "actions"
    assert sum(1 for m in messages for b in m.blocks if b.get("block_id") == "lorebot_sources") == 1


def test_huge_answer_spans_several_messages_each_within_limits() -> None:
    text = "\n\n".join("Sentence about retries [1]. " * 100 for _ in range(40))  # ~112k chars
    messages = render.render_answer(_answer(text), now=NOW)
    assert len(messages) >= 3
    for m in messages:
        assert len(m.blocks) <= render.MAX_BLOCKS
        chars = sum(len(b["text"]["text"]) for b in m.blocks if b["type"] == "section")
        assert chars <= render.MESSAGE_LIMIT
        assert m.text  # every message has its fallback


def test_message_count_is_capped_with_a_truncation_note() -> None:
    text = "\n\n".join("Sentence about retries [1]. " * 100 for _ in range(200))  # ~560k chars
    answer = _answer(text)
    messages = render.render_answer(answer, now=NOW, max_messages=render.RESPONSE_URL_MESSAGES)
    assert len(messages) == render.RESPONSE_URL_MESSAGES
    last = json.dumps(messages[-1].blocks)
    assert "answer truncated" in last and render.VOTE_UP in last


def test_sources_link_title_heading_and_freshness() -> None:
    answer = _answer("Install with pip [1]. Configure via env [2].", [
        _cite(1, title="Install | guide", uri="https://docs.example.org/install?a=1&b=2"),
        _cite(2, title="config.md", uri="docs/config.md", heading="Config", ingested_at=None),
    ])
    messages = render.render_answer(answer, now=NOW)
    sources = next(b for b in messages[-1].blocks if b.get("block_id") == "lorebot_sources")
    text = sources["text"]["text"]
    assert text.startswith("*Sources*")
    assert "[1] <https://docs.example.org/install?a=1&amp;b=2|Install ¦ guide>" in text
    assert "Setup &gt; Install" in text and "updated 3 days ago" in text
    assert "[2] *config.md* `docs/config.md` · Config" in text
    assert "[2]" in text and text.count("updated") == 1


def test_feedback_buttons_carry_the_interaction_id() -> None:
    answer = _answer("Yes [1].", question="is it?")
    blocks = render.render_answer(answer, now=NOW, share=True)[-1].blocks
    actions = blocks[-1]
    ids = [e["action_id"] for e in actions["elements"]]
    assert ids == [render.VOTE_UP, render.VOTE_DOWN, render.SHARE]
    assert {e["value"] for e in actions["elements"][:2]} == {str(answer.interaction_id)}
    share = json.loads(actions["elements"][2]["value"])
    assert share == {"id": str(answer.interaction_id), "q": answer.question}
    long = render.share_value("x", "é" * 5000)
    assert len(long) <= 2000 and translate.parse_share_value(long)[1] == "é" * 1200
    context = blocks[-2]
    assert context["type"] == "context" and answer.reference in context["elements"][-1]["text"]


def test_abstained_answer_shows_closest_sources_and_no_buttons_without_id() -> None:
    answer = Answer(text="I could not find this in the knowledge base.", citations=[_cite(1)],
                    abstained=True, interaction_id=None)
    blocks = render.render_answer(answer, now=NOW)[0].blocks
    assert any(b.get("block_id") == "lorebot_sources" and "*Closest sources*" in b["text"]["text"]
               for b in blocks)
    assert not any(b["type"] == "actions" for b in blocks)


def test_fallback_text_is_plain() -> None:
    msg = render.render_answer(_answer("See **this** [guide](https://g.org) & more."), now=NOW)[0]
    assert msg.text == "See *this* guide (https://g.org) & more."


@pytest.mark.parametrize(("delta", "expected"), [
    (timedelta(seconds=5), "just now"), (timedelta(minutes=1), "1 minute ago"),
    (timedelta(hours=5), "5 hours ago"), (timedelta(days=3), "3 days ago"),
    (timedelta(days=65), "2 months ago"), (timedelta(days=800), "2 years ago"),
])
def test_humanize_age(delta: timedelta, expected: str) -> None:
    assert render.humanize_age(NOW - delta, NOW) == expected


def test_feedback_modal_carries_the_answer() -> None:
    view = render.feedback_modal("abc")
    assert view["callback_id"] == render.FEEDBACK_MODAL and view["private_metadata"] == "abc"
    assert view["blocks"][0]["element"]["max_length"] <= 3000
