"""Chunking: heading paths, code blocks kept whole, the token bound, overlap, citation metadata.

Most tests count tokens as whitespace words (pure, no model); one checks the bound with the
real MiniLM tokenizer, which is what the pipeline passes.
"""

from __future__ import annotations

import pytest

from knowledge.chunking import chunk_document, to_markdown
from knowledge.types import Document


def words(text: str) -> int:
    return len(text.split())


def md(text: str, **kw) -> Document:
    return Document(external_id="guide.md", text=text, title="Guide", uri="https://docs/guide",
                    mime="text/markdown", **kw)


SENT = "The deploy tool reads the manifest and checks every service before rollout. "


def test_heading_paths_follow_the_markdown_structure():
    doc = md("# Setup\n\nInstall it.\n\n## Slack\n\nCreate an app.\n\n### Tokens\n\nCopy the token.\n\n"
             "## Discord\n\nInvite the bot.\n\n# FAQ\n\nAsk away.\n")
    chunks = chunk_document(doc, tokenizer_count=words, chunk_size=50, overlap=5)
    assert [c.heading_path for c in chunks] == [
        "Setup", "Setup > Slack", "Setup > Slack > Tokens", "Setup > Discord", "FAQ"]
    assert [c.ordinal for c in chunks] == list(range(5))
    assert all(c.metadata == {"title": "Guide", "uri": "https://docs/guide", "external_id": "guide.md"}
               for c in chunks)
    assert chunks[2].text.startswith("### Tokens")


def test_long_section_is_split_within_the_bound_with_overlap():
    doc = md("# Ops\n\n" + SENT * 40)
    chunks = chunk_document(doc, tokenizer_count=words, chunk_size=60, overlap=15)
    assert len(chunks) > 3
    assert all(words(c.text) <= 60 for c in chunks)
    assert all(c.heading_path == "Ops" for c in chunks)
    # consecutive pieces share text (the overlap), so no sentence is cut off from its context
    for a, b in zip(chunks[1:], chunks[2:], strict=False):
        assert " ".join(b.text.split()[:5]) in " ".join(a.text.split())


def test_code_block_that_fits_stays_whole_even_with_blank_lines():
    code = "```bash\npip install lorebot\n\nlorebot db upgrade\n\nlorebot ingest --all\n```"
    doc = md("# Install\n\n" + SENT * 8 + "\n\n" + code + "\n\n" + SENT * 8)
    chunks = chunk_document(doc, tokenizer_count=words, chunk_size=70, overlap=10)
    holding = [c for c in chunks if "pip install lorebot" in c.text]
    assert len(holding) == 1
    assert code in holding[0].text
    assert all(words(c.text) <= 70 for c in chunks)


def test_oversized_code_block_is_split_on_lines_within_the_bound():
    code = "```python\n" + "\n".join(f"value_{i} = compute({i})" for i in range(120)) + "\n```"
    chunks = chunk_document(md("# Big\n\n" + code), tokenizer_count=words, chunk_size=50, overlap=5)
    assert len(chunks) > 2 and all(words(c.text) <= 50 for c in chunks)
    assert "value_0 = compute(0)" in chunks[0].text and "value_119" in chunks[-1].text


def test_hash_inside_a_code_block_is_not_a_heading():
    doc = md("# Config\n\n```bash\n# not a heading\nexport A=1\n```\n")
    chunks = chunk_document(doc, tokenizer_count=words, chunk_size=50, overlap=5)
    assert len(chunks) == 1 and chunks[0].heading_path == "Config"


def test_html_and_rst_headings_become_heading_paths():
    html = Document(external_id="p.html", mime="text/html", text=(
        "<html><body><h1>Guide</h1><p>Intro text.</p><h2>Install</h2><p>Run it.</p>"
        "<pre>make demo\n\nmake test</pre></body></html>"))
    chunks = chunk_document(html, tokenizer_count=words, chunk_size=50, overlap=5)
    assert [c.heading_path for c in chunks] == ["Guide", "Guide > Install"]
    assert "make demo\n\nmake test" in chunks[1].text
    rst = Document(external_id="r.rst", mime="text/x-rst",
                   text="Guide\n=====\n\nIntro.\n\nInstall\n-------\n\nRun it.\n")
    assert [c.heading_path for c in chunk_document(rst, tokenizer_count=words, chunk_size=50,
                                                   overlap=5)] == ["Guide", "Guide > Install"]
    assert to_markdown("a < b and c > d", "text/html") == "a < b and c > d"  # not markup


def test_plain_text_and_empty_documents():
    plain = Document(external_id="n.txt", text="# not markdown here\n" + SENT * 3, mime="text/plain")
    chunks = chunk_document(plain, tokenizer_count=words, chunk_size=100, overlap=10)
    assert len(chunks) == 1 and chunks[0].heading_path == ""
    assert chunk_document(md("   \n\n  "), tokenizer_count=words, chunk_size=50, overlap=5) == []
    with pytest.raises(ValueError, match="overlap"):
        chunk_document(plain, tokenizer_count=words, chunk_size=10, overlap=10)


def test_token_bound_holds_with_the_embedding_tokenizer(unit_settings):
    from knowledge.embeddings import embedder_from_settings

    embedder = embedder_from_settings(unit_settings)
    text = "# Notes\n\n" + ("Pneumonoultramicroscopic silicovolcanoconiosis affects miners. " * 60)
    chunks = chunk_document(md(text), tokenizer_count=embedder.count_tokens,
                            chunk_size=unit_settings.chunk_size_tokens,
                            overlap=unit_settings.chunk_overlap_tokens)
    assert len(chunks) > 1
    assert all(c.token_count == embedder.count_tokens(c.text) for c in chunks)
    assert all(c.token_count <= unit_settings.chunk_size_tokens for c in chunks)
    # within the model's window, so nothing is silently truncated at embedding time
    assert max(c.token_count for c in chunks) <= embedder.max_tokens


def test_fast_counter_matches_the_embedder(unit_settings):
    from knowledge.chunking import counter_for
    from knowledge.embeddings import embedder_from_settings

    embedder = embedder_from_settings(unit_settings)
    fast = counter_for(embedder)
    for sample in ("", "hello", "Pneumonoultramicroscopic words, punctuation! 123", SENT * 80):
        assert fast(sample) == embedder.count_tokens(sample)


def test_docx_text_from_the_reader_keeps_its_heading_paths():
    docx = Document(external_id="p.docx", text="# Policy\n\nIntro.\n\n## Leave\n\nTwenty days a year.",
                    mime="application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    chunks = chunk_document(docx, tokenizer_count=words, chunk_size=50, overlap=5)
    assert [c.heading_path for c in chunks] == ["Policy", "Policy > Leave"]
