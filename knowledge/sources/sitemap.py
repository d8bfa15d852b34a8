"""Sitemap parsing: ``<urlset>`` pages and ``<sitemapindex>`` children, with ``<lastmod>``.

``parse_sitemap(data) -> (pages, sitemaps)``; gzip-compressed sitemaps and plain-text sitemaps
(one URL per line) are accepted too. Malformed XML raises :class:`SitemapError`.
"""

from __future__ import annotations

import gzip
import io
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

MAX_UNZIPPED_BYTES = 50 * 1024 * 1024  # the sitemap protocol's own limit


class SitemapError(ValueError):
    pass


@dataclass(frozen=True)
class SitemapEntry:
    loc: str
    lastmod: datetime | None = None


def is_sitemap_url(url: str) -> bool:
    path = urlsplit(url).path.lower()
    return path.endswith((".xml", ".xml.gz")) or path.rstrip("/").endswith("sitemap")


def parse_lastmod(raw: str | None) -> datetime | None:
    """W3C datetime (``2024-05-01`` or ``2024-05-01T10:00:00+02:00``) as an aware datetime."""
    if not raw or not raw.strip():
        return None
    try:
        moment = datetime.fromisoformat(raw.strip())
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _unzip(data: bytes) -> bytes:
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as handle:
            out = handle.read(MAX_UNZIPPED_BYTES + 1)
    except (OSError, EOFError) as exc:
        raise SitemapError(f"damaged gzip sitemap: {exc}") from exc
    if len(out) > MAX_UNZIPPED_BYTES:
        raise SitemapError("gzip sitemap unpacks to more than 50 MB; split it (sitemap protocol limit)")
    return out


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def parse_sitemap(data: bytes) -> tuple[list[SitemapEntry], list[SitemapEntry]]:
    """``(pages, child sitemaps)`` listed in ``data``."""
    if data[:2] == b"\x1f\x8b":
        data = _unzip(data)
    stripped = data.lstrip()
    if not stripped.startswith(b"<"):
        lines = stripped.decode("utf-8", "replace").splitlines()
        return [SitemapEntry(line.strip()) for line in lines if line.strip().startswith("http")], []
    try:
        root = ET.fromstring(data)  # noqa: S314 - no external entities in ElementTree; expat caps expansion
    except ET.ParseError as exc:
        raise SitemapError(f"sitemap is not valid XML: {exc}") from exc
    pages: list[SitemapEntry] = []
    children: list[SitemapEntry] = []
    target = children if _local(root.tag) == "sitemapindex" else pages
    for item in root:
        fields = {_local(child.tag): (child.text or "").strip() for child in item}
        if fields.get("loc"):
            target.append(SitemapEntry(fields["loc"], parse_lastmod(fields.get("lastmod"))))
    return pages, children
