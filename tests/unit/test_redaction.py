"""Secrets are replaced by typed placeholders; ordinary technical prose is left alone."""

from __future__ import annotations

import pytest

from bot.configs import redaction_config
from knowledge.redaction import redact, redact_for, shannon_entropy

# Built from parts so this file itself does not look like it leaks credentials.
SLACK_BOT = "xoxb-" + "2481632641-2481632641281-" + "a1B2c3D4e5F6g7H8i9J0k1L2"
SLACK_APP = "xapp-1-" + "A0123BCDEF-1234567890123-" + "abcdef0123456789abcdef0123456789"
AWS_ID = "AKIA" + "IOSFODNN7EXAMPLQ"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCYEXAMPLEK9Z"  # 40 characters
GITHUB = "ghp_" + "1a2B3c4D5e6F7g8H9i0J1k2L3m4N5o6P7q8R"
GITHUB_PAT = "github_pat_" + "11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz0123456789ABCDEF"
HF_BODY = "94wBhPGp6KrrTH3" + "KDchhKpRxZwd6dmHWLL"
OPENAI = "sk-" + "proj-" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6"
JWT = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9." + "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ."
       + "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c")
PRIVATE_KEY = (
    "-----BEGIN RSA " + "PRIVATE KEY-----\nMIIEowIBAAKCAQEAx4Tn0nVbQ8R0y+Zc\nq9N0bXs1k2l3m4n5o6p7\n"
    "-----END RSA " + "PRIVATE KEY-----"
)


@pytest.mark.parametrize(
    ("text", "kind", "secret"),
    [
        (f"Bot token is {SLACK_BOT} for prod.", "slack_token", SLACK_BOT),
        (f"socket mode: {SLACK_APP}", "slack_token", SLACK_APP),
        (f"key id {AWS_ID} in us-east-1", "aws_access_key", AWS_ID),
        (f"aws_secret_access_key = {AWS_SECRET}", "aws_secret", AWS_SECRET),
        (f"clone with {GITHUB}", "github_token", GITHUB),
        (f"HF_TOKEN=hf_{HF_BODY}", "huggingface_token", HF_BODY),
        ('token = "aB3_xY9_Qz7_kLm2"', "secret", "aB3_xY9_Qz7_kLm2"),
        (f"fine-grained: {GITHUB_PAT}", "github_token", GITHUB_PAT),
        (f"OPENAI_API_KEY={OPENAI}", "openai_key", OPENAI),
        (f"Authorization: Bearer {JWT}", "jwt", JWT),
        (f"key:\n{PRIVATE_KEY}\nthen restart", "private_key", "MIIEowIBAAKCAQEAx4Tn0nVbQ8R0y"),
        ('db_password = "hunter2!x"', "secret", "hunter2!x"),
        ("DB_PASSWORD=supersecret", "secret", "supersecret"),
        ('{"api_key": "9f8e7d6c5b4a39281706f5e4d3c2b1a0"}', "secret", "9f8e7d6c5b4a39281706f5e4d3c2b1a0"),
        ("client_secret: Zq8X2mN4pL7vR1tY6wK3", "secret", "Zq8X2mN4pL7vR1tY6wK3"),
        ("webhook https://hooks.slack.com/services/T0001/B0002/XXXXyyyyZZZZ1234", "slack_webhook",
         "XXXXyyyyZZZZ1234"),
    ],
)
def test_each_secret_kind_is_replaced_with_its_typed_placeholder(text: str, kind: str, secret: str) -> None:
    out, report = redact(text)
    assert secret not in out
    assert f"[REDACTED:{kind}]" in out
    assert report.counts.get(kind) == 1


def test_private_key_block_is_removed_whole_and_text_around_it_stays() -> None:
    out, _ = redact(f"Put this in ~/.ssh:\n{PRIVATE_KEY}\nThen run ssh-add.")
    assert "BEGIN RSA" not in out and "END RSA" not in out
    assert out.startswith("Put this in ~/.ssh:") and out.endswith("Then run ssh-add.")


def test_truncated_private_key_without_end_line_is_still_removed() -> None:
    out, report = redact("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU\n")
    assert "b3BlbnNz" not in out and report.counts == {"private_key": 1}


