"""Document -> Chunks: structure first, then a token bound measured by the embedding tokenizer.

Markdown (and HTML or reStructuredText, first rewritten to Markdown headings) is cut at its
headings by LlamaIndex's ``MarkdownNodeParser``, so each chunk knows its heading path
("Setup > Slack > Tokens"). A section that fits the budget is one chunk. A longer one is cut by
``SentenceSplitter`` (prose, with overlap) while fenced code blocks stay whole where they fit,
then adjacent small pieces are packed back together. Tokens are counted by the embedding
model's own tokenizer, so a chunk never silently loses its tail to truncation.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from knowledge.types import Chunk, Document

HEADING_SEPARATOR = " > "
CHUNKER_VERSION = "1"  # part of each document's content hash: a new chunker re-chunks everything

_FENCE = re.compile(r"^(```|~~~)")
_HEADING_ONLY = re.compile(r"^\s*#{1,6} [^\n]*\s*$")
_RST_UNDERLINE = re.compile(r"^([=\-~^\"'`#*+])\1{2,}\s*$")
_HTML_TAG = re.compile(r"<(?:html|body|main|article|h[1-6]|p|div|pre|ul|ol|li|br)\b", re.I)
# Readers turn DOCX, HTML and reStructuredText headings into "#" lines, so all get sections.
_STRUCTURED = {
    "text/markdown", "text/html", "text/x-rst",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}

TokenCounter = Callable[[str], int]


def chunk_document(
    doc: Document, *, tokenizer_count: TokenCounter, chunk_size: int, overlap: int
) -> list[Chunk]:
    """Cut ``doc`` into chunks of at most ``chunk_size`` tokens (``overlap`` tokens shared).

    ``tokenizer_count`` is the embedding model's token counter (``Embedder.count_tokens``).
    """
    if overlap >= chunk_size:
        raise ValueError("chunk overlap must be smaller than the chunk size")
    text = doc.text.strip()
    if not text:
        return []
    tokenizer_count = _memo(tokenizer_count)
    if doc.mime in _STRUCTURED:
        markdown = to_markdown(text, doc.mime)
        sections = _markdown_sections(markdown)
    elif doc.mime == "text/x-code":
        sections = [("", f"```\n{text}\n```", True)]
    else:
        sections = [("", text, False)]
    base_meta = {"title": doc.title, "uri": doc.uri, "external_id": doc.external_id}
    chunks: list[Chunk] = []
    for heading_path, body, is_code in sections:
        for piece in _split_section(body, is_code, tokenizer_count, chunk_size, overlap):
            piece = piece.strip()
            if not piece:
                continue
            chunks.append(Chunk(
                text=piece, ordinal=len(chunks), heading_path=heading_path,
                token_count=tokenizer_count(piece), metadata=dict(base_meta),
            ))
    return chunks


def to_markdown(text: str, mime: str) -> str:
    """HTML and reStructuredText headings rewritten as ``#`` headings; Markdown unchanged."""
    if mime == "text/html" and _HTML_TAG.search(text):
        return _html_to_markdown(text)
    if mime == "text/x-rst":
        return _rst_to_markdown(text)
    return text


def _html_to_markdown(html: str) -> str:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "noscript"]):
        tag.decompose()
    for level in range(1, 7):
        for h in soup.find_all(f"h{level}"):
            h.replace_with(f"\n\n{'#' * level} {h.get_text(' ', strip=True)}\n\n")
    for pre in soup.find_all("pre"):
        pre.replace_with(f"\n\n```\n{pre.get_text()}\n```\n\n")
    for block in soup.find_all(["p", "li", "div", "tr", "br"]):
        block.insert_after("\n\n" if block.name != "br" else "\n")
    out = soup.get_text()
    return re.sub(r"\n{3,}", "\n\n", out).strip()


def _rst_to_markdown(text: str) -> str:
    """Title lines underlined (``====``, ``----``...) become headings, levels in order seen."""
    lines = text.split("\n")
    levels: dict[str, int] = {}
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if line.strip() and _RST_UNDERLINE.match(nxt) and len(nxt.strip()) >= len(line.strip()) - 1:
            level = levels.setdefault(nxt.strip()[0], len(levels) + 1)
            out.append(f"{'#' * min(level, 6)} {line.strip()}")
            i += 2
            continue
        out.append(line)
        i += 1
    return "\n".join(out)


