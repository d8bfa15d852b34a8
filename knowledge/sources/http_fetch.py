"""Polite HTTP GETs for the web source: timeout, size cap, user agent, robots.txt.

``Fetcher.get(url)`` returns a :class:`Fetched` or raises :class:`FetchError` whose message is
fit for the run's error list and whose ``transient`` flag says whether trying again later may
help (timeouts, 5xx) or not (404, too large, disallowed). The body is streamed and the
download stops as soon as it passes INGEST_MAX_FILE_MB.

Redirects are followed here, one hop at a time, and every hop's host is checked by
:mod:`knowledge.sources.netguard` (a public page must not bounce us to 169.254.169.254); the
connection itself goes only to an address that passed the check (``GuardedBackend``).
"""

from __future__ import annotations

import contextlib
import time
import urllib.request
import urllib.robotparser
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from knowledge.sources.files import max_bytes
from knowledge.sources.netguard import (
    BlockedAddress,
    GuardedBackend,
    NetPolicy,
    check_literal,
    resolve_checked,
)

ROBOTS_MAX_BYTES = 512 * 1024
MAX_CRAWL_DELAY_S = 5.0
MAX_REDIRECTS = 10
_REDIRECTS = {301, 302, 303, 307, 308}


class FetchError(Exception):
    def __init__(self, reason: str, *, transient: bool = False) -> None:
        super().__init__(reason)
        self.transient = transient


class HTTPStatusError(FetchError):
    def __init__(self, reason: str, *, status: int, transient: bool) -> None:
        super().__init__(reason, transient=transient)
        self.status = status


class NotModified(Exception):  # noqa: N818 - a 304 answer, not a failure
    """The server said the page has not changed since the time we asked about."""


@dataclass
class Fetched:
    url: str
    final_url: str
    status: int
    content_type: str
    body: bytes
    last_modified: datetime | None


def _last_modified(headers: httpx.Headers) -> datetime | None:
    raw = headers.get("last-modified")
    if not raw:
        return None
    try:
        return parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None


