"""Which class reads which kind of source.

``build_source(spec, settings) -> Source`` for the built-in kinds ``folder``, ``web``, ``git``
and ``jsonl``, and for plugin kinds registered under the entry point group
``lorebot.sources`` (the Slack and Discord adapters register ``slack`` and ``discord``). An
entry point loads a callable ``(spec, settings) -> Source``. A bad location raises ValueError
when the source is built; an unknown kind raises ValueError listing the known kinds.
``guess_kind(location)`` picks a kind for ``lorebot sources add`` when none is given.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Callable
from pathlib import Path
from typing import Any

from knowledge.sources.base import Source, SourceConfig, SourceSpec

ENTRY_POINT_GROUP = "lorebot.sources"
SourceFactory = Callable[[SourceSpec, Any], Source]
_PLUGIN_HINTS = {"slack": "lorebot[slack]", "discord": "lorebot[discord]"}


def _builtin() -> dict[str, SourceFactory]:
    # imported here so building a folder source does not import httpx, and the reverse
    def folder(spec: SourceSpec, settings: Any) -> Source:
        from knowledge.sources.folder import FolderSource

        return FolderSource(spec, settings)

    def web(spec: SourceSpec, settings: Any) -> Source:
        from knowledge.sources.web import WebSource

        return WebSource(spec, settings)

    def git(spec: SourceSpec, settings: Any) -> Source:
        from knowledge.sources.git import GitSource

        return GitSource(spec, settings)

    def jsonl(spec: SourceSpec, settings: Any) -> Source:
        from knowledge.sources.jsonl import JsonlSource

        return JsonlSource(spec, settings)

    return {"folder": folder, "web": web, "git": git, "jsonl": jsonl}


def _plugins() -> dict[str, importlib.metadata.EntryPoint]:
    return {ep.name: ep for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)}


def known_kinds() -> list[str]:
    """The kinds that can be built here now: built-in ones and installed plugins."""
    return sorted({*_builtin(), *_plugins()})


def source_kinds() -> list[str]:
    """Every kind a source may be registered as: built-in, installed plugins, and the chat
    kinds (``slack``, ``discord``) whose adapters may run in another process or install."""
    return sorted({*known_kinds(), *_PLUGIN_HINTS})


def build_source(spec: SourceSpec, settings: SourceConfig) -> Source:
    """The source object for ``spec`` (see the module docstring)."""
    kind = (spec.kind or "").strip().lower() or guess_kind(spec.location)
    builtin = _builtin()
    if kind in builtin:
        return builtin[kind](spec, settings)
    entry = _plugins().get(kind)
    if entry is None:
        hint = f"; install {_PLUGIN_HINTS[kind]} to add it" if kind in _PLUGIN_HINTS else ""
        raise ValueError(f"unknown source kind {kind!r}{hint}; known kinds: {', '.join(known_kinds())}")
    try:
        factory = entry.load()
    except Exception as exc:  # a broken or half-installed plugin must not hide which one it is
        package = _PLUGIN_HINTS.get(kind, "the package that provides it")
        raise ValueError(
            f"source kind {kind!r} comes from {entry.value} but it failed to load ({exc}); "
            f"reinstall {package}"
        ) from exc
    return factory(spec, settings)


def guess_kind(location: str) -> str:
    """``web`` for http(s) URLs, ``slack``/``discord`` for ``slack:C123``/``discord:456``,
    ``jsonl`` for .jsonl files, ``git`` for a folder holding a repository, else ``folder``."""
    text = location.strip()
    if text.lower().startswith(("http://", "https://")):
        return "web"
    if text.lower().startswith(("slack:", "discord:")):
        return text.split(":", 1)[0].lower()
    if text.lower().endswith((".jsonl", ".jsonl.gz")):
        return "jsonl"
    path = Path(text).expanduser()
    if (path / ".git").exists():
        return "git"
    return "folder"
