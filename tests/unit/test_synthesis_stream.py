"""Streaming from the LLM providers: pieces reach the sink as written; the result is checked."""

from __future__ import annotations

from bot.configs import synthesizer_from_settings
from bot.settings import load_settings
from knowledge.passages import Passage
from knowledge.synthesis import StreamingSynthesizer
from knowledge.synthesis.extractive import ExtractiveSynthesizer
from tests.helpers.llm_server import StandInLLM


def _passages() -> list[Passage]:
    from tests.unit.test_synthesis import PASSAGES

    return list(PASSAGES)


def _settings(tmp_path, base):
    return load_settings(_env_file=None, lorebot_data_dir=tmp_path, llm_provider="openai_compatible",
                         llm_api_base=base, llm_model="stand-in", llm_timeout_s=10)


def test_pieces_arrive_in_order_and_the_result_is_the_checked_text(tmp_path):
    reply = "Production deploys run on weekdays at 14:00 UTC [1]. Never on Fridays [7]."
    with StandInLLM([reply]) as srv:
        synth = synthesizer_from_settings(_settings(tmp_path, srv.base))
        assert isinstance(synth, StreamingSynthesizer)
        pieces: list[str] = []
        res = synth.synthesize_stream("When do deploys run?", _passages(), pieces.append)
    assert srv.requests[0]["body"]["stream"] is True
    assert len(pieces) > 5 and "".join(pieces) == reply  # streamed as written, several pieces
    # ... but what the caller must end with is checked: the marker of no passage is dropped
    assert res.streamed and res.repaired and res.text.endswith("Never on Fridays.")


def test_a_stream_that_dies_falls_back_to_the_extractive_answer(tmp_path):
    with StandInLLM(["Production deploys run on weekdays at 14:00 UTC [1]."], fail_after=3) as srv:
        synth = synthesizer_from_settings(_settings(tmp_path, srv.base))
        pieces: list[str] = []
        res = synth.synthesize_stream("When do production deploys run?", _passages(), pieces.append)
    # what was streamed is incomplete; the result says so and carries a complete, cited answer
    assert not res.streamed and res.fallback
    assert "[1]" in res.text


def test_the_extractive_answer_is_not_a_stream():
    assert not isinstance(ExtractiveSynthesizer(max_sentences=3), StreamingSynthesizer)
