"""FUSION_METHOD and its weights reach the search parameters (no database needed)."""

from __future__ import annotations

import pytest

from bot.settings import ConfigError, load_settings
from knowledge.retriever import fusion_from_settings


def test_each_fusion_takes_its_own_weights(tmp_path):
    base = {"_env_file": None, "lorebot_data_dir": tmp_path, "rrf_vector_weight": 2.0,
            "rrf_keyword_weight": 0.5, "fusion_vector_weight": 1.0, "fusion_keyword_weight": 0.8}
    assert fusion_from_settings(load_settings(**base, fusion_method="rrf")) == {
        "fusion": "rrf", "vector_weight": 2.0, "keyword_weight": 0.5}
    assert load_settings(_env_file=None, lorebot_data_dir=tmp_path).fusion_method == "zscore"
    for method in ("minmax", "zscore"):
        assert fusion_from_settings(load_settings(**base, fusion_method=method)) == {
            "fusion": method, "vector_weight": 1.0, "keyword_weight": 0.8}


def test_unknown_fusion_or_negative_weight_is_a_settings_error(tmp_path):
    with pytest.raises(ConfigError, match="fusion_method"):
        load_settings(_env_file=None, lorebot_data_dir=tmp_path, fusion_method="borda")
    with pytest.raises(ConfigError, match="fusion_keyword_weight"):
        load_settings(_env_file=None, lorebot_data_dir=tmp_path, fusion_keyword_weight=-1)
