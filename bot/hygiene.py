"""Text from outside made safe at the edge: for the database, for terminals, as a collection name.

Pure functions with no imports from the rest of lorebot, so adapters, the CLI and the admin
commands can all call them.

- :func:`clean_input`: what a person typed, before it goes anywhere. PostgreSQL refuses NUL in
  text (``DataError``: the user gets a generic apology and the log gets the question), and a lone
  UTF-16 surrogate (``\\ud800``, which JSON can carry) cannot be encoded, so the tokenizer raises.
- :func:`for_terminal`: anything printed to a terminal. ANSI escapes can recolour, hide or
  rewrite what an operator sees (or set the window title, or write a clickable link), and
  right-to-left overrides make ``txt.exe`` read as ``exe.txt``; text that came from documents
  or chat (``gaps``, source errors, answers) is shown with them stripped, keeping ``\\n``/``\\t``.
- :func:`validate_collection_name`: ``[a-z0-9][a-z0-9_-]{0,63}``, ASCII only, so names are safe
  to show, type and compare (a full-width ``ｅｎｇ`` is not ``eng``).
"""

from __future__ import annotations

import re

_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")
# CSI (ESC [ ... final), OSC (ESC ] ... BEL or ESC \), DCS/SOS/PM/APC strings, two-character ESC x,
# and the 8-bit CSI/OSC introducers; then any control left over.
_ANSI = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"
    r"|\x1b[\]PX^_][^\x07\x1b]*(?:\x07|\x1b\\|\Z)"
    r"|\x1b[ -/]*[0-~]"
    r"|\x9b[0-?]*[ -/]*[@-~]"
    r"|\x9d[^\x07\x1b]*(?:\x07|\x1b\\|\Z)"
)
# C0 except \t \n, DEL, C1, bidi embeddings/overrides/isolates and the Arabic letter mark.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u061c]")
COLLECTION_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}", re.ASCII)


def clean_input(text: str) -> str:
    """``text`` without NUL bytes, with each lone surrogate replaced by U+FFFD."""
    if not text:
        return text or ""
    return _LONE_SURROGATE.sub("\ufffd", text.replace("\x00", ""))


def for_terminal(text: str) -> str:
    """``text`` without terminal escape sequences and control characters other than ``\\n``, ``\\t``."""
    if not text:
        return text or ""
    text = clean_input(text).replace("\r\n", "\n")
    return _CONTROL.sub("", _ANSI.sub("", text))


def validate_collection_name(name: str) -> str:
    """``name`` if it is a valid collection name, else ValueError saying what one looks like."""
    if not isinstance(name, str) or not COLLECTION_NAME.fullmatch(name):
        shown = for_terminal(repr(name))[:80]
        raise ValueError(
            f"collection name {shown} is not allowed: use 1-64 lowercase letters a-z, digits, '_' or '-', "
            "starting with a letter or digit (e.g. eng, support-docs)"
        )
    return name
