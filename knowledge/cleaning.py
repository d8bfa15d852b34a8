"""Document text made ready to chunk: normalised, boilerplate dropped, secrets redacted.

Contract for the pipeline:

* ``clean(doc, *, config) -> (Document, RedactionReport)`` returns a *new* Document (the input
  is not changed) whose text is NFKC-normalised, has tidy whitespace, has no navigation/cookie
  boilerplate lines, and has every secret replaced by ``[REDACTED:<kind>]`` (e-mails and phone
  numbers too, if REDACT_EMAILS / REDACT_PHONES). The title is redacted the same way and a
  password inside ``uri`` is masked. Markdown ``#`` headings are kept as they are: the HTML,
  reStructuredText and DOCX readers already turned their headings into ``#`` lines.
* ``skip_reason(doc, report) -> str | None`` says why a cleaned document must not be indexed
  (nothing left, or nothing but secrets), in words fit for the run's error list;
  ``is_effectively_empty(text)`` is the test behind it.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from dataclasses import dataclass, field

from knowledge.redaction import PLACEHOLDER_RE, RedactionConfig, merge_reports, redact, redact_for
from knowledge.types import Document, RedactionReport


@dataclass(frozen=True)
class CleaningConfig:
    """What cleaning needs to know: today only which personal data to redact."""

    redaction: RedactionConfig = field(default_factory=RedactionConfig)

# Invisible characters that survive NFKC and split words for the tokenizer.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Lone surrogates (from JSON "\udcff" escapes) cannot be stored as UTF-8 at all.
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_INNER_SPACES = re.compile(r"(?<=\S)[ \t]{2,}")
_FENCE = re.compile(r"^\s*(```|~~~)")

_BOILERPLATE = re.compile(
    r"^(?:skip to (?:main )?(?:content|navigation|search)|jump to (?:navigation|search|content)|"
    r"toggle (?:navigation|menu|sidebar|dark mode|theme)|(?:main )?menu|navigation|search(?: docs)?|"
    r"back to top|go to top|scroll to top|print(?: this page)?|share(?: this)?(?: page)?|"
    r"share on (?:twitter|x|facebook|linkedin|reddit)|tweet|"
    r"edit (?:this page )?on (?:github|gitlab)|view (?:page )?source|"
    r"was this (?:page|article) helpful\??|thanks for your feedback!?|"
    r"accept(?: all)?(?: cookies)?|reject(?: all)?(?: cookies)?|(?:manage )?cookie (?:settings|preferences)|"
    r"got it!?|previous|next|(?:« )?previous page|next page(?: »)?|"
    r"(?:©|\(c\)|copyright).{0,80}all rights reserved\.?|all rights reserved\.?)$",
    re.IGNORECASE,
)
_COOKIE_BANNER = re.compile(
    r"\b(?:we|this (?:site|website)) uses? cookies\b|"
    r"\bby (?:continuing|using) (?:to use )?this (?:site|website).{0,40}\bcookies\b|"
    r"\baccept (?:all )?cookies\b",
    re.IGNORECASE,
)
_CRUMB_SEPARATOR = re.compile(r"\s+(?:>|»|›|/|→)\s+")

# An assignment whose value was redacted says nothing once the value is gone.
_REDACTED_ASSIGNMENT = re.compile(
    r"(?<![\w.\"'-])[\w.\"'-]{0,80}\s*(?::=|=>|[:=])\s*[\"'`]?" + PLACEHOLDER_RE.pattern + r"[\"'`]?"
)
_MEANINGFUL_WORD = re.compile(r"[^\W\d_]{2,}")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
MIN_MEANINGFUL_WORDS = 3


def normalise(text: str, *, code: bool = False) -> str:
    """NFKC, Unix newlines, no invisible or control characters, tidy spaces and blank lines.

    Code keeps its spacing inside lines (alignment can carry meaning); prose does not.
    """
    text = unicodedata.normalize("NFKC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _SURROGATE.sub("\ufffd", _CONTROL.sub("", text.translate(_INVISIBLE)))
    lines = []
    in_fence = False
    for line in text.split("\n"):
        line = line.rstrip()
        if _FENCE.match(line):
            in_fence = not in_fence
        elif not (code or in_fence):
            line = _INNER_SPACES.sub(" ", line)
        lines.append(line)
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n")


def is_breadcrumb(line: str) -> bool:
    """``Home > Docs > Install``: three or more short parts joined by a path separator."""
    parts = _CRUMB_SEPARATOR.split(line.strip())
    return len(parts) >= 3 and all(0 < len(p.split()) <= 4 for p in parts) and len(line) <= 160


def is_boilerplate(line: str) -> bool:
    stripped = line.strip().strip("|").strip()
    if not stripped or stripped.startswith("#"):
        return False
    if _BOILERPLATE.match(stripped) or is_breadcrumb(stripped):
        return True
    return len(stripped) <= 400 and bool(_COOKIE_BANNER.search(stripped))


def drop_boilerplate(text: str) -> str:
    """Lines that are site chrome rather than content; fenced code is left untouched."""
    kept = []
    in_fence = False
    for line in text.split("\n"):
        if _FENCE.match(line):
            in_fence = not in_fence
        elif not in_fence and is_boilerplate(line):
            continue
        kept.append(line)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip("\n")


def is_effectively_empty(text: str) -> bool:
    """True when fewer than three real words remain once placeholders and the names of the
    redacted settings are set aside (a ``.env`` file of tokens leaves nothing worth indexing)."""
    remaining = _REDACTED_ASSIGNMENT.sub(" ", text)
    remaining = PLACEHOLDER_RE.sub(" ", remaining)
    # Chinese and Japanese put no spaces between words: count their characters in pairs instead.
    words = sum(max(1, len(_CJK.findall(word)) // 2) for word in _MEANINGFUL_WORD.findall(remaining))
    return words < MIN_MEANINGFUL_WORDS


def skip_reason(doc: Document, report: RedactionReport) -> str | None:
    """Why a cleaned document should not be indexed, or None when it should."""
    if not is_effectively_empty(doc.text):
        return None
    if report.total:
        kinds = ", ".join(sorted(report.counts))
        return f"only secrets, nothing to index ({report.total} redacted: {kinds})"
    return "no text left after cleaning (empty or only navigation/boilerplate)"


def clean(doc: Document, *, config: CleaningConfig) -> tuple[Document, RedactionReport]:
    """The cleaned, redacted copy of ``doc`` and what was redacted (see module docstring)."""
    code = doc.mime == "text/x-code"
    text = normalise(doc.text, code=code)
    if not code:
        text = drop_boilerplate(text)
    text, text_report = redact_for(text, config.redaction)
    title, title_report = redact_for(normalise(doc.title).replace("\n", " "), config.redaction)
    uri, uri_report = redact(doc.uri, emails=False, phones=False)
    report = merge_reports(text_report, title_report, uri_report)
    metadata = dict(doc.metadata)
    if report.total:
        metadata["redactions"] = dict(report.counts)
    cleaned = dataclasses.replace(doc, text=text, title=title, uri=uri, metadata=metadata)
    return cleaned, report