def test_password_in_url_keeps_the_rest_of_the_url() -> None:
    out, report = redact("DATABASE_URL=postgresql://lore:s3cr3tPass@db.internal:5432/lorebot")
    assert out == "DATABASE_URL=postgresql://lore:[REDACTED]@db.internal:5432/lorebot"
    assert report.counts == {"url_password": 1}


def test_emails_and_phones_are_redacted_only_when_enabled() -> None:
    text = "Mail ana.lopez@example.org or call +44 20 7946 0958 or (415) 555-2671."
    out, report = redact(text)
    assert "ana.lopez" not in out and "7946" not in out and "555-2671" not in out
    assert report.counts == {"email": 1, "phone": 2}
    kept, none = redact(text, emails=False, phones=False)
    assert kept == text and none.total == 0


def test_settings_switch_email_and_phone_redaction(unit_settings) -> None:
    text = "Contact ops@example.com, +1 415 555 2671"
    settings = unit_settings.model_copy(update={"redact_emails": False, "redact_phones": True})
    out, report = redact_for(text, redaction_config(settings))
    assert "ops@example.com" in out and "[REDACTED:phone]" in out and report.counts == {"phone": 1}


@pytest.mark.parametrize(
    "text",
    [
        "Upgrade to version 2.14.3 (released 2024-05-17) before 10.0.0.",
        "Fixed in commit 3f9a1c2e7b4d8e6f0a1b2c3d4e5f60718293a4b5 and 3f9a1c2.",
        "Request id 123e4567-e89b-12d3-a456-426614174000 failed at 12:30:45.",
        "Tokens are counted by the tokenizer; token: the unit the model reads.",
        "Password: forgotten? Use the reset link. The password field is required.",
        "Set the api_key in your .env file, see settings.api_key and token = get_token().",
        "Clone git@github.com:lorebot/lorebot.git and run pip install scikit-learn==1.5.0.",
        "The server listens on 192.168.10.200 port 8080; IPv6 is ::1.",
        "password = password  # forwarded from the function argument",
        "api_key: ${LOREBOT_API_KEY}",
        'postgresql://user:password@localhost/db is the example URL, "sk-learn" is not a key.',
        "Order number 1234567 shipped on 2023-11-29; call extension 4521.",
        "sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "self.signing_secret = signing_secret\nself.bot_refresh_token = bot_refresh_token",
        'proxy = "http://{username}:{password}@{hostname}:{port}" or http://user:pass@proxy.example.com',
        "Put xoxb-REPLACE-ME (or xoxb-your-bot-token) into SLACK_BOT_TOKEN.",
        "pixels_per_token = temporal_factor * factor**2\nif use_token:\n    abs_pos_embeddings = x[:, 1:]",
        "api_key = DEFAULT_API_KEY_NAME; self.pad_token = eos_token_id",
        "list('-+0123456789.')",
        '"bos_token": "tokenizer.ggml.bos_token_id", password: SecretStr, credential: TokenCredential',
    ],
)
def test_ordinary_technical_text_is_not_redacted(text: str) -> None:
    out, report = redact(text)
    assert out == text, report.counts
    assert report.total == 0


def test_already_redacted_text_is_stable() -> None:
    once, first = redact(f"token = {SLACK_BOT}\nuser a@example.com")
    twice, second = redact(once)
    assert twice == once and first.total == 2 and second.total == 0


def test_report_counts_every_occurrence() -> None:
    out, report = redact(f"{GITHUB} and again {GITHUB}; id {AWS_ID}")
    assert report.counts == {"github_token": 2, "aws_access_key": 1}
    assert report.total == 3 and out.count("[REDACTED:github_token]") == 2


def test_entropy_separates_random_strings_from_words() -> None:
    assert shannon_entropy("aaaaaaaa") == 0
    assert shannon_entropy("Zq8X2mN4pL7vR1tY6wK3") > 4
    assert shannon_entropy("") == 0


@pytest.mark.parametrize(
    "text",
    [
        ("a.b-" * 20_000) + ("x" * 80_000) + " password=" + "q" * 10,  # minified-code shape
        "http://a:" * 10_000,
        "password:     " * 10_000,
        "(123) " * 10_000,
        "a@" * 20_000,
    ],
    ids=["dotted", "url", "spaces", "phone-ish", "at-signs"],
)
def test_long_pathological_input_finishes_quickly(text: str) -> None:
    import time

    start = time.perf_counter()
    redact(text)
    # a quadratic pattern takes minutes here; linear ones well under a second
    assert time.perf_counter() - start < 5
