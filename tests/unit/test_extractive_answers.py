"""The sentence-first extractive answer on awkward input (no database; a tiny deterministic
bag-of-words embedding stands in for MiniLM so the similarity signal is exercised)."""

from __future__ import annotations

import hashlib
import re

import numpy as np

from knowledge.passages import build_passages
from knowledge.store.search import SearchHit
from knowledge.synthesis import MARKER, cited_markers
from knowledge.synthesis.extractive import ExtractiveSynthesizer
from knowledge.synthesis.segments import clip_words, units


def hit(cid: int, text: str, *, doc: int | None = None, sim: float = 0.6) -> SearchHit:
    return SearchHit(chunk_id=cid, document_id=doc or cid, ordinal=0, text=text, heading_path="H",
                     title=f"Doc {cid}", uri=f"docs/{cid}.md", collection="c", source="s",
                     similarity=sim, keyword_rank=None, vector_position=None,
                     keyword_position=None, score=1.0 / cid, last_success_at=None)


def bow_embed(texts):
    """Hashed bag of lower-cased words, unit length: similar wording, similar vector."""
    out = np.zeros((len(texts), 256), dtype=np.float32)
    for i, t in enumerate(texts):
        for w in re.findall(r"\w+", t.lower()):
            out[i, int(hashlib.md5(w.encode()).hexdigest(), 16) % 256] += 1.0
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return out / np.clip(norms, 1e-9, None)


def synth(**kw) -> ExtractiveSynthesizer:
    return ExtractiveSynthesizer(embed=bow_embed, **kw)


def assert_grounded(text: str, passages) -> None:
    """Every quoted piece is verbatim from the passage its marker names, and carries one."""
    assert text and MARKER.search(text)
    pos = 0
    for m in MARKER.finditer(text):
        piece = text[pos:m.start()].strip().replace(" …", "").replace("\n…", "")
        n = int(m.group(1))
        assert 1 <= n <= len(passages)
        for part in (p.strip() for p in piece.split("\n") if p.strip() and p.strip() != "```"):
            assert part in passages[n - 1].text or part in " ".join(passages[n - 1].text.split())
        pos = m.end()
    assert not text[pos:].strip()  # nothing after the last marker goes uncited


def test_best_sentence_leads_even_when_it_comes_late():
    ps = build_passages([hit(1, "Lorebot is a chat bot. It runs on Postgres. Deploys happen at "
                                "14:00 UTC on weekdays.")])
    res = synth(max_sentences=1).synthesize("When do deploys happen?", ps)
    assert res.text == "Deploys happen at 14:00 UTC on weekdays. [1]"
    assert res.confidence is not None and res.confidence > 0


def test_a_sentence_that_cannot_stand_alone_brings_its_antecedent():
    ps = build_passages([hit(1, "Rollbacks use the make rollback target. It takes three minutes "
                                "to restore the previous release.")])
    res = synth(max_sentences=1).synthesize("How many minutes to restore the previous release?",
                                            ps)
    assert res.text == ("Rollbacks use the make rollback target. It takes three minutes to "
                        "restore the previous release. [1]")


def test_a_list_of_steps_is_quoted_whole():
    steps = "To set up the bot:\n\n1. create the app\n2. copy the token\n3. run lorebot serve"
    ps = build_passages([hit(1, steps), hit(2, "The weather is nice today.", sim=0.2)])
    res = synth().synthesize("list all the steps to set up the bot app token serve", ps)
    assert "1. create the app\n2. copy the token\n3. run lorebot serve" in res.text
    assert_grounded(res.text, ps)


def test_table_and_code_without_sentence_boundaries():
    table = "| setting | default |\n| --- | --- |\n" + "\n".join(
        f"| OPTION_{i} | value {i} |" for i in range(60))
    code = "```bash\nmake rollback ENV=prod\nmake verify\n```"
    ps = build_passages([hit(1, table), hit(2, code, sim=0.5)])
    res = synth(max_words=40).synthesize("what is the default of OPTION_3 setting", ps)
    assert "| OPTION_3 | value 3 |" in res.text and "…" in res.text  # clipped whole rows
    assert_grounded(res.text, ps)
    code_res = synth().synthesize("which make command rolls back prod", ps)
    assert "make rollback ENV=prod" in code_res.text and code_res.text.count("```") % 2 == 0


