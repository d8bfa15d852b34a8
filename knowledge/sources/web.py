"""Web pages as a knowledge source: one URL, a list of URLs, or sitemaps.

``location`` holds URLs separated by commas or newlines (or ``options["urls"]`` a list). A URL
ending in ``.xml``/``.xml.gz``/``sitemap`` (or any URL with ``options["sitemap"] = True``) is read
as a sitemap: nested sitemap indexes are followed once each (a sitemap that lists itself or a
parent is reported, not followed again), pages must be on the sitemap's host unless
``options["allow_other_hosts"]``. ``load(since=t)`` skips pages whose ``<lastmod>`` is not newer
and asks the server with If-Modified-Since for the others; it then reports ``complete=False``.
At most INGEST_MAX_PAGES pages are fetched per load. Every fetch is polite: our user agent,
robots.txt, INGEST_HTTP_TIMEOUT_S, INGEST_MAX_FILE_MB. ``external_id`` is the URL without its
``#fragment``; ``uri`` is where the server finally answered (after redirects). Both, and every
error message, drop a ``user:password@`` from the URL (it is used to fetch, never stored or shown).
Private, loopback, link-local and metadata addresses are refused (when the source is added, by
the URL's spelling, and at every fetch and redirect, by the resolved addresses; see
:mod:`knowledge.sources.netguard`) unless WEB_ALLOWED_PRIVATE_HOSTS allows the host.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from urllib.parse import urldefrag, urlsplit

import httpx

from knowledge.redaction import strip_credentials_in, strip_url_credentials
from knowledge.sources.base import SourceConfig, SourceSpec
from knowledge.sources.decoding import ReadError
from knowledge.sources.folder import as_utc
from knowledge.sources.http_fetch import Fetcher, FetchError, NotModified
from knowledge.sources.netguard import BlockedAddress, NetPolicy, check_literal
from knowledge.sources.readers import reader_for_mime
from knowledge.sources.sitemap import SitemapEntry, SitemapError, is_sitemap_url, parse_sitemap
from knowledge.types import Document, DocumentError

MAX_SITEMAPS = 1000


def parse_urls(location: str, options: dict | None = None) -> list[str]:
    """The URLs a web source was configured with, each checked to be http(s)."""
    urls = [u.strip() for u in re.split(r"[,\n]", location or "") if u.strip()]
    extra = (options or {}).get("urls") or []
    if isinstance(extra, str):
        extra = re.split(r"[,\n]", extra)
    urls += [str(u).strip() for u in extra if str(u).strip()]
    if not urls:
        raise ValueError("web source needs at least one URL (location or options['urls'])")
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise ValueError(f"{url!r} is not an http(s) URL; web sources fetch http:// or https:// only")
    return list(dict.fromkeys(urls))


def net_policy(settings: object) -> NetPolicy:
    """The address policy from WEB_ALLOWED_PRIVATE_HOSTS (absent: public addresses only)."""
    return NetPolicy(tuple(getattr(settings, "web_allowed_private_hosts", None) or ()))


def normalise_url(url: str) -> str:
    return urldefrag(url.strip())[0]


class WebSource:
    def __init__(self, spec: SourceSpec, settings: SourceConfig, *,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.spec = spec
        self.settings = settings
        self.options = spec.options or {}
        self.urls = parse_urls(spec.location, self.options)
        self.policy = net_policy(settings)
        for url in self.urls:  # refused when added, not only when first fetched
            try:
                check_literal(urlsplit(url).hostname or "", self.policy)
            except BlockedAddress as exc:
                raise ValueError(f"web source {spec.name!r}: {exc}") from exc
        self.transport = transport
        self._complete = False
        self._whole = False

    @property
    def complete(self) -> bool:
        return self._complete

    @property
    def cursor(self) -> str | None:
        return None  # incremental loads use sitemap <lastmod> and If-Modified-Since instead

    def _is_sitemap(self, url: str) -> bool:
        return bool(self.options.get("sitemap")) or is_sitemap_url(url)

    def load(self, *, since: datetime | None = None) -> Iterator[Document | DocumentError]:
        self._complete = False
        self._whole = since is None  # cleared by anything that leaves the listing partial
        since = as_utc(since) if since else None
        fetched_pages = 0
        seen_pages: set[str] = set()
        reported: set[str] = set()  # one error per URL, however often a sitemap repeats it
        with Fetcher(user_agent=self.settings.ingest_user_agent,
                     timeout_s=self.settings.ingest_http_timeout_s,
                     max_file_mb=self.settings.ingest_max_file_mb, transport=self.transport,
                     policy=self.policy) as fetcher:
            for item in self._pages(fetcher):
                if isinstance(item, DocumentError):
                    if item.external_id not in reported:
                        reported.add(item.external_id)
                        yield self._shown(item)
                    continue
                url = normalise_url(item.loc)
                if url in seen_pages:
                    continue
                seen_pages.add(url)
                if since is not None and item.lastmod is not None and item.lastmod <= since:
                    continue
                if fetched_pages >= self.settings.ingest_max_pages:
                    self._whole = False
                    limit = self.settings.ingest_max_pages
                    yield self._shown(DocumentError(url, f"not fetched: INGEST_MAX_PAGES={limit} pages "
                                                         "already read in this run; raise it to read more"))
                    break
                fetched_pages += 1
                result = self._page(fetcher, url, item.lastmod, since)
                if isinstance(result, DocumentError):
                    yield self._shown(result)
                elif result is not None:
                    yield result
        self._complete = self._whole

    def _shown(self, error: DocumentError) -> DocumentError:
        """``error`` with URL credentials out of its id and message (they end up in the run's record)."""
        reason = strip_credentials_in(error.reason)
        for url in self.urls:  # messages also name bare hosts: "robots.txt of user:pw@host"
            netloc = urlsplit(url).netloc
            if "@" in netloc:
                reason = reason.replace(netloc, netloc.rsplit("@", 1)[1])
        return DocumentError(strip_url_credentials(error.external_id), reason)

    def _pages(self, fetcher: Fetcher) -> Iterator[SitemapEntry | DocumentError]:
        """Configured pages, and pages listed by sitemaps, each sitemap read once."""
        visited: set[str] = set()
        for url in self.urls:
            if self._is_sitemap(url):
                yield from self._walk_sitemap(fetcher, normalise_url(url), visited)
            else:
                yield SitemapEntry(url)

    def _walk_sitemap(self, fetcher: Fetcher, root: str,
                      visited: set[str]) -> Iterator[SitemapEntry | DocumentError]:
        stack: list[tuple[str, str | None]] = [(root, None)]
        while stack:
            url, parent = stack.pop()
            if url in visited:
                yield DocumentError(url, f"sitemap loop: {url} is listed again by {parent or 'the source'}; "
                                         "it was read once and is not followed again")
                continue
            if len(visited) >= MAX_SITEMAPS:
                self._whole = False
                yield DocumentError(url, f"not read: more than {MAX_SITEMAPS} sitemaps in one source")
                continue
            visited.add(url)
            try:
                pages, children = parse_sitemap(fetcher.get(url).body)
            except (FetchError, SitemapError) as exc:
                self._whole = False  # pages it lists are unknown, so nothing may be pruned
                yield DocumentError(url, f"sitemap not read: {exc}")
                continue
            host = urlsplit(url).netloc
            for page in pages:
                bad = self._bad_entry(page.loc, host)
                yield DocumentError(page.loc, bad) if bad else page
            for child in reversed(children):
                bad = self._bad_entry(child.loc, host)
                if bad:
                    yield DocumentError(child.loc, bad)
                else:
                    stack.append((normalise_url(child.loc), url))

    def _bad_entry(self, loc: str, host: str) -> str | None:
        parts = urlsplit(loc)
        if parts.scheme not in {"http", "https"}:
            return "sitemap entry is not an http(s) URL; skipped"
        if parts.netloc != host and not self.options.get("allow_other_hosts"):
            return (f"sitemap on {host} lists a page on {parts.netloc}; skipped "
                    "(set the source option allow_other_hosts to read it)")
        return None

    def _page(self, fetcher: Fetcher, url: str, lastmod: datetime | None,
              since: datetime | None) -> Document | DocumentError | None:
        try:
            fetched = fetcher.get(url, if_modified_since=since if lastmod is None else None)
        except NotModified:
            return None
        except FetchError as exc:
            if exc.transient:
                self._whole = False
            return DocumentError(url, str(exc))
        reader = reader_for_mime(fetched.content_type, urlsplit(fetched.final_url).path)
        if reader is None:
            return DocumentError(url, f"unsupported content type {fetched.content_type or 'none'!r}; "
                                      "lorebot reads HTML, text, Markdown, PDF and DOCX pages")
        try:
            read = reader(fetched.body, urlsplit(fetched.final_url).path.rsplit("/", 1)[-1] or url)
        except ReadError as exc:
            return DocumentError(url, str(exc))
        if not read.text.strip():
            return DocumentError(url, "page has no main text (empty after removing navigation)")
        shown = strip_url_credentials(url)
        return Document(
            external_id=shown,
            text=read.text,
            title=read.title or shown,
            uri=strip_url_credentials(fetched.final_url),
            mime=read.mime,
            updated_at=lastmod or fetched.last_modified,
            metadata={**read.metadata, "url": shown, "status": fetched.status,
                      "content_type": fetched.content_type, "size": len(fetched.body)},
        )
