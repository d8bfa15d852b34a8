"""Web sources refuse internal addresses: by spelling, after DNS, at every redirect (real local server)."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator

import pytest
from fixtures.http_site import LocalSite, Route

from knowledge.sources.base import SourceSpec
from knowledge.sources.netguard import BlockedAddress, NetPolicy, literal_ip, refused_because, resolve_checked
from knowledge.sources.web import WebSource
from knowledge.types import Document, DocumentError

PAGE = b"<html><head><title>T</title></head><body><main><p>Deploy with make.</p></main></body></html>"


@pytest.fixture
def site() -> Iterator[LocalSite]:
    s = LocalSite()
    yield s
    s.close()


def _web(settings, location: str) -> WebSource:
    return WebSource(SourceSpec(name="w", kind="web", location=location), settings)


@pytest.mark.parametrize("spelling", ["0x7f000001", "2130706433", "0177.0.0.1", "127.1", "[::1]",
                                      "[::ffff:127.0.0.1]", "[::ffff:7f00:1]"])
def test_odd_spellings_of_loopback_are_read_as_loopback(spelling: str) -> None:
    ip = literal_ip(spelling)
    assert ip is not None and refused_because(ip) == "a loopback address"


@pytest.mark.parametrize(("address", "what"), [
    ("169.254.169.254", "link-local"), ("10.0.0.1", "private"), ("192.168.1.1", "private"),
    ("172.16.0.1", "private"), ("100.64.0.1", "carrier-grade"), ("224.0.0.1", "multicast"),
    ("0.0.0.0", "unspecified"), ("240.0.0.1", "reserved"), ("fe80::1", "link-local"),
    ("fc00::1", "private"), ("::ffff:169.254.169.254", "link-local"),
])
def test_internal_addresses_are_refused(address: str, what: str) -> None:
    assert what in (refused_because(ipaddress.ip_address(address)) or "")


@pytest.mark.parametrize("address", ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111"])
def test_public_addresses_pass(address: str) -> None:
    assert refused_because(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize("url", [
    "http://169.254.169.254/latest/meta-data/", "http://metadata.google.internal/computeMetadata/v1/",
    "http://10.0.0.1/", "http://[::1]:8080/", "http://0x7f000001/", "http://2130706433/",
    "http://0177.0.0.1/", "http://[::ffff:127.0.0.1]/", "https://100.64.1.1/",
])
def test_adding_an_internal_url_is_refused(unit_settings, url: str) -> None:
    with pytest.raises(ValueError, match="web sources fetch public addresses only|metadata"):
        _web(unit_settings, url)


def test_name_resolving_to_loopback_is_refused_after_dns(unit_settings, site: LocalSite) -> None:
    site.routes["/page"] = Route(PAGE)
    url = site.url("/page").replace("127.0.0.1", "localhost")  # passes the spelling check
    source = _web(unit_settings, url)
    items = list(source.load())
    assert len(items) == 1 and isinstance(items[0], DocumentError)
    assert "loopback" in items[0].reason
    assert sum(site.hits.values()) == 0  # not even robots.txt was requested


def test_name_with_any_internal_address_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    def two_answers(host, port, *args, **kwargs):  # a public and a private answer for one name
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port))
                for ip in ("93.184.216.34", "10.0.0.5")]

    monkeypatch.setattr(socket, "getaddrinfo", two_answers)
    with pytest.raises(BlockedAddress, match="10.0.0.5"):
        resolve_checked("docs.example.com", 443, NetPolicy())
    assert resolve_checked("docs.example.com", 443, NetPolicy(("*.example.com",))) == ["93.184.216.34",
                                                                                        "10.0.0.5"]


def test_allowed_host_is_fetched(unit_settings, site: LocalSite) -> None:
    site.routes["/page"] = Route(PAGE)
    settings = unit_settings.model_copy(update={"web_allowed_private_hosts": ["localhost"]})
    url = site.url("/page").replace("127.0.0.1", "localhost")
    items = list(_web(settings, url).load())
    assert isinstance(items[0], Document) and "Deploy with make." in items[0].text


@pytest.mark.parametrize("target", ["http://127.0.0.1:{port}/secret", "http://169.254.169.254/latest/",
                                    "http://0x7f000001:{port}/secret", "http://[::ffff:127.0.0.1]:{port}/secret"])
def test_redirect_to_an_internal_address_is_not_followed(unit_settings, site: LocalSite, target: str) -> None:
    port = site.url("/").split(":")[2].split("/")[0]
    site.routes["/start"] = Route(b"", status=302, headers={"Location": target.format(port=port)})
    site.routes["/secret"] = Route(PAGE)
    settings = unit_settings.model_copy(update={"web_allowed_private_hosts": ["localhost"]})
    url = site.url("/start").replace("127.0.0.1", "localhost")
    items = list(_web(settings, url).load())
    assert len(items) == 1 and isinstance(items[0], DocumentError)
    assert "public addresses only" in items[0].reason
    assert site.hits["/start"] == 1 and site.hits["/secret"] == 0


def test_redirect_to_allowed_host_is_followed(unit_settings, site: LocalSite) -> None:
    site.routes["/start"] = Route(b"", status=301, headers={"Location": "/final"})
    site.routes["/final"] = Route(PAGE)
    settings = unit_settings.model_copy(update={"web_allowed_private_hosts": ["127.0.0.1"]})
    items = list(_web(settings, site.url("/start")).load())
    assert isinstance(items[0], Document) and items[0].uri == site.url("/final")
    assert items[0].external_id == site.url("/start")


def test_allow_setting_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.settings import load_settings

    monkeypatch.setenv("WEB_ALLOWED_PRIVATE_HOSTS", "wiki.corp, 10.0.0.0/8")
    policy = NetPolicy(tuple(load_settings(_env_file=None).web_allowed_private_hosts))
    assert policy.host_allowed("WIKI.corp.") and policy.address_allowed(ipaddress.ip_address("10.9.9.9"))
    assert not policy.host_allowed("other.corp")


def test_url_credentials_fetch_but_are_never_stored(unit_settings, site: LocalSite) -> None:
    site.routes["/page"] = Route(PAGE)
    settings = unit_settings.model_copy(update={"web_allowed_private_hosts": ["127.0.0.1"]})
    clean = site.url("/page")
    secret_url = clean.replace("http://", "http://ops:Hunter2Secret@")
    missing = secret_url.replace("/page", "/gone")
    items = list(_web(settings, f"{secret_url}, {missing}").load())
    doc = next(i for i in items if isinstance(i, Document))
    error = next(i for i in items if isinstance(i, DocumentError))
    assert site.request_headers["/page"]["Authorization"].startswith("Basic ")  # still used to fetch
    assert doc.external_id == clean and doc.uri == clean and doc.metadata["url"] == clean
    assert "Hunter2Secret" not in repr(doc.metadata) and doc.title != secret_url
    assert error.external_id == clean.replace("/page", "/gone") and "Hunter2Secret" not in error.reason


def test_environment_proxy_is_used_and_names_are_checked_before_the_request(
        unit_settings, site: LocalSite, monkeypatch: pytest.MonkeyPatch) -> None:
    """Behind HTTP_PROXY the proxy connects (no pinning possible), so each name is resolved and
    checked first; the local site plays the proxy and sees absolute-URI requests."""
    real = socket.getaddrinfo
    answers = {"docs.example.com": "93.184.216.34", "intranet.example.com": "10.1.2.3"}

    def resolve(host, port, *args, **kwargs):
        if host in answers:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answers[host], port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    monkeypatch.setenv("HTTP_PROXY", site.url("/").rstrip("/"))
    monkeypatch.setenv("NO_PROXY", "")
    site.routes["http://docs.example.com/page"] = Route(PAGE)
    items = list(_web(unit_settings, "http://docs.example.com/page").load())
    assert isinstance(items[0], Document) and site.hits["http://docs.example.com/page"] == 1
    refused = list(_web(unit_settings, "http://intranet.example.com/page").load())
    assert "10.1.2.3" in refused[0].reason and "private" in refused[0].reason
    assert not any("intranet" in path for path in site.hits)
