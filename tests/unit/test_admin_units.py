"""Pure unit tests of the admin pieces: auth, parsing, channel mentions, gap grouping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from bot.admin.auth import is_admin
from bot.admin.commands._common import ago, human_bytes
from bot.admin.commands.gaps import group_by_similarity
from bot.admin.commands.scope import parse_channel
from bot.admin.registry import CommandSpec, Registry, UsageError
from bot.admin.router import build_registry
from bot.settings import load_settings
from bot.types import Actor


def test_admins_from_settings_platform_admins_and_cli(tmp_path):
    s = load_settings(_env_file=None, lorebot_data_dir=tmp_path, lorebot_admins="slack:U1, discord:42",
                      trust_platform_admins=True)
    assert is_admin(s, Actor("slack", "U1"))
    assert is_admin(s, Actor("discord", "42"))
    assert not is_admin(s, Actor("slack", "42"))  # the id alone is not enough: platform matters
    assert not is_admin(s, Actor("discord", "U1"))
    assert is_admin(s, Actor("slack", "U9", platform_admin=True))
    untrusting = load_settings(_env_file=None, lorebot_data_dir=tmp_path)  # the default: off
    assert not is_admin(untrusting, Actor("slack", "U9", platform_admin=True))
    assert is_admin(untrusting, Actor("cli", "alice"))


@pytest.mark.parametrize(("token", "platform", "expected"), [
    ("<#C123|general>", "cli", ("slack", "C123")),
    ("<#C123>", "discord", ("slack", "C123")),
    ("<#98765>", "slack", ("discord", "98765")),
    ("discord:98765", "cli", ("discord", "98765")),
    ("slack:#C55", "cli", ("slack", "C55")),
    ("C777", "slack", ("slack", "C777")),
    ("#C777", "slack", ("slack", "C777")),
])
def test_parse_channel_mentions_and_ids(token, platform, expected):
    assert parse_channel(token, default_platform=platform) == expected


def test_parse_channel_needs_a_platform_from_the_cli_and_rejects_junk():
    with pytest.raises(ValueError, match="slack:C1 or discord:C1"):
        parse_channel("C1", default_platform="cli")
    with pytest.raises(ValueError, match="not a channel"):
        parse_channel("<@U123>", default_platform="slack")


def test_every_command_has_usage_and_help_and_only_read_only_ones_are_public():
    registry = build_registry()
    names = {s.name for s in registry.all()}
    assert {"help", "status", "sources add", "sources reindex", "scope set", "gaps",
            "feedback stats", "feedback export", "finetune train", "correct"} <= names
    public = {s.name for s in registry.all() if s.public}
    assert public == {"help", "status"}
    for spec in registry.all():
        assert spec.usage.startswith(spec.name) and spec.help


def test_registry_refuses_a_public_command_that_writes_and_duplicate_names():
    registry = Registry()
    spec = CommandSpec(name="x", usage="x", help="h", handler=lambda c, a: "")
    registry.add(spec)
    with pytest.raises(ValueError, match="twice"):
        registry.add(spec)
    with pytest.raises(ValueError, match="cannot be public"):
        registry.add(CommandSpec(name="y", usage="y", help="h", handler=lambda c, a: "",
                                 public=True))


def test_spec_parse_errors_are_usage_errors_not_exits():
    spec = build_registry().match(["sources", "add"])[0]
    assert spec is not None
    with pytest.raises(UsageError, match="required"):
        spec.parse(["onlyname"])
    with pytest.raises(UsageError, match="not allowed with"):
        spec.parse(["n", "/x", "--every", "6h", "--cron", "* * * * *"])
    assert spec.parse(["n", "/x", "--cron", "0 */6 * * *"]).cron == "0 */6 * * *"


def test_group_by_similarity_groups_near_duplicates_largest_first():
    a = np.array([1.0, 0.0, 0.0])
    b = np.array([0.0, 1.0, 0.0])
    near_a = np.array([0.95, 0.31, 0.0])
    near_a /= np.linalg.norm(near_a)
    vectors = np.stack([b, a, near_a, a])
    assert group_by_similarity(vectors, threshold=0.9) == [[1, 2, 3], [0]]
    assert group_by_similarity(vectors, threshold=0.999) == [[1, 3], [0], [2]]
    assert group_by_similarity(np.zeros((0, 3))) == []


def test_small_wording_helpers():
    now = datetime(2026, 1, 2, tzinfo=UTC)
    assert ago(None) == "never"
    assert ago(now - timedelta(hours=3, minutes=5), now=now) == "3h ago"
    assert ago(now + timedelta(days=2), now=now) == "in 2d"
    assert human_bytes(512) == "512 B"
    assert human_bytes(3 * 1024 * 1024) == "3.0 MiB"
