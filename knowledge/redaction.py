"""Secrets and personal data taken out of document text before anything is embedded.

Contract: ``redact(text, emails=..., phones=...) -> (text, RedactionReport)`` replaces each
finding with a typed placeholder ``[REDACTED:<kind>]`` (a password inside a URL keeps the rest
of the URL: ``scheme://user:[REDACTED]@host``) and counts findings per kind.
:func:`redact_for` takes the e-mail/phone switches as a :class:`RedactionConfig`.

The patterns aim at things that are secrets by *shape* (token prefixes, key blocks, JWTs) or by
*context* (``password = "..."`` with a random-looking value). Ordinary prose, version numbers,
dates, git SHAs and UUIDs are left alone; the tests hold each of those cases.

Shapes found by *context* beyond ``key = value``: secret query parameters (``?password=...``),
a 40-character AWS secret in prose near an access key id or the word "secret", prose passwords
("the root password is ..."), tokens a line break split in two, and base64 blobs that decode to
a private key or a service-account JSON. :func:`strip_url_credentials` takes ``user:pw@`` out
of a URL for everything that is stored or shown as an identifier (external ids, URLs, source
locations), where a placeholder would be wrong.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from knowledge.types import RedactionReport

PLACEHOLDER_RE = re.compile(r"\[REDACTED(?::[a-z_]+)?\]")

_Replacer = Callable[[re.Match[str]], str | None]


def placeholder(kind: str) -> str:
    return f"[REDACTED:{kind}]"


def shannon_entropy(value: str) -> float:
    """Bits per character of ``value``'s own character distribution."""
    if not value:
        return 0.0
    counts = Counter(value)
    size = len(value)
    return -sum(n / size * math.log2(n / size) for n in counts.values())


# Values people write in docs *instead of* a secret; redacting them only hurts the docs.
_NOT_A_SECRET = re.compile(
    r"^(?:\*+|x+|\.+|<[^>]*>|\{\{.*\}\}|\{[\w.]*\}|\$\{?[\w.]+\}?|%\(?\w+\)?s?|"
    r"(?:your|my|the)?[-_]?(?:password|passwd|pass|secret|token|key|api[-_]?key|changeme|"
    r"change[-_]me|placeholder|example|redacted|none|null|true|false|undefined|required|optional)s?)$",
    re.IGNORECASE,
)


def _looks_like_placeholder(value: str) -> bool:
    return bool(_NOT_A_SECRET.match(value)) or "REPLACE" in value.upper() or "YOUR_" in value.upper()


def _whole(kind: str) -> _Replacer:
    return lambda _m: placeholder(kind)


_PRIVATE_KEY = re.compile(
    r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?"
    r"(?:-----END[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|\Z)"
)
_SLACK_WEBHOOK = re.compile(r"https://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9/_-]{10,}")
# A token wrapped onto the next line (a chat client or an 80-column editor split it) continues with
# random characters: a continuation must carry a digit, so the next line's first word is kept.
_SPLIT = r"(?:[ \t]*\r?\n[ \t]*(?=[A-Za-z_-]*\d)[A-Za-z0-9_-]{4,})"


def _token(prefix: str, chars: str, minimum: int) -> re.Pattern[str]:
    """``prefix`` + at least ``minimum`` ``chars``, or a shorter head that continues on the next line."""
    return re.compile(rf"{prefix}(?:{chars}{{{minimum},}}{_SPLIT}*|{chars}{{8,}}{_SPLIT}+)")


_SLACK_TOKEN = re.compile(_token(r"\bxox[abposre]-", "[A-Za-z0-9-]", 10).pattern + "|"
                          + _token(r"\bxapp-\d-", "[A-Za-z0-9-]", 10).pattern)
_HF_TOKEN = _token(r"\bhf_", "[A-Za-z0-9]", 30)
_GITHUB_TOKEN = re.compile(_token(r"\bgh[pousr]_", "[A-Za-z0-9]", 30).pattern + "|"
                           + _token(r"\bgithub_pat_", "[A-Za-z0-9_]", 22).pattern)