class Fetcher:
    def __init__(
        self,
        *,
        user_agent: str,
        timeout_s: float,
        max_file_mb: float,
        transport: httpx.BaseTransport | None = None,
        policy: NetPolicy | None = None,
    ) -> None:
        self.user_agent = user_agent
        self.timeout_s = timeout_s
        self.max_file_mb = max_file_mb
        self.policy = policy or NetPolicy()
        # Behind an HTTP(S)_PROXY from the environment the proxy connects, so the socket cannot be
        # pinned here: every hop's name is then resolved and checked before the request instead.
        self._proxied = transport is None and bool(urllib.request.getproxies())
        self.client = httpx.Client(
            headers={"User-Agent": user_agent},
            timeout=httpx.Timeout(timeout_s),
            follow_redirects=False,  # _open follows them, checking every hop
            transport=transport or (None if self._proxied else guarded_transport(self.policy)),
        )
        self._robots: dict[str, urllib.robotparser.RobotFileParser | str | FetchError] = {}
        self._last_hit: dict[str, float] = {}

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.client.close()

    def _download(self, url: str, cap: int, headers: dict[str, str] | None = None) -> Fetched:
        # httpx's timeout is per read; the deadline also stops a server that drips bytes slowly
        deadline = time.monotonic() + self.timeout_s * 3
        try:
            with contextlib.closing(self._open(url, headers)) as response:
                if response.status_code == 304:
                    raise NotModified(url)
                _raise_for_status(response)
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > cap:
                    raise FetchError(self._too_big(int(declared)))
                body = bytearray()
                for piece in response.iter_bytes():
                    body.extend(piece)
                    if len(body) > cap:
                        raise FetchError(self._too_big(len(body), at_least=True))
                    if time.monotonic() > deadline:
                        raise FetchError(f"download took over {self.timeout_s * 3:g}s; server too slow",
                                         transient=True)
                return Fetched(url, str(response.url), response.status_code,
                               response.headers.get("content-type", ""), bytes(body),
                               _last_modified(response.headers))
        except BlockedAddress as exc:
            raise FetchError(str(exc)) from exc
        except httpx.TimeoutException as exc:
            raise FetchError(
                f"timed out after {self.timeout_s:g}s (INGEST_HTTP_TIMEOUT_S); the server did not answer "
                "in time", transient=True,
            ) from exc
        except httpx.TooManyRedirects as exc:
            raise FetchError("too many redirects; check the URL") from exc
        except httpx.HTTPError as exc:
            raise FetchError(f"could not connect: {type(exc).__name__}: {exc}", transient=True) from exc

    def _open(self, url: str, headers: dict[str, str] | None) -> httpx.Response:
        """The streamed response at the end of ``url``'s redirects, each hop's host checked first."""
        for _ in range(MAX_REDIRECTS + 1):
            parts = urlsplit(url)
            if parts.scheme not in {"http", "https"} or not parts.hostname:
                raise FetchError(f"redirected to {url!r}, which is not an http(s) URL; not followed")
            check_literal(parts.hostname, self.policy)
            if self._proxied:
                resolve_checked(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80),
                                self.policy)
            response = self.client.send(self.client.build_request("GET", url, headers=headers), stream=True)
            location = response.headers.get("location")
            if response.status_code not in _REDIRECTS or not location:
                return response
            response.close()
            url = urljoin(url, location)
        raise httpx.TooManyRedirects(f"more than {MAX_REDIRECTS} redirects")

    def _too_big(self, size: int, *, at_least: bool = False) -> str:
        more = "more than " if at_least else ""
        return (f"response is {more}{size / 1024 / 1024:.1f} MB, above INGEST_MAX_FILE_MB="
                f"{self.max_file_mb:g}; download stopped")

    def get(self, url: str, *, if_modified_since: datetime | None = None) -> Fetched:
        """GET ``url`` if robots.txt allows it (see module docstring for the errors)."""
        rules = self._rules(url)
        host = urlsplit(url).netloc
        if isinstance(rules, FetchError):
            raise FetchError(f"robots.txt of {host} could not be read ({rules}); not crawling the site "
                             "until it can", transient=rules.transient)
        if not self.allowed(url):
            raise FetchError(f"robots.txt of {host} disallows this URL for our user agent")
        self._wait_politely(url)
        headers = {"If-Modified-Since": format_datetime(if_modified_since, usegmt=True)} \
            if if_modified_since is not None and if_modified_since.tzinfo else None
        return self._download(url, max_bytes(self.max_file_mb), headers)

    def _origin(self, url: str) -> str:
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc}"

    def _wait_politely(self, url: str) -> None:
        origin = self._origin(url)
        rules = self._robots.get(origin)
        delay = rules.crawl_delay(self.user_agent) if isinstance(rules, urllib.robotparser.RobotFileParser) \
            else None
        if delay and origin in self._last_hit:
            pause = min(float(delay), MAX_CRAWL_DELAY_S) - (time.monotonic() - self._last_hit[origin])
            if pause > 0:
                time.sleep(pause)
        self._last_hit[origin] = time.monotonic()

    def _rules(self, url: str) -> urllib.robotparser.RobotFileParser | str | FetchError:
        origin = self._origin(url)
        if origin not in self._robots:
            self._robots[origin] = self._read_robots(origin)
        return self._robots[origin]

    def allowed(self, url: str) -> bool:
        """What the site's robots.txt says about ``url`` (fetched once per site)."""
        rules = self._rules(url)
        if isinstance(rules, urllib.robotparser.RobotFileParser):
            return rules.can_fetch(self.user_agent, url)
        return rules == "allow"

    def _read_robots(self, origin: str) -> urllib.robotparser.RobotFileParser | str | FetchError:
        """Rules, ``allow``/``deny`` for the whole site, or why robots.txt could not be read
        (then nothing is fetched from the site: RFC 9309 says assume full disallow)."""
        try:
            fetched = self._download(origin + "/robots.txt", ROBOTS_MAX_BYTES)
        except FetchError as exc:
            status = exc.status if isinstance(exc, HTTPStatusError) else None
            if status in {401, 403}:
                return "deny"
            if status is not None and 400 <= status < 500:
                return "allow"  # no robots.txt: everything allowed (RFC 9309)
            return exc
        parser = urllib.robotparser.RobotFileParser()
        parser.parse(fetched.body.decode("utf-8", "replace").splitlines())
        return parser


def guarded_transport(policy: NetPolicy) -> httpx.HTTPTransport:
    """httpx's own transport whose sockets connect only to addresses ``policy`` allows."""
    transport = httpx.HTTPTransport()
    pool = transport._pool  # noqa: SLF001 - httpx has no public hook for httpcore's network backend
    if isinstance(pool, httpcore.ConnectionPool):
        pool._network_backend = GuardedBackend(policy)  # noqa: SLF001
    return transport


def _raise_for_status(response: httpx.Response) -> None:
    status = response.status_code
    if status < 400:
        return
    phrase = response.reason_phrase or ""
    if status in {404, 410}:
        raise HTTPStatusError(f"HTTP {status} {phrase}: the page is gone or the URL is wrong",
                              status=status, transient=False)
    if status == 429 or status >= 500:
        raise HTTPStatusError(f"HTTP {status} {phrase}: server error; it will be retried on the next run",
                              status=status, transient=True)
    raise HTTPStatusError(f"HTTP {status} {phrase}: the server refused the request", status=status,
                          transient=False)
