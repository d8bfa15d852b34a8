"""Registry: built-in kinds, plugin kinds through entry points, guessing a kind from a location."""

from __future__ import annotations

import importlib.metadata
import subprocess
from pathlib import Path

import pytest

from knowledge.sources import registry
from knowledge.sources.base import SourceSpec
from knowledge.sources.folder import FolderSource
from knowledge.sources.git import GitSource
from knowledge.sources.jsonl import JsonlSource
from knowledge.sources.web import WebSource


def test_builds_each_builtin_kind(tmp_path: Path, unit_settings) -> None:
    (tmp_path / "d.jsonl").write_text('{"id": "1", "text": "x"}\n')
    subprocess.run(["git", "init", "-q", str(tmp_path / "repo")], check=True)
    cases = {
        "folder": (str(tmp_path), FolderSource),
        "web": ("https://docs.example.com/", WebSource),
        "git": (str(tmp_path / "repo"), GitSource),
        "jsonl": (str(tmp_path / "d.jsonl"), JsonlSource),
    }
    for kind, (location, cls) in cases.items():
        source = registry.build_source(SourceSpec(name=kind, kind=kind, location=location), unit_settings)
        assert isinstance(source, cls)
        assert source.spec.location == location


def test_unknown_kind_lists_known_kinds(unit_settings) -> None:
    with pytest.raises(ValueError, match="unknown source kind 'ftp'; known kinds: .*folder.*git.*jsonl.*web"):
        registry.build_source(SourceSpec(name="x", kind="ftp", location="/"), unit_settings)


def test_missing_platform_plugin_says_what_to_install(unit_settings, monkeypatch) -> None:
    monkeypatch.setattr(registry, "_plugins", dict)
    with pytest.raises(ValueError, match=r"install lorebot\[slack\]"):
        registry.build_source(SourceSpec(name="s", kind="slack", location="C123"), unit_settings)


def test_plugin_kind_is_loaded_from_entry_points(tmp_path: Path, unit_settings, monkeypatch) -> None:
    fake = importlib.metadata.EntryPoint(
        name="chat", value="knowledge.sources.jsonl:JsonlSource", group=registry.ENTRY_POINT_GROUP
    )
    broken = importlib.metadata.EntryPoint(
        name="broken", value="no_such_module_xyz:Source", group=registry.ENTRY_POINT_GROUP
    )
    monkeypatch.setattr(registry, "_plugins", lambda: {"chat": fake, "broken": broken})
    (tmp_path / "c.jsonl").write_text('{"id": "1", "text": "hello"}\n')
    source = registry.build_source(SourceSpec(name="c", kind="chat", location=str(tmp_path / "c.jsonl")),
                                   unit_settings)
    assert [d.text for d in source.load()] == ["hello"]
    assert "chat" in registry.known_kinds()
    with pytest.raises(ValueError, match="broken.*failed to load"):
        registry.build_source(SourceSpec(name="b", kind="broken", location="x"), unit_settings)


def test_real_entry_point_group_is_queried() -> None:
    # whatever is installed, the lookup must work and never drop the built-ins
    kinds = registry.known_kinds()
    assert {"folder", "web", "git", "jsonl"} <= set(kinds)


def test_guess_kind(tmp_path: Path) -> None:
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    assert registry.guess_kind("https://docs.example.com/sitemap.xml") == "web"
    assert registry.guess_kind("HTTP://x.test") == "web"
    assert registry.guess_kind("/data/corpus.jsonl") == "jsonl"
    assert registry.guess_kind(str(tmp_path / "repo")) == "git"
    assert registry.guess_kind(str(tmp_path)) == "folder"
    assert registry.guess_kind("docs/**/*.md") == "folder"
    assert registry.guess_kind("slack:C0123") == "slack" and registry.guess_kind("Discord:42") == "discord"


def test_one_guess_kind_and_one_kind_list(tmp_path: Path) -> None:
    """`lorebot sources add` guesses with the registry's rules (a gzipped JSONL is jsonl, which
    the jsonl source reads) and accepts the registry's kinds."""
    from bot import sources

    assert sources.guess_kind("/data/corpus.jsonl.gz") == "jsonl"
    assert sources.guess_kind is registry.guess_kind
    assert {"folder", "web", "git", "jsonl", "slack", "discord"} <= set(registry.source_kinds())
    with pytest.raises(ValueError, match="unknown source kind 'ftp'; use one of: .*discord"):
        sources.check_location("ftp", str(tmp_path))


def test_empty_kind_is_guessed(tmp_path: Path, unit_settings) -> None:
    source = registry.build_source(SourceSpec(name="d", kind="", location=str(tmp_path)), unit_settings)
    assert isinstance(source, FolderSource)


def test_bad_location_fails_when_built(tmp_path: Path, unit_settings) -> None:
    with pytest.raises(ValueError, match="does not exist"):
        spec = SourceSpec(name="d", kind="folder", location=str(tmp_path / "no"))
        registry.build_source(spec, unit_settings)
    with pytest.raises(ValueError, match="not an http"):
        registry.build_source(SourceSpec(name="w", kind="web", location="ftp://x"), unit_settings)
