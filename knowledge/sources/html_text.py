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
# Matched against each id/class token from its start: "site-footer", "cookie-banner" and "navbar"
# are chrome, "card-header" inside an article is not.
_CHROME_TOKEN = re.compile(
    r"^(?:(?:site|page|global|main|top|bottom|mobile|primary|secondary)[-_]?)?"
    r"(?:cookies?|consent|gdpr|cc|onetrust|breadcrumbs?|skip[-_]?links?|sidebar|navbar|nav|navigation|"
    r"menu|toc|share|sharing|social|advert|ads|popup|modal|newsletter|footer|header)(?:$|[-_])",
    re.IGNORECASE,
)
_KEEP_TAGS = {"html", "body", "main", "article"}
_HEADINGS = ["h1", "h2", "h3", "h4", "h5", "h6"]
_BLOCKS = {
    "p", "div", "section", "article", "main", "ul", "ol", "dl", "dt", "dd", "table", "tr",
    "blockquote", "figure", "figcaption", "details", "summary", "hr", "address", "body",
}
_HEADING = re.compile(r"^h([1-6])$")
_SPACE = re.compile(r"[ \t\r\n\f\v]+")
MAX_DEPTH = 200  # far beyond hand-written pages; keeps the recursive render well inside Python's limit
_SKIP_STRINGS = (Comment, Declaration, Doctype, ProcessingInstruction)


def _is_chrome(tag: Tag) -> bool:
    if tag.name in _KEEP_TAGS:
        return False
    if tag.get("role") in _DROP_ROLES or tag.get("aria-hidden") == "true":
        return True
    tokens = [str(tag.get("id") or ""), *(tag.get("class") or [])]
    if not any(_CHROME_TOKEN.match(token) for token in tokens if token):
        return False
    # A wrapper named "nav-layout" around the article, or a box holding a heading, is content.
    return tag.find(["main", "article", *_HEADINGS]) is None


def _drop(tag: Tag) -> bool:
    if tag.name in _DROP_TAGS:
        if tag.find(["main", "article"]) is not None:
            return False
        # an article's own header holds its title
        return not (tag.name == "header" and tag.find_parent(["main", "article"]) is not None)
    return _is_chrome(tag)


def _strip_chrome(root: Tag) -> None:
    # Walked by hand, never entering a removed subtree: bs4's ``decomposed`` check on a removed
    # tag falls back to a descendant search, which made deep pages quadratic.
    stack = [root]
    while stack:
        node = stack.pop()
        for child in list(node.children):
            if isinstance(child, Tag):
                if _drop(child):
                    child.decompose()
                else:
                    stack.append(child)


def _depth(root: Tag) -> int:
    deepest = 0
    stack = [(root, 0)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in node.children if isinstance(child, Tag))
    return deepest


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
    if _depth(soup) > MAX_DEPTH:  # machine-made nesting: keep the words, skip the structure
        for tag in soup.find_all(["script", "style", "noscript", "template"]):
            tag.decompose()
        return _tidy(soup.get_text("\n")), title
    _strip_chrome(soup)
    if not title:
        h1 = soup.find("h1")
        title = h1.get_text(" ", strip=True) if h1 else ""
    root = soup.find("main") or soup.find(attrs={"role": "main"}) or soup.find("article")
    root = root or soup.find("body") or soup
    out: list[str] = []
    _render(root, out)
    return _tidy("".join(out)), title
