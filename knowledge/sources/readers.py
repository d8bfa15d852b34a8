"""One reader per file format, picked by file extension (or by HTTP content type for the web).

A reader takes the raw bytes and the file name and returns a :class:`Read` (text, title, mime,
metadata) or raises :class:`~knowledge.sources.decoding.ReadError` with a readable reason.
Headings come out as Markdown ``#`` lines whatever the format, so the chunker sees one shape.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from knowledge.sources.decoding import ReadError, decode_text
from knowledge.sources.html_text import html_to_text


@dataclass
class Read:
    text: str
    title: str
    mime: str
    metadata: dict[str, Any] = field(default_factory=dict)


Reader = Callable[[bytes, str], Read]


def _stem(name: str) -> str:
    return PurePosixPath(name).name


def _decoded(data: bytes) -> tuple[str, dict[str, Any]]:
    text, encoding = decode_text(data)
    meta: dict[str, Any] = {}
    if encoding != "utf-8":
        meta["encoding"] = encoding  # recorded so an admin can see the file was not UTF-8
    return text, meta


_FENCE = re.compile(r"^\s*(```|~~~)")
_ATX = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_FRONT_MATTER = re.compile(r"\A---\n(.*?)\n(?:---|\.\.\.)\n", re.DOTALL)


def _setext_to_atx(lines: list[str]) -> list[str]:
    out: list[str] = []
    in_fence = False
    for line in lines:
        if _FENCE.match(line):
            in_fence = not in_fence
        prev = out[-1] if out else ""
        underline = re.fullmatch(r"\s{0,3}(=+|-+)\s*", line)
        if (not in_fence and underline and prev.strip() and not prev.lstrip().startswith(("#", "-", "*", ">"))
                and not _FENCE.match(prev)):
            out[-1] = ("# " if line.strip()[0] == "=" else "## ") + prev.strip()
            continue
        out.append(line)
    return out


def read_markdown(data: bytes, name: str) -> Read:
    text, meta = _decoded(data)
    text = text.replace("\r\n", "\n")
    title = ""
    front = _FRONT_MATTER.match(text)
    if front:
        found = re.search(r"^title:\s*[\"']?(.+?)[\"']?\s*$", front.group(1), re.MULTILINE)
        title = found.group(1) if found else ""
        text = text[front.end():]
    lines = _setext_to_atx(text.split("\n"))
    if not title:
        headings = [m for m in map(_ATX.match, lines) if m]
        first = next((m for m in headings if len(m.group(1)) == 1), headings[0] if headings else None)
        title = first.group(2) if first else _stem(name)
    return Read("\n".join(lines), title, "text/markdown", meta)


_RST_UNDERLINE = re.compile(r"^([=\-`:'\"~^_*+#<>.])\1{2,}\s*$")


def rst_headings_to_markdown(text: str) -> tuple[str, str]:
    """reStructuredText section titles as ``#`` lines; levels follow the order the styles
    first appear, as docutils does. Returns ``(text, first title)``."""
    lines = text.replace("\r\n", "\n").split("\n")
    styles: list[tuple[str, bool]] = []
    out: list[str] = []
    title = ""
    i = 0
    while i < len(lines):
        line = lines[i]
        over = _RST_UNDERLINE.match(line)
        if (over and i + 2 < len(lines) and lines[i + 1].strip()
                and _RST_UNDERLINE.match(lines[i + 2]) and lines[i + 2].strip()[0] == line.strip()[0]):
            style, heading, step = (line.strip()[0], True), lines[i + 1].strip(), 3
        elif (line.strip() and not over and i + 1 < len(lines) and _RST_UNDERLINE.match(lines[i + 1])
              and len(lines[i + 1].strip()) >= len(line.strip())):
            style, heading, step = (lines[i + 1].strip()[0], False), line.strip(), 2
        else:
            out.append(line)
            i += 1
            continue
        if style not in styles:
            styles.append(style)
        out.append("#" * min(styles.index(style) + 1, 6) + " " + heading)
        title = title or heading
        i += step
    return "\n".join(out), title


def read_rst(data: bytes, name: str) -> Read:
    text, meta = _decoded(data)
    text, title = rst_headings_to_markdown(text)
    return Read(text, title or _stem(name), "text/x-rst", meta)


def read_text(data: bytes, name: str) -> Read:
    text, meta = _decoded(data)
    return Read(text, _stem(name), "text/plain", meta)


def read_html(data: bytes, name: str) -> Read:
    html, meta = _decoded(data)
    text, title = html_to_text(html)
    return Read(text, title or _stem(name), "text/html", meta)


def read_pdf(data: bytes, name: str) -> Read:
    from pypdf import PdfReader

    try:
        pdf = PdfReader(io.BytesIO(data))
        if pdf.is_encrypted and not pdf.decrypt(""):
            raise ReadError("encrypted PDF (needs a password); export an unprotected copy to index it")
        pages = [page.extract_text() or "" for page in pdf.pages]
        info_title = (pdf.metadata.title if pdf.metadata else None) or ""
    except ReadError:
        raise
    except Exception as exc:  # pypdf raises many types for damaged files
        reason = f"could not read the PDF (damaged or not a PDF): {type(exc).__name__}: {exc}"
        raise ReadError(reason) from exc
    text = "\n\n".join(p.strip() for p in pages if p.strip())
    if not text:
        raise ReadError("PDF has no text layer (scanned images?); run OCR first to index it")
    return Read(text, str(info_title).strip() or _stem(name), "application/pdf", {"pages": len(pages)})


DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def read_docx(data: bytes, name: str) -> Read:
    try:
        import docx
        from docx.table import Table
        from docx.text.paragraph import Paragraph

        document = docx.Document(io.BytesIO(data))
        blocks: list[str] = []
        first_heading = ""
        for element in document.element.body.iterchildren():
            tag = element.tag.rsplit("}", 1)[-1]
            if tag == "p":
                para = Paragraph(element, document)
                text = para.text.strip()
                style = para.style.name if para.style is not None else ""
                level = _docx_heading_level(style)
                if text and level:
                    blocks.append("#" * level + " " + text)
                    first_heading = first_heading or text
                elif text:
                    blocks.append(text)
            elif tag == "tbl":
                table = Table(element, document)
                blocks.extend(" | ".join(cell.text.strip() for cell in row.cells) for row in table.rows)
        core_title = (document.core_properties.title or "").strip()
    except Exception as exc:  # python-docx/zipfile/lxml errors for damaged files
        reason = f"could not read the DOCX (damaged or not a DOCX): {type(exc).__name__}: {exc}"
        raise ReadError(reason) from exc
    return Read("\n\n".join(blocks), core_title or first_heading or _stem(name), DOCX_MIME, {})


def _docx_heading_level(style: str) -> int:
    if style == "Title":
        return 1
    found = re.fullmatch(r"Heading (\d)", style)
    return min(int(found.group(1)), 6) if found else 0


CODE_LANGUAGES = {
    ".py": "python", ".pyi": "python", ".js": "javascript", ".mjs": "javascript", ".cjs": "javascript",
    ".jsx": "javascript", ".ts": "typescript", ".tsx": "typescript", ".go": "go", ".rs": "rust",
    ".java": "java", ".kt": "kotlin", ".kts": "kotlin", ".scala": "scala", ".rb": "ruby", ".php": "php",
    ".cs": "csharp", ".c": "c", ".h": "c", ".cc": "cpp", ".cpp": "cpp", ".cxx": "cpp", ".hpp": "cpp",
    ".swift": "swift", ".sh": "shell", ".bash": "shell", ".zsh": "shell", ".ps1": "powershell",
    ".sql": "sql", ".lua": "lua", ".pl": "perl", ".ex": "elixir", ".exs": "elixir", ".erl": "erlang",
    ".hs": "haskell", ".clj": "clojure", ".dart": "dart", ".vue": "vue", ".svelte": "svelte",
    ".yaml": "yaml", ".yml": "yaml", ".toml": "toml", ".ini": "ini", ".cfg": "ini", ".proto": "protobuf",
    ".graphql": "graphql", ".tf": "hcl", ".r": "r",
}
CODE_NAMES = {"Dockerfile": "dockerfile", "Makefile": "make", "Justfile": "just"}
TEXT_NAMES = {"README", "LICENSE", "CHANGELOG", "NOTICE", "AUTHORS", "CONTRIBUTING", "COPYING"}


def read_code(data: bytes, name: str) -> Read:
    text, meta = _decoded(data)
    path = PurePosixPath(name)
    language = CODE_NAMES.get(path.name) or CODE_LANGUAGES.get(path.suffix.lower(), "text")
    return Read(text, path.name, "text/x-code", {**meta, "language": language})


READERS: dict[str, Reader] = {
    ".md": read_markdown, ".markdown": read_markdown, ".mdx": read_markdown,
    ".txt": read_text, ".text": read_text,
    ".rst": read_rst, ".rest": read_rst,
    ".html": read_html, ".htm": read_html, ".xhtml": read_html,
    ".pdf": read_pdf,
    ".docx": read_docx,
    **dict.fromkeys(CODE_LANGUAGES, read_code),
}
MIME_READERS: dict[str, Reader] = {
    "text/html": read_html, "application/xhtml+xml": read_html, "text/markdown": read_markdown,
    "text/x-markdown": read_markdown, "text/plain": read_text, "text/x-rst": read_rst,
    "application/pdf": read_pdf,
    DOCX_MIME: read_docx,
}


def reader_for(name: str) -> Reader | None:
    """The reader for a file name, or None for formats lorebot does not index (images, ...)."""
    path = PurePosixPath(name)
    if path.name in CODE_NAMES:
        return read_code
    if path.name.upper() in TEXT_NAMES and not path.suffix:
        return read_text
    return READERS.get(path.suffix.lower())


def reader_for_mime(content_type: str, url_path: str = "") -> Reader | None:
    """The reader for an HTTP ``Content-Type`` (falling back to the URL's extension)."""
    mime = content_type.split(";", 1)[0].strip().lower()
    reader = MIME_READERS.get(mime)
    if reader is None and mime in {"", "application/octet-stream", "binary/octet-stream"}:
        reader = reader_for(url_path)
    return reader
