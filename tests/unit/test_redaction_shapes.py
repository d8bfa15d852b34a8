"""Secret shapes that need context to spot (query strings, prose, split lines, base64), URL credentials
stripped from identifiers, and no false positives on the bundled sample knowledge or our own code."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import pytest

from knowledge.redaction import redact, strip_credentials_in, strip_url_credentials

ROOT = Path(__file__).resolve().parents[2]
# Built from parts so this file itself does not look like it leaks credentials.
AWS_ID = "AKIA" + "IOSFODNN7EXAMPLQ"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCYEXAMPLEK9Z"
SLACK_HEAD, SLACK_TAIL = "xoxb-" + "2481632641-", "2481632641281-" + "a1B2c3D4e5F6g7H8i9J0k1L2"
GITHUB_HEAD, GITHUB_TAIL = "ghp_" + "1a2B3c4D5e6F7g8H9i0J", "1k2L3m4N5o6P7q8R"
KEY_PEM = ("-----BEGIN " + "PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END "
           + "PRIVATE KEY-----\n")
SERVICE_ACCOUNT = json.dumps({"type": "service_account", "project_id": "acme-prod",
                              "private_key_id": "5f3c2a", "private_key": KEY_PEM,
                              "client_email": "ingest@acme-prod.iam.gserviceaccount.com"}, indent=2)


def _b64(text: str, *, wrap: int = 0) -> str:
    blob = base64.b64encode(text.encode()).decode()
    return "\n".join(blob[i:i + wrap] for i in range(0, len(blob), wrap)) if wrap else blob


@pytest.mark.parametrize(("text", "secret", "kind"), [
    ("Console: https://db.example.com/login?user=ops&password=Hunter2Secret (VPN only)",
     "Hunter2Secret", "secret"),
    ("https://api.example.com/v1/export?format=csv&api_key=Zq8X2mN4pL7vR1tY&page=2", "Zq8X2mN4pL7vR1tY",
     "secret"),
    (f"The key id is {AWS_ID} and the secret is {AWS_SECRET}, rotate it yearly.", AWS_SECRET, "aws_secret"),
    (f"prod account: {AWS_ID} / {AWS_SECRET}", AWS_SECRET, "aws_secret"),
    (f"AWS_SECRET\t{AWS_SECRET}", AWS_SECRET, "aws_secret"),
    (f"export aws_secret_access_key {AWS_SECRET}", AWS_SECRET, "aws_secret"),
    (f"bot token: {SLACK_HEAD}\n{SLACK_TAIL}\nthen restart", SLACK_TAIL, "slack_token"),
    (f"use {GITHUB_HEAD}\n  {GITHUB_TAIL} for the mirror", GITHUB_TAIL, "github_token"),
    ("Note: the root password is Tr0ub4dor&3 until Friday.", "Tr0ub4dor&3", "secret"),
    ("The staging DB password is hunter2! so be careful", "hunter2!", "secret"),
    ('the wifi passphrase is "CorrectHorse42"', "CorrectHorse42", "secret"),
    ("password: Hunter2Secret", "Hunter2Secret", "secret"),
    (f"GOOGLE_CREDENTIALS_B64={_b64(SERVICE_ACCOUNT)}", _b64(SERVICE_ACCOUNT)[:40], "private_key"),
    (f"key material:\n{_b64(KEY_PEM * 2, wrap=76)}\nend", _b64(KEY_PEM * 2)[:40], "private_key"),
    (f"creds {_b64(SERVICE_ACCOUNT, wrap=64)}", "ewog", "private_key"),
])
def test_context_shapes_are_redacted(text: str, secret: str, kind: str) -> None:
    out, report = redact(text)
    assert secret not in out, out
    assert report.counts.get(kind, 0) >= 1, report.counts


def test_split_token_keeps_the_next_line_s_words() -> None:
    out, _ = redact(f"token {SLACK_HEAD}\n{SLACK_TAIL}\nDeploy now")
    assert out == "token [REDACTED:slack_token]\nDeploy now"


@pytest.mark.parametrize("text", [
    "The password is stored in Vault. The password is rotated monthly.",
    "The password is required; passwords are hashed with argon2.",
    "see https://example.com/search?q=deploy&page=2&sort=desc and ?token=${TOKEN}",
    "commit 3f786850e387550fdab836ed7e6dc881de23001b fixed the secret rotation",
    "the secret is kept in SECRETS_MANAGER_ARN; see docs/secrets.md",
    "ENCODED=" + _b64("just a long ordinary configuration string, nothing secret in it at all, really"),
    "password: forgotten? Use the reset link. Password is: required",
])
def test_ordinary_text_is_left_alone(text: str) -> None:
    out, report = redact(text)
    assert out == text, report.counts


def _files(*patterns: str) -> list[Path]:
    return sorted(path for pattern in patterns for path in ROOT.glob(pattern))


@pytest.mark.parametrize("path", _files("bot/sample_knowledge/*.md", "README.md", "knowledge/**/*.py",
                                        "adapters/**/*.py"), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_false_positive_on_sample_knowledge_and_code(path: Path) -> None:
    text = path.read_text()
    out, report = redact(text, emails=False, phones=False)
    new_kinds = {"secret", "aws_secret", "private_key", "slack_token", "github_token"}
    assert not (set(report.counts) & new_kinds) or path.name == "redaction.py" and out == text, report.counts


@pytest.mark.parametrize(("url", "clean"), [
    ("https://ops:Hunter2@wiki.example.com/page?x=1#top", "https://wiki.example.com/page?x=1#top"),
    ("https://ghp_token@github.com/acme/docs.git", "https://github.com/acme/docs.git"),
    ("http://user:p%40ss@10.0.0.1:8080/", "http://10.0.0.1:8080/"),
    ("https://docs.example.com/a@b", "https://docs.example.com/a@b"),
    ("/srv/docs/team@home", "/srv/docs/team@home"),
])
def test_url_credentials_are_stripped(url: str, clean: str) -> None:
    assert strip_url_credentials(url) == clean


def test_credentials_stripped_in_a_list_of_urls() -> None:
    assert strip_credentials_in("https://a:b@x.example/1, https://y.example/2\nhttps://t@z.example/3") == \
        "https://x.example/1, https://y.example/2\nhttps://z.example/3"


@pytest.mark.parametrize("text", ["password is " * 20_000, "?password=a" * 20_000, "A" * 400_000,
                                  (SLACK_HEAD + "\n1234") * 10_000, "secret " + "Ab1/" * 50_000],
                         ids=["prose", "query", "base64ish", "split", "aws-ish"])
def test_new_patterns_stay_linear(text: str) -> None:
    start = time.perf_counter()
    redact(text)
    assert time.perf_counter() - start < 5  # quadratic patterns take minutes on these