def test_a_300_word_sentence_is_cut_verbatim_and_cited():
    long = "The retention policy " + " ".join(f"clause{i}" for i in range(300)) + " applies."
    ps = build_passages([hit(1, long)])
    res = synth(max_words=50).synthesize("what does the retention policy say", ps)
    assert res.text.endswith("… [1]") and len(res.text.split()) <= 53
    assert_grounded(res.text, ps)
    assert clip_words("a b c", 5) == "a b c"


def test_other_scripts_do_not_crash():
    ps = build_passages([hit(1, "Развёртывание выполняется по будням. Откат занимает три минуты."),
                         hit(2, "デプロイは平日に行います。ロールバックは三分かかります。")])
    for question in ("Когда выполняется развёртывание?", "デプロイはいつ？", "When do we deploy?"):
        res = synth().synthesize(question, ps)
        assert res.text == "" or cited_markers(res.text)
        if res.text:
            assert_grounded(res.text, ps)


def test_question_whose_words_are_in_no_passage_abstains_at_a_support_threshold():
    ps = build_passages([hit(1, "Deploys happen at 14:00 UTC on weekdays.")])
    res = synth(min_support=0.5).synthesize("xylophone quokka zeppelin?", ps)
    assert res.text == "" and res.abstain_reason and res.confidence is not None
    answered = synth(min_support=0.5).synthesize("When do deploys happen on weekdays?", ps)
    assert answered.text and answered.abstain_reason is None


def test_contradicting_passages_answer_from_the_best_and_cite_both():
    ps = build_passages([hit(1, "Production deploys run at 14:00 UTC."),
                         hit(2, "Production deploys run at 16:00 UTC.", sim=0.55)])
    res = synth(extra_margin=0.3).synthesize("When do production deploys run?", ps)
    assert res.text.startswith("Production deploys run at 14:00 UTC. [1]")
    assert cited_markers(res.text) == [1, 2]


def test_no_quotable_text_is_an_honest_empty_result():
    ps = build_passages([hit(1, "## Heading only")])
    res = synth().synthesize("anything?", ps)
    assert res.text == "" and res.abstain_reason


def test_units_keep_blocks_whole_and_drop_cut_sentences():
    text = "cut half sentence. Intro line.\n- one\n- two\n```\ncode here\n```\nTrailing half"
    got = [(u.kind, u.text) for u in units(text, 0)]
    assert got == [("sentence", "Intro line."), ("block", "- one\n- two"),
                   ("block", "```\ncode here\n```")]


def test_a_close_sentence_holding_the_asked_for_kind_is_added():
    """"how long ...?" led by a sentence with no duration: the next one, which has it, follows."""
    ps = build_passages([hit(1, "To roll back a bad deploy, run make rollback ENV=prod. Rollbacks "
                                "take about three minutes and page the on-call engineer.")])
    question = "How long does it take to roll back a bad deploy?"
    lead_only = synth(extra_margin=0.0, type_margin=-1e9).synthesize(question, ps).text
    assert lead_only == "To roll back a bad deploy, run make rollback ENV=prod. [1]"
    res = synth(extra_margin=0.0, type_margin=5.0).synthesize(question, ps)
    assert res.text.startswith(lead_only) and "three minutes" in res.text


def test_a_sentence_after_a_quoted_block_starts_its_own_line():
    steps = "To set up the bot:\n\n1. create the app\n2. copy the token\n3. run lorebot serve"
    ps = build_passages([hit(1, steps), hit(2, "The token for the bot app is on the setup page.")])
    res = synth(extra_margin=5.0).synthesize("how do I set up the bot app token", ps)
    assert "1. create the app" in res.text and "[2]" in res.text  # both quoted
    assert "\n " not in res.text  # no stray space opening the line after the block
    assert_grounded(res.text, ps)
