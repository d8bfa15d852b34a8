"""Web source against a real local HTTP server: pages, sitemaps, robots.txt, and every failure mode."""

from __future__ import annotations

import gzip
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fixtures.docgen import pdf_bytes
from fixtures.http_site import LocalSite, Route

from knowledge.sources.base import SourceSpec
from knowledge.sources.sitemap import parse_lastmod, parse_sitemap
from knowledge.sources.web import WebSource, parse_urls
from knowledge.types import Document, DocumentError

PAGE = ("<html><head><title>{t}</title></head><body><nav>Menu</nav>"
        "<main><h1>{t}</h1><p>{p}</p></main></body></html>")


@pytest.fixture
def site() -> Iterator[LocalSite]:
    s = LocalSite()
    yield s
    s.close()


@pytest.fixture
def web_settings(unit_settings):
    return unit_settings.model_copy(update={"ingest_http_timeout_s": 0.5, "ingest_max_file_mb": 0.05,
                                          # the test site is on loopback, refused by default
                                          "web_allowed_private_hosts": ["127.0.0.1"]})


def _urlset(site: LocalSite, entries: list[tuple[str, str | None]]) -> bytes:
    items = "".join(
        f"<url><loc>{site.url(path)}</loc>{f'<lastmod>{mod}</lastmod>' if mod else ''}</url>"
        for path, mod in entries
    )
    return f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{items}</urlset>'.encode()


def _index(site: LocalSite, paths: list[str]) -> bytes:
    items = "".join(f"<sitemap><loc>{site.url(p)}</loc></sitemap>" for p in paths)
    return f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{items}</sitemapindex>'.encode()


def _xml(body: bytes) -> Route:
    return Route(body, content_type="application/xml")


def _run(location: str, settings, *, since: datetime | None = None,
         **options: object) -> tuple[WebSource, dict[str, Document | DocumentError]]:
    spec = SourceSpec(name="web", kind="web", location=location, options=options or None)
    source = WebSource(spec, settings)
    return source, {item.external_id: item for item in source.load(since=since)}


def test_single_page_becomes_a_document_with_main_text(site: LocalSite, web_settings) -> None:
    url = site.page("/guide", PAGE.format(t="Guide", p="Deploy with make."),
                    headers={"Last-Modified": "Wed, 01 May 2024 10:00:00 GMT"})
    source, items = _run(url + "#intro", web_settings)
    doc = items[url]
    assert isinstance(doc, Document)
    assert doc.title == "Guide" and doc.text == "# Guide\n\nDeploy with make." and doc.mime == "text/html"
    assert doc.uri == url and doc.updated_at == datetime(2024, 5, 1, 10, tzinfo=UTC)
    assert source.complete is True
    assert site.user_agents[-1] == web_settings.ingest_user_agent


def test_url_list_with_404_and_500_keeps_going(site: LocalSite, web_settings) -> None:
    good = site.page("/good", PAGE.format(t="Good", p="fine"))
    site.routes["/broken"] = Route(b"oops", status=500)
    location = f"{good}, {site.url('/missing')}\n{site.url('/broken')}"
    source, items = _run(location, web_settings)
    assert isinstance(items[good], Document)
    assert "HTTP 404" in items[site.url("/missing")].reason
    assert "HTTP 500" in items[site.url("/broken")].reason and "retried" in items[site.url("/broken")].reason
    assert source.complete is False  # a 500 page is not known to be gone: nothing may be pruned


def test_slow_server_times_out_with_a_clear_reason(site: LocalSite, web_settings) -> None:
    slow = site.page("/slow", PAGE.format(t="Slow", p="late"), delay_s=3)
    fast = site.page("/fast", PAGE.format(t="Fast", p="quick"))
    start = time.perf_counter()
    _, items = _run(f"{slow},{fast}", web_settings)
    assert time.perf_counter() - start < 2.9  # less than the 3 s the server sleeps
    assert "timed out after 0.5s (INGEST_HTTP_TIMEOUT_S)" in items[slow].reason
    assert isinstance(items[fast], Document)


def test_robots_txt_disallow_is_respected_and_read_once(site: LocalSite, web_settings) -> None:
    site.routes["/robots.txt"] = Route(b"User-agent: *\nDisallow: /private\n", content_type="text/plain")
    private = site.page("/private/salaries", PAGE.format(t="Secret", p="no"))
    public = site.page("/public", PAGE.format(t="Public", p="yes"))
    _, items = _run(f"{private},{public}", web_settings)
    assert "robots.txt" in items[private].reason and "disallows" in items[private].reason
    assert site.hits["/private/salaries"] == 0
    assert isinstance(items[public], Document)
    assert site.hits["/robots.txt"] == 1