_OPENAI_KEY = _token(r"(?<![\w-])sk-", "[A-Za-z0-9_-]", 20)
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*")
_AWS_KEY_ID = re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b")
_AWS_SECRET = re.compile(
    r"(?P<key>aws_?secret_?access_?key|aws_?secret|secret_?access_?key)"
    r"(?P<sep>[\"']?(?:\s*[:=]\s*|[ \t]+)[\"']?)"
    r"(?P<value>[A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])",
    re.IGNORECASE,
)
# A 40-character AWS secret with no key= before it: random base64 (mixed case and a digit, which a
# 40-hex git SHA never has) within a short distance of an access key id or the word "secret".
_AWS_SECRET_PROSE = re.compile(r"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])")
_AWS_CONTEXT = re.compile(r"(?:AKIA|ASIA)[A-Z0-9]{16}|\[REDACTED:aws_access_key\]|secret", re.IGNORECASE)
_QUERY_SECRET = re.compile(
    r"(?P<head>[?&;](?P<key>[\w.-]*(?:password|passwd|pwd|pass|secret|token|api[_-]?key|apikey|"
    r"access[_-]?key|signature|sig|auth|credentials?))=)(?P<value>[A-Za-z0-9%][^&#\s\"'<>`]{2,})",
    re.IGNORECASE,
)
_PROSE_PASSWORD = re.compile(
    r"(?P<head>\b(?:password|passwd|passphrase|pwd)s?\s+(?:is|was|are|=|:|-)\s+"
    r"(?:(?:now|still|currently|set\s+to)\s+)?(?P<quote>[\"'`]?))"
    r"(?P<value>[^\s\"'`]{6,}?)(?P=quote)(?=[\s,;)]|[.!?](?:\s|$)|$)",
    re.IGNORECASE,
)
_BASE64_BLOB = re.compile(
    r"(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{60,}={0,2}(?:[ \t]*\r?\n[ \t]*[A-Za-z0-9+/_-]{16,}={0,2})*"
)
_DECODED_SECRET = re.compile(rb"PRIVATE KEY-----|\"private_key\"\s*:|\"type\"\s*:\s*\"service_account\"")
_URL_PASSWORD = re.compile(r"(?P<head>(?<![a-zA-Z0-9+.-])[a-zA-Z][a-zA-Z0-9+.-]{0,30}://[^\s:/@\[\]]+:)(?P<value>[^\s@/]+)(?=@)")

# key (possibly prefixed: DB_PASSWORD, slackBotToken) = value (quoted or bare). The key is matched
# as a whole identifier and its ending checked afterwards: a keyword search inside the regex
# costs a scan per character on long dotted strings (minified code).
_ASSIGNMENT = re.compile(
    r"(?<![\w.-])(?P<key>[\w.-]{1,60})"
    r"(?P<sep>[\"']?[ \t]*(?::=|=>|[:=])[ \t]*)"
    r"(?P<quote>[\"'`]?)(?P<value>[A-Za-z0-9_\-+/=.~!@#$%^&*?]{6,})(?P=quote)"
    r"(?=[\s,;)}\]]|$)",
)
_SECRET_KEY = re.compile(
    r"(?P<word>password|passwd|passphrase|pwd|secret|api[_-]?key|apikey|access[_-]?key|auth[_-]?token|"
    r"access[_-]?token|refresh[_-]?token|token|client[_-]?secret|private[_-]?key|signing[_-]?secret|"
    r"credentials?)\Z",
    re.IGNORECASE,
)
_USERINFO_BEFORE = re.compile(r"://[^\s/@:]*:\Z")
_EMAIL = re.compile(r"(?<![\w.%+-])(?<!://)[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
# Unquoted values that are code, not literals: attribute access, snake_case variables, and
# names ending in the secret word (client_secret = client_secret).
_REFERENCE = re.compile(
    r"[A-Za-z_]\w*(?:\.\w+)+|(?-i:[a-z][a-z0-9]*(?:_[a-z0-9]+)+|[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)|"
    r"[A-Za-z_]\w*_(?:password|passwd|pwd|secret|token|key|credentials?)",
    re.IGNORECASE,
)
_TYPE_NAME = re.compile(r"(?:[A-Z][a-z]{2,}){2,}")
_WORD = re.compile(r"[A-Za-z][a-z]*[.,!?]?")
_PHONE_INTL = re.compile(r"(?<![\w+.-])\+\d[\d ().-]{6,20}\d(?![\w.]*\d)")
_PHONE_NA = re.compile(r"(?<![\w.+-])(?:\(\d{3}\) ?|\d{3}[ .-])\d{3}[ .-]\d{4}(?![\w]|[.-]\d)")


def _aws_secret(m: re.Match[str]) -> str | None:
    return m.group("key") + m.group("sep") + placeholder("aws_secret")


def _aws_secret_prose(m: re.Match[str]) -> str | None:
    value = m.group(0)
    mixed_case = value.lower() != value and value.upper() != value
    if not (mixed_case and any(c.isdigit() or c in "/+" for c in value)):
        return None
    if shannon_entropy(value) < 3.5:
        return None
    nearby = m.string[max(0, m.start() - 120):m.start()] + " " + m.string[m.end():m.end() + 60]
    return placeholder("aws_secret") if _AWS_CONTEXT.search(nearby) else None


def _query_secret(m: re.Match[str]) -> str | None:
    value = m.group("value")
    if value.startswith("[REDACTED") or _looks_like_placeholder(value):
        return None
    return m.group("head") + placeholder("secret")


def _prose_password(m: re.Match[str]) -> str | None:
    value = m.group("value")
    if value.startswith("[REDACTED") or _looks_like_placeholder(value) or _REFERENCE.fullmatch(value):
        return None
    # "the password is stored in Vault": a word. A password mixes in a digit, a symbol or inner capitals.
    if not (any(c.isdigit() for c in value) or any(not c.isalnum() for c in value.rstrip(".!?"))
            or any(c.isupper() for c in value[1:])):
        return None
    if _TYPE_NAME.fullmatch(value) or shannon_entropy(value) < 2.3:
        return None
    return m.group("head") + placeholder("secret") + m.group("quote")


def _base64_secret(m: re.Match[str]) -> str | None:
    raw = re.sub(r"\s+", "", m.group(0))[: 4 * 1024 * 1024]
    raw = raw.rstrip("=")
    raw += "=" * (-len(raw) % 4)
    for alt in (None, b"-_"):
        try:
            decoded = base64.b64decode(raw, altchars=alt, validate=True)
        except (binascii.Error, ValueError):
            continue
        if _DECODED_SECRET.search(decoded):
            return placeholder("private_key")
    return None


_ANY_URL = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]{0,30}://[^\s,]+")


