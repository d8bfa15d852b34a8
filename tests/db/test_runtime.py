"""Starting the core refuses vectors made by another embedding model, naming the fix."""

from __future__ import annotations

import pytest

from bot.core import LoreBot
from knowledge.store.meta import EmbeddingModelMismatch, record_model

pytestmark = pytest.mark.db


def test_core_starts_on_a_fresh_store_and_on_matching_vectors(settings, database) -> None:
    LoreBot.from_settings(settings).close()
    with database.session() as s:
        record_model(session=s, name=settings.embedding_model, dimension=384)
    LoreBot.from_settings(settings).close()


def test_core_refuses_vectors_from_another_model(settings, database) -> None:
    with database.session() as s:
        record_model(session=s, name="some-other-model", dimension=384)
    with pytest.raises(EmbeddingModelMismatch, match="re-embed"):
        LoreBot.from_settings(settings)