def test_robots_rules_for_our_agent_only(site: LocalSite, web_settings) -> None:
    site.routes["/robots.txt"] = Route(b"User-agent: lorebot\nDisallow: /\n\nUser-agent: *\nAllow: /\n")
    url = site.page("/page", PAGE.format(t="P", p="x"))
    _, items = _run(url, web_settings)
    assert isinstance(items[url], DocumentError) and site.hits["/page"] == 0


def test_unreachable_robots_txt_means_do_not_crawl(site: LocalSite, web_settings) -> None:
    site.routes["/robots.txt"] = Route(b"down", status=503)
    url = site.page("/page", PAGE.format(t="P", p="x"))
    _, items = _run(url, web_settings)
    assert "robots.txt" in items[url].reason and "could not be read" in items[url].reason
    assert site.hits["/page"] == 0


def test_looping_sitemaps_terminate_and_report_the_loop(site: LocalSite, web_settings) -> None:
    for name in ("a", "b", "c"):
        site.page(f"/{name}", PAGE.format(t=name.upper(), p=f"page {name}"))
    site.routes["/sitemap.xml"] = _xml(_index(site, ["/one.xml", "/two.xml"]))
    site.routes["/one.xml"] = _xml(_index(site, ["/sitemap.xml", "/pages.xml"]))  # back to the root
    site.routes["/two.xml"] = _xml(_index(site, ["/one.xml", "/two.xml", "/two.xml"]))  # sibling, itself
    site.routes["/pages.xml"] = _xml(_urlset(site, [("/a", None), ("/b", None), ("/c", None), ("/a", None)]))
    source = WebSource(SourceSpec(name="w", kind="web", location=site.url("/sitemap.xml")), web_settings)
    source_items = list(source.load())
    items = {item.external_id: item for item in source_items}
    docs = sorted(k for k, v in items.items() if isinstance(v, Document))
    assert docs == [site.url("/a"), site.url("/b"), site.url("/c")]
    loops = {k: v.reason for k, v in items.items() if isinstance(v, DocumentError)}
    assert set(loops) == {site.url("/sitemap.xml"), site.url("/one.xml"), site.url("/two.xml")}
    assert sum(isinstance(i, DocumentError) for i in source_items) == 3  # each loop reported once
    assert all(reason.startswith("sitemap loop") for reason in loops.values())
    assert all(site.hits[p] == 1 for p in ("/sitemap.xml", "/one.xml", "/two.xml", "/pages.xml", "/a"))
    assert source.complete is True


def test_oversized_pages_stop_at_the_cap(site: LocalSite, web_settings) -> None:
    declared = site.page("/declared", "x" * 200_000)
    site.routes["/streamed"] = Route(b"y" * 65536, stream_chunks=200, content_type="text/plain")
    start = time.perf_counter()
    _, items = _run(f"{declared},{site.url('/streamed')}", web_settings)
    assert "INGEST_MAX_FILE_MB=0.05" in items[declared].reason
    streamed = items[site.url("/streamed")].reason
    assert "more than" in streamed and "download stopped" in streamed
    assert time.perf_counter() - start < 5


def test_sitemap_lastmod_makes_loads_incremental(site: LocalSite, web_settings) -> None:
    site.page("/old", PAGE.format(t="Old", p="x"))
    site.page("/new", PAGE.format(t="New", p="y"))
    site.page("/undated", PAGE.format(t="Undated", p="z"), not_modified_on_ims=True)
    entries = [("/old", "2023-01-01"), ("/new", "2024-06-01T12:00:00Z"), ("/undated", None)]
    site.routes["/sitemap.xml"] = _xml(_urlset(site, entries))
    source, items = _run(site.url("/sitemap.xml"), web_settings, since=datetime(2024, 1, 1, tzinfo=UTC))
    assert list(items) == [site.url("/new")]
    assert items[site.url("/new")].updated_at == datetime(2024, 6, 1, 12, tzinfo=UTC)
    assert site.hits["/old"] == 0 and site.hits["/undated"] == 1  # asked, answered 304
    assert "If-Modified-Since" in site.request_headers["/undated"]
    assert source.complete is False