def _markdown_sections(markdown: str) -> list[tuple[str, str, bool]]:
    """(heading path, section text, False) per heading section, via MarkdownNodeParser."""
    from llama_index.core.node_parser import MarkdownNodeParser
    from llama_index.core.schema import Document as LlamaDocument

    parser = MarkdownNodeParser(header_path_separator="\x1f", include_prev_next_rel=False)
    nodes = parser.get_nodes_from_node(LlamaDocument(text=markdown))
    sections: list[tuple[str, str, bool]] = []
    for node in nodes:
        body = node.get_content()
        parents = [p for p in node.metadata.get("header_path", "").split("\x1f") if p]
        first = body.split("\n", 1)[0]
        own = re.match(r"^#+\s+(.*)", first)
        path = [*parents, own.group(1).strip()] if own else parents
        if own and not body.split("\n", 1)[1:]:
            continue  # a heading directly followed by a sub-heading: its path carries it
        sections.append((HEADING_SEPARATOR.join(path), body, False))
    if not sections:  # a document of headings only: keep them rather than return nothing
        sections = [("", markdown, False)]
    return sections


def _split_section(
    body: str, is_code: bool, count: TokenCounter, chunk_size: int, overlap: int
) -> list[str]:
    if count(body) <= chunk_size:
        return [body]
    pieces: list[str] = []
    for block, block_is_code in ([(body, True)] if is_code else _blocks(body)):
        if count(block) <= chunk_size:
            pieces.append(block)
        elif block_is_code:
            pieces.extend(_code_splitter(chunk_size, overlap, count).split_text(block))
        else:
            pieces.extend(_prose_splitter(chunk_size, overlap, count).split_text(block))
    packed = _pack(pieces, count, chunk_size)
    # A lone heading line says nothing the chunk's heading path does not already say.
    return [p for p in packed if not _HEADING_ONLY.match(p)] or packed


def _blocks(body: str) -> list[tuple[str, bool]]:
    """Alternating prose and fenced-code blocks, in order."""
    blocks: list[tuple[str, bool]] = []
    current: list[str] = []
    in_code = False
    for line in body.split("\n"):
        if _FENCE.match(line.lstrip()):
            if not in_code:
                if "\n".join(current).strip():
                    blocks.append(("\n".join(current), False))
                current = [line]
                in_code = True
            else:
                current.append(line)
                blocks.append(("\n".join(current), True))
                current = []
                in_code = False
            continue
        current.append(line)
    if "\n".join(current).strip():
        blocks.append(("\n".join(current), in_code))
    return blocks


def _pack(pieces: list[str], count: TokenCounter, chunk_size: int) -> list[str]:
    """Join neighbouring pieces while the result still fits (avoids tiny fragment chunks)."""
    packed: list[str] = []
    for piece in pieces:
        if packed and count(packed[-1] + "\n\n" + piece) <= chunk_size:
            packed[-1] = packed[-1] + "\n\n" + piece
        else:
            packed.append(piece)
    return packed


def counter_for(embedder: object) -> TokenCounter:
    """The embedder's token count without transformers' per-call overhead (same numbers).

    Splitting measures many short spans; going straight to the Rust tokenizer, with its
    truncation and padding off, was about a third faster than ``Embedder.count_tokens``.
    """
    backend = getattr(getattr(embedder, "tokenizer", None), "backend_tokenizer", None)
    if backend is None:
        return embedder.count_tokens  # type: ignore[attr-defined, no-any-return]
    import copy

    raw = copy.deepcopy(backend)  # the embedder's own copy keeps its truncation settings
    raw.no_truncation()
    raw.no_padding()
    return lambda text: len(raw.encode(text, add_special_tokens=False).ids)


def _memo(count: TokenCounter) -> TokenCounter:
    """Counts per text, remembered for one document: splitting asks about the same text often."""
    seen: dict[str, int] = {}

    def counted(text: str) -> int:
        n = seen.get(text)
        if n is None:
            n = seen[text] = count(text)
        return n

    return counted


class _Sized:
    """LlamaIndex's splitters only take ``len()`` of what the tokenizer returns."""

    __slots__ = ("n",)

    def __init__(self, n: int) -> None:
        self.n = n

    def __len__(self) -> int:
        return self.n


def _as_tokenizer(count: TokenCounter) -> Callable[[str], _Sized]:
    return lambda text: _Sized(count(text))


def _prose_splitter(chunk_size: int, overlap: int, count: TokenCounter):  # noqa: ANN202
    from llama_index.core.node_parser import SentenceSplitter

    return SentenceSplitter(chunk_size=chunk_size, chunk_overlap=overlap,
                            tokenizer=_as_tokenizer(count), include_metadata=False)


def _code_splitter(chunk_size: int, overlap: int, count: TokenCounter):  # noqa: ANN202
    from llama_index.core.node_parser import TokenTextSplitter

    return TokenTextSplitter(chunk_size=chunk_size, chunk_overlap=overlap, separator="\n",
                             backup_separators=[" "], tokenizer=_as_tokenizer(count),
                             include_metadata=False)
