"""The optional re-ranker is off when unset or not loadable offline, and says so once."""

from __future__ import annotations

import logging

from bot.settings import load_settings
from knowledge import rerank


def test_reranker_off_when_unset(tmp_path):
    assert rerank.reranker_from_settings(load_settings(_env_file=None, lorebot_data_dir=tmp_path)) is None


def test_unloadable_reranker_is_skipped_and_logged_once(tmp_path, caplog):
    s = load_settings(_env_file=None, lorebot_data_dir=tmp_path,
                      reranker_model=str(tmp_path / "no-such-cross-encoder"))
    with caplog.at_level(logging.WARNING, logger="knowledge.rerank"):
        assert rerank.reranker_from_settings(s) is None
        assert rerank.reranker_from_settings(s) is None
    warnings = [r for r in caplog.records if "could not be loaded" in r.getMessage()]
    assert len(warnings) == 1
