"""Cleaning: normalised text, boilerplate gone, headings kept, secrets redacted, empties flagged."""

from __future__ import annotations

from bot.configs import cleaning_config
from knowledge.cleaning import clean, drop_boilerplate, is_effectively_empty, normalise, skip_reason
from knowledge.types import Document

SLACK_BOT = "xoxb-" + "2481632641-2481632641281-" + "a1B2c3D4e5F6g7H8i9J0k1L2"


def test_normalise_applies_nfkc_and_removes_invisible_characters() -> None:
    text = "ﬁle\u00a0name\u200b is ＡＢＣ\r\nnext\tline   with   spaces  \n\n\n\nend"
    assert normalise(text) == "file name is ABC\nnext\tline with spaces\n\nend"
    assert normalise("bad \udcff char\x00\x07") == "bad \ufffd char"


def test_normalise_keeps_code_indentation_and_fenced_blocks() -> None:
    md = "Intro  text\n```\ndef f():\n    x  =  1\n```\n"
    assert normalise(md) == "Intro text\n```\ndef f():\n    x  =  1\n```"
    code = "def f():\n    a   = 1  \n    bb  = 2\n"
    assert normalise(code, code=True) == "def f():\n    a   = 1\n    bb  = 2"


def test_boilerplate_lines_are_dropped_and_content_kept() -> None:
    text = "\n".join([
        "Skip to content",
        "Home > Docs > Install",
        "# Install",
        "We use cookies to improve your experience. Accept all cookies?",
        "Run the installer and restart.",
        "Edit this page on GitHub",
        "Was this page helpful?",
        "© 2024 Acme Inc. All rights reserved.",
        "Cookies are stored by the browser; see RFC 6265.",
        "Inputs > outputs when the model is large.",
    ])
    out = drop_boilerplate(text).split("\n")
    assert out == [
        "# Install",
        "Run the installer and restart.",
        "Cookies are stored by the browser; see RFC 6265.",
        "Inputs > outputs when the model is large.",
    ]


def test_boilerplate_inside_code_fences_is_kept() -> None:
    text = "```\nmenu\nnext\n```"
    assert drop_boilerplate(text) == text


def test_clean_redacts_keeps_headings_and_reports(unit_settings) -> None:
    doc = Document(
        external_id="ops.md",
        text=f"# Runbook\n\nSkip to content\n\n## Tokens\n\nThe bot uses {SLACK_BOT}; mail ops@example.com.",
        title="Runbook",
        uri="https://deploy:hunter2pass@wiki.example.com/ops",
        mime="text/markdown",
        metadata={"path": "ops.md"},
    )
    cleaned, report = clean(doc, config=cleaning_config(unit_settings))
    assert cleaned.text == (
        "# Runbook\n\n## Tokens\n\nThe bot uses [REDACTED:slack_token]; mail [REDACTED:email]."
    )
    assert cleaned.uri == "https://deploy:[REDACTED]@wiki.example.com/ops"
    assert report.counts == {"slack_token": 1, "email": 1, "url_password": 1}
    assert cleaned.metadata["redactions"] == report.counts
    assert doc.text.startswith("# Runbook\n\nSkip")  # the input is not modified
    assert skip_reason(cleaned, report) is None


def test_clean_respects_email_setting(unit_settings) -> None:
    settings = unit_settings.model_copy(update={"redact_emails": False})
    doc = Document(external_id="a", text="Ask ops@example.com about deploys and rollbacks.")
    cleaned, report = clean(doc, config=cleaning_config(settings))
    assert "ops@example.com" in cleaned.text and report.total == 0


def test_code_documents_keep_their_lines(unit_settings) -> None:
    doc = Document(external_id="m.py", text="menu = build()\nnext = 1\n", mime="text/x-code")
    cleaned, _ = clean(doc, config=cleaning_config(unit_settings))
    assert cleaned.text == "menu = build()\nnext = 1"


def test_document_of_only_secrets_is_flagged(unit_settings) -> None:
    env = (
        f"SLACK_BOT_TOKEN={SLACK_BOT}\n"
        "AWS_ACCESS_KEY_ID=" + "AKIA" + "IOSFODNN7EXAMPLQ\n"
        "DB_PASSWORD=Zq8X2mN4pL7vR1tY6wK3\n"
    )
    doc = Document(external_id=".env.prod", text=env)
    cleaned, report = clean(doc, config=cleaning_config(unit_settings))
    assert report.total == 3
    assert is_effectively_empty(cleaned.text)
    reason = skip_reason(cleaned, report)
    assert reason is not None and reason.startswith("only secrets, nothing to index")


def test_boilerplate_only_page_is_flagged_without_secrets(unit_settings) -> None:
    doc = Document(external_id="p", text="Skip to content\nMenu\nBack to top\n")
    cleaned, report = clean(doc, config=cleaning_config(unit_settings))
    assert cleaned.text == ""
    assert skip_reason(cleaned, report).startswith("no text left after cleaning")


def test_short_real_text_with_a_secret_is_not_empty() -> None:
    assert not is_effectively_empty("Rotate the key [REDACTED:aws_access_key] every quarter.")
    assert is_effectively_empty("token: [REDACTED:secret]\n\n---")
    assert not is_effectively_empty("部署前请先运行测试")  # no spaces, still a sentence
    assert not is_effectively_empty("Развёртывание по вторникам.")
    assert is_effectively_empty("")
