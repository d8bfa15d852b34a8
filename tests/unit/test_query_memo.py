"""The service's question-vector memo: the retriever's vector is reused by the synthesiser."""

from __future__ import annotations

import numpy as np

from bot.answering.query_memo import QueryVectorMemo


class CountingEmbedder:
    model_id = "fake"

    def __init__(self) -> None:
        self.seen: list[str] = []

    def embed(self, texts, **_):
        self.seen += list(texts)
        return np.array([[float(len(t)), 1.0] for t in texts], dtype=np.float32)

    def embed_query(self, text):
        return self.embed([text])[0]


def test_question_embedded_once_for_retrieval_and_sentences():
    inner = CountingEmbedder()
    memo = QueryVectorMemo(inner, size=2)
    q = memo.embed_query("when do deploys run?")
    out = memo.embed(["when do deploys run?", "Deploys run at 14:00.", "when do deploys run?"])
    assert inner.seen == ["when do deploys run?", "Deploys run at 14:00."]
    assert np.array_equal(out[0], q) and np.array_equal(out[2], q)
    assert out[1][0] == len("Deploys run at 14:00.") and memo.model_id == "fake"
    memo.embed_query("a")
    memo.embed_query("b")  # size 2: the first question is forgotten
    memo.embed(["when do deploys run?"])
    assert inner.seen[-1] == "when do deploys run?"
