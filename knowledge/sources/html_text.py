"""HTML reduced to its main text, with headings as Markdown ``#`` lines for the chunker.

``html_to_text(html) -> (text, title)``: scripts, styles, forms, navigation, headers, footers,
asides and cookie/consent banners (found by tag, ARIA role, or id/class words) are dropped;
``<main>``/``<article>``/``role=main`` is preferred over the whole ``<body>``. The title is the
``<title>`` (else the first ``<h1>``). Shared by the file reader and the web source.
"""

from __future__ import annotations

import re

from bs4 import BeautifulSoup, Comment, Declaration, Doctype, NavigableString, ProcessingInstruction, Tag

_DROP_TAGS = [
    "script", "style", "noscript", "template", "nav", "header", "footer", "aside", "form",
    "iframe", "svg", "canvas", "button", "select", "input", "textarea", "dialog",
]
_DROP_ROLES = {"navigation", "banner", "contentinfo", "complementary", "search", "dialog", "alertdialog"}
_CHROME_WORD = re.compile(
    r"(?:^|[-_\s])(?:cookies?|consent|gdpr|cc-banner|onetrust|breadcrumbs?|skip-?link|sidebar|navbar|"
    r"site-?nav|nav|menu|toc|share|social|advert|ads|popup|modal|newsletter|footer|header)(?:$|[-_\s])",
    re.IGNORECASE,
)
_BLOCKS = {
    "p", "div", "section", "article", "main", "ul", "ol", "dl", "dt", "dd", "table", "tr",
    "blockquote", "figure", "figcaption", "details", "summary", "hr", "address", "body",
}
_HEADING = re.compile(r"^h([1-6])$")
_SPACE = re.compile(r"[ \t\r\n\f\v]+")
_SKIP_STRINGS = (Comment, Declaration, Doctype, ProcessingInstruction)


def _is_chrome(tag: Tag) -> bool:
    if tag.get("role") in _DROP_ROLES or tag.get("aria-hidden") == "true":
        return True
    words = " ".join([str(tag.get("id") or ""), *(tag.get("class") or [])])
    if not words.strip() or not _CHROME_WORD.search(words):
        return False
    # A wrapper named "has-sidebar" around the article is not chrome; never drop real content.
    return tag.find(["main", "article", "h1"]) is None


def _strip_chrome(root: Tag) -> None:
    for tag in root.find_all(_DROP_TAGS):
        if tag.find(["main", "article"]) is None:
            tag.decompose()
    for tag in list(root.find_all(True)):
        if not tag.decomposed and _is_chrome(tag):
            tag.decompose()


def _render(node: Tag, out: list[str], in_pre: bool = False) -> None:
    for child in node.children:
        if isinstance(child, _SKIP_STRINGS):
            continue
        if isinstance(child, NavigableString):
            out.append(str(child) if in_pre else _SPACE.sub(" ", str(child)))
            continue
        if not isinstance(child, Tag):
            continue
        name = child.name
        heading = _HEADING.match(name)
        if heading:
            out.append(f"\n\n{'#' * int(heading.group(1))} {child.get_text(' ', strip=True)}\n\n")
        elif name == "br":
            out.append("\n")
        elif name == "pre":
            out.append("\n\n```\n" + child.get_text().strip("\n") + "\n```\n\n")
        elif name == "li":
            out.append("\n- ")
            _render(child, out, in_pre)
        elif name in {"td", "th"}:
            _render(child, out, in_pre)
            out.append(" | ")
        elif name in _BLOCKS:
            out.append("\n\n")
            _render(child, out, in_pre)
            out.append("\n\n")
        else:
            _render(child, out, in_pre)


def _tidy(text: str) -> str:
    lines = []
    in_pre = False
    for line in text.split("\n"):
        if line.strip() == "```":
            in_pre = not in_pre
            line = "```"
        lines.append(line.rstrip() if in_pre else line.strip())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def html_to_text(html: str) -> tuple[str, str]:
    """``(main text, title)`` of an HTML page; see the module docstring."""
    soup = BeautifulSoup(html, "html.parser")
    title_tag = soup.find("title")
    title = title_tag.get_text(" ", strip=True) if title_tag else ""
    _strip_chrome(soup)
    if not title:
        h1 = soup.find("h1")
        title = h1.get_text(" ", strip=True) if h1 else ""
    root = soup.find("main") or soup.find(attrs={"role": "main"}) or soup.find("article")
    root = root or soup.find("body") or soup
    out: list[str] = []
    try:
        _render(root, out)
        text = "".join(out)
    except RecursionError:  # absurdly nested markup: keep the words, lose the structure
        text = root.get_text("\n")
    return _tidy(text), title