def strip_url_credentials(url: str) -> str:
    """``url`` without a ``user:password@`` (or ``token@``) part; anything else unchanged.

    For values stored or shown as identifiers (a document's external id, a source's location):
    there the credential must go entirely, not become a placeholder inside the URL.
    """
    if "@" not in url or "://" not in url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


def strip_credentials_in(text: str) -> str:
    """Every URL in ``text`` (a source location may list several) with its credentials stripped."""
    if "@" not in text:
        return text
    return _ANY_URL.sub(lambda m: strip_url_credentials(m.group(0)), text)


def _url_password(m: re.Match[str]) -> str | None:
    value = m.group("value")
    if value.startswith("[REDACTED") or _looks_like_placeholder(value):
        return None
    return m.group("head") + "[REDACTED]"


def _assignment(m: re.Match[str]) -> str | None:
    key = _SECRET_KEY.search(m.group("key"))
    if key is None:
        return None
    value = m.group("value")
    if _looks_like_placeholder(value) or value.lower() == m.group("key").lower():
        return None
    if not m.group("quote") and _REFERENCE.fullmatch(value):
        return None  # a variable or attribute in code (settings.api_key, client_secret), not a literal
    if _TYPE_NAME.fullmatch(value):
        return None  # password: SecretStr, credential: TokenCredential
    # after "Password:" in prose comes a word; after "DB_PASSWORD=" in config comes the value
    wordlike = bool(_WORD.fullmatch(value))
    prose_separator = ":" in m.group("sep") and ":=" not in m.group("sep")
    if key.group("word").lower() in {"password", "passwd", "passphrase", "pwd"}:
        secret_like = shannon_entropy(value) >= 2.3 and not (wordlike and prose_separator)
    else:
        # generated tokens mix digits or cases; "tokenizer.ggml.bos_token_id" does neither
        mixed = any(c.isdigit() for c in value) or (value.lower() != value and value.upper() != value)
        secret_like = len(value) >= 12 and shannon_entropy(value) >= 3.0 and mixed and not wordlike
    if not secret_like:
        return None
    return m.group("key") + m.group("sep") + m.group("quote") + placeholder("secret") + m.group("quote")


def _slack_token(m: re.Match[str]) -> str | None:
    if not any(c.isdigit() for c in m.group(0)):
        return None  # xoxb-REPLACE-ME, xoxb-your-token: real ones carry numeric ids
    return placeholder("slack_token")


def _openai_key(m: re.Match[str]) -> str | None:
    body = m.group(0)[3:]
    if not (any(c.isdigit() for c in body) and any(c.isalpha() for c in body)):
        return None  # sk-some-long-branch-name
    return placeholder("openai_key")


def _phone(m: re.Match[str]) -> str | None:
    digits = sum(ch.isdigit() for ch in m.group(0))
    if not 8 <= digits <= 15 or re.search(r"[\s.-]{2,}", m.group(0)):
        return None
    return placeholder("phone")