def test_max_pages_caps_a_run(site: LocalSite, web_settings) -> None:
    paths = [f"/p{i}" for i in range(5)]
    for path in paths:
        site.page(path, PAGE.format(t=path, p="text"))
    site.routes["/sitemap.xml"] = _xml(_urlset(site, [(p, None) for p in paths]))
    source, items = _run(site.url("/sitemap.xml"), web_settings.model_copy(update={"ingest_max_pages": 2}))
    assert [k for k, v in items.items() if isinstance(v, Document)] == [site.url("/p0"), site.url("/p1")]
    assert "INGEST_MAX_PAGES=2" in items[site.url("/p2")].reason
    assert sum(site.hits[p] for p in paths) == 2 and source.complete is False


def test_sitemap_entries_on_other_hosts_or_schemes_are_refused(site: LocalSite, web_settings) -> None:
    site.page("/mine", PAGE.format(t="Mine", p="ok"))
    body = (f'<urlset><url><loc>{site.url("/mine")}</loc></url><url><loc>http://elsewhere.test/x</loc></url>'
            "<url><loc>file:///etc/passwd</loc></url></urlset>").encode()
    site.routes["/sitemap.xml"] = _xml(body)
    _, items = _run(site.url("/sitemap.xml"), web_settings)
    assert isinstance(items[site.url("/mine")], Document)
    assert "allow_other_hosts" in items["http://elsewhere.test/x"].reason
    assert "not an http(s) URL" in items["file:///etc/passwd"].reason


def test_broken_sitemap_is_an_error_and_blocks_pruning(site: LocalSite, web_settings) -> None:
    site.routes["/sitemap.xml"] = _xml(b"<urlset><url><loc>")
    source, items = _run(site.url("/sitemap.xml"), web_settings)
    assert "not valid XML" in items[site.url("/sitemap.xml")].reason
    assert source.complete is False


def test_content_types(site: LocalSite, web_settings) -> None:
    site.routes["/plan.pdf"] = Route(pdf_bytes(["Plan for Q3"], title="Q3"), content_type="application/pdf")
    site.routes["/logo.png"] = Route(b"\x89PNG....", content_type="image/png")
    site.routes["/notes"] = Route(b"plain words here", content_type="text/plain")
    site.routes["/empty"] = Route(b"<html><body><nav>only nav</nav></body></html>")
    paths = ("/plan.pdf", "/logo.png", "/notes", "/empty")
    _, items = _run(",".join(site.url(p) for p in paths), web_settings)
    assert items[site.url("/plan.pdf")].title == "Q3" and "Plan for Q3" in items[site.url("/plan.pdf")].text
    assert "unsupported content type 'image/png'" in items[site.url("/logo.png")].reason
    assert items[site.url("/notes")].text == "plain words here"
    assert "no main text" in items[site.url("/empty")].reason


def test_connection_refused_is_an_error_not_a_crash(web_settings) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/x"
    source, items = _run(url, web_settings)
    assert "could not connect" in items[url].reason and source.complete is False


def test_locations_must_be_http_urls() -> None:
    urls = parse_urls("https://a.test/x, https://a.test/y\nhttps://a.test/x", {"urls": ["http://b.test"]})
    assert urls == ["https://a.test/x", "https://a.test/y", "http://b.test"]
    assert parse_urls("", {"urls": "https://a.test/1,https://a.test/2"}) == ["https://a.test/1", "https://a.test/2"]
    with pytest.raises(ValueError, match="not an http"):
        parse_urls("file:///etc/passwd")
    with pytest.raises(ValueError, match="at least one URL"):
        parse_urls(" , ")


def test_sitemap_parser_formats() -> None:
    xml = b"<urlset><url><loc>https://a.test/1</loc><lastmod>2024-02-03</lastmod></url></urlset>"
    pages, children = parse_sitemap(gzip.compress(xml))
    assert pages[0].loc == "https://a.test/1" and pages[0].lastmod == datetime(2024, 2, 3, tzinfo=UTC)
    assert children == []
    pages, _ = parse_sitemap(b"https://a.test/1\nhttps://a.test/2\n# comment\n")
    assert [p.loc for p in pages] == ["https://a.test/1", "https://a.test/2"]
    assert parse_lastmod("not a date") is None and parse_lastmod("2024-01-01T10:00:00+02:00").hour == 10


def test_crawl_delay_spaces_requests(site: LocalSite, web_settings) -> None:
    site.routes["/robots.txt"] = Route(b"User-agent: *\nCrawl-delay: 1\n", content_type="text/plain")
    urls = [site.page(f"/d{i}", PAGE.format(t=f"D{i}", p="x")) for i in range(2)]
    start = time.perf_counter()
    _, items = _run(",".join(urls), web_settings)
    assert time.perf_counter() - start >= 0.95
    assert all(isinstance(items[u], Document) for u in urls)
