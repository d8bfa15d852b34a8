"""Bytes to text for the readers: UTF-8 first, then a detected encoding, binary refused.

``decode_text(data) -> (text, encoding)`` raises :class:`ReadError` with a readable reason for
an empty input or for binary content (NUL bytes, or no encoding that yields mostly printable
text). A non-UTF-8 file is not an error: its detected encoding is returned so the caller can
record it.
"""

from __future__ import annotations

import codecs
import unicodedata

_BOMS = [
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
]
_SNIFF_BYTES = 64 * 1024
MAX_UNPRINTABLE_SHARE = 0.02


class ReadError(ValueError):
    """A file or page that cannot be turned into text; the message is shown to the admin."""


def unprintable_share(text: str) -> float:
    sample = text[:_SNIFF_BYTES]
    if not sample:
        return 0.0
    bad = sum(
        1 for ch in sample
        if ch == "\ufffd" or (unicodedata.category(ch) in {"Cc", "Co", "Cn"} and ch not in "\n\r\t\f\v")
    )
    return bad / len(sample)


def decode_text(data: bytes) -> tuple[str, str]:
    """``(text, encoding)`` of ``data``; see the module docstring for what is refused."""
    if not data.strip():
        raise ReadError("empty file (no text)")
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding), encoding
            except UnicodeDecodeError as exc:
                reason = f"starts with a {encoding} byte-order mark but does not decode: {exc}"
                raise ReadError(reason) from exc
    if b"\x00" in data[:_SNIFF_BYTES]:
        raise ReadError("binary content (NUL bytes) in a file with a text extension; not indexed")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text, encoding = _detect(data)
    else:
        encoding = "utf-8"
    if unprintable_share(text) > MAX_UNPRINTABLE_SHARE:
        raise ReadError("binary content (mostly unprintable characters); not indexed")
    return text, encoding


_WESTERN_PUNCTUATION = set("‘’‚“”„–—…•€£¥©®°±×÷§¶·«»¿¡™†‡‰ ")
MAX_WESTERN_HIGH_SHARE = 0.3


def _western(data: bytes) -> str | None:
    """Mostly-ASCII text whose few other bytes read as Windows-1252 letters or punctuation.

    Detectors guess badly on short files ("naïve" came back as Urdu cp1006), and a stray
    é or ü in English or German docs is by far the common case. Text where most letters are
    high bytes (Cyrillic, Greek in 8-bit code pages) is left to the detector.
    """
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        return None
    high = [ch for ch in text if ord(ch) > 127]
    letters = sum(ch.isalpha() for ch in text)
    high_letters = sum(ch.isalpha() for ch in high)
    if not high or not letters or high_letters / letters > MAX_WESTERN_HIGH_SHARE:
        return None
    if all(ch.isalpha() or ch in _WESTERN_PUNCTUATION for ch in high):
        return text
    return None


def _detect(data: bytes) -> tuple[str, str]:
    western = _western(data)
    if western is not None:
        return western, "cp1252"
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None or best.encoding is None:
        raise ReadError("not UTF-8 and no text encoding fits: looks like binary data; not indexed")
    return str(best), best.encoding