def _email(m: re.Match[str]) -> str | None:
    local = m.group(0).split("@", 1)[0]
    if local.lower() == "git":  # git@github.com:org/repo is a clone address, not a person
        return None
    if _USERINFO_BEFORE.search(m.string, max(0, m.start() - 200), m.start()):
        return None  # the password@host part of scheme://user:password@host
    return placeholder("email")


# Order matters: whole-token shapes first, so a JWT inside ``token = ...`` is named as a JWT.
_RULES: list[tuple[str, re.Pattern[str], _Replacer]] = [
    ("private_key", _PRIVATE_KEY, _whole("private_key")),
    ("private_key_b64", _BASE64_BLOB, _base64_secret),
    ("slack_webhook", _SLACK_WEBHOOK, _whole("slack_webhook")),
    ("slack_token", _SLACK_TOKEN, _slack_token),
    ("github_token", _GITHUB_TOKEN, _whole("github_token")),
    ("huggingface_token", _HF_TOKEN, _whole("huggingface_token")),
    ("openai_key", _OPENAI_KEY, _openai_key),
    ("jwt", _JWT, _whole("jwt")),
    ("aws_access_key", _AWS_KEY_ID, _whole("aws_access_key")),
    ("aws_secret", _AWS_SECRET, _aws_secret),
    ("aws_secret_prose", _AWS_SECRET_PROSE, _aws_secret_prose),
    ("url_password", _URL_PASSWORD, _url_password),
    ("query_secret", _QUERY_SECRET, _query_secret),
    ("secret", _ASSIGNMENT, _assignment),
    ("prose_password", _PROSE_PASSWORD, _prose_password),
]
_EMAIL_RULE = ("email", _EMAIL, _email)

# A rule runs only when one of its needles occurs in the (lower-cased) text: most prose has no
# "xox" or "eyj" in it, and skipping those scans makes redaction several times faster.
_NEEDLES: dict[str, tuple[str, ...]] = {
    "private_key": ("private key",),
    "slack_webhook": ("hooks.slack.com",),
    "slack_token": ("xox", "xapp-"),
    "github_token": ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
    "huggingface_token": ("hf_",),
    "openai_key": ("sk-",),
    "jwt": ("eyj",),
    "aws_access_key": ("akia", "asia"),
    "aws_secret": ("secret",),
    "aws_secret_prose": ("akia", "asia", "secret"),
    "query_secret": ("=",),
    "prose_password": ("pass", "pwd"),
    "url_password": ("://",),
    "secret": ("pass", "pwd", "secret", "key", "token", "credential"),
    "email": ("@",),
}
# Rules that find a kind another rule already names are counted under that kind.
_COUNT_AS = {"private_key_b64": "private_key", "aws_secret_prose": "aws_secret", "query_secret": "secret",
             "prose_password": "secret"}
_PHONE_RULES = [("phone", _PHONE_INTL, _phone), ("phone", _PHONE_NA, _phone)]


def redact(text: str, *, emails: bool = True, phones: bool = True) -> tuple[str, RedactionReport]:
    """``text`` with every secret (and, if asked, e-mail/phone) replaced; counts per kind."""
    rules = list(_RULES)
    if emails:
        rules.append(_EMAIL_RULE)
    if phones:
        rules.extend(_PHONE_RULES)
    counts: Counter[str] = Counter()
    lowered = text.lower()
    for kind, pattern, replacer in rules:
        needles = _NEEDLES.get(kind)
        if needles and not any(needle in lowered for needle in needles):
            continue

        def _sub(m: re.Match[str], kind: str = kind, replacer: _Replacer = replacer) -> str:
            replacement = replacer(m)
            if replacement is None:
                return m.group(0)
            counts[_COUNT_AS.get(kind, kind)] += 1
            return replacement

        text = pattern.sub(_sub, text)
    return text, RedactionReport(counts=dict(counts))


@dataclass(frozen=True)
class RedactionConfig:
    """Which personal data is redacted besides secrets (REDACT_EMAILS / REDACT_PHONES)."""

    redact_emails: bool = True
    redact_phones: bool = True


def redact_for(text: str, config: RedactionConfig) -> tuple[str, RedactionReport]:
    """:func:`redact` with the e-mail/phone switches taken from ``config``."""
    return redact(text, emails=config.redact_emails, phones=config.redact_phones)


def merge_reports(*reports: RedactionReport) -> RedactionReport:
    total: Counter[str] = Counter()
    for report in reports:
        total.update(report.counts)
    return RedactionReport(counts=dict(total))
