"""HTTP for feeds: the only importer of httpx.

Every way a fetch can go wrong is turned into a `TransientFeedError` (try again after a backoff) or a
`PermanentFeedError` (back off hard, a human must act) by one function, `_classify`, so that callers
decide from the class alone. Messages never contain credentials from the URL (`monitor.core.secrets`).
"""

from __future__ import annotations

import ipaddress
import socket
import time
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from types import TracebackType

import httpx

from monitor import __version__
from monitor.core.clock import Clock, SystemClock, as_utc
from monitor.core.errors import FeedError, PermanentFeedError, TransientFeedError
from monitor.core.secrets import scrub, strip_userinfo, userinfo_secrets

USER_AGENT = f"news-monitor/{__version__} (+https://github.com/news-monitor/news-monitor)"
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
    "application/xml;q=0.8, text/xml;q=0.8, */*;q=0.1"
)
_HINTS = {
    401: "the feed needs credentials; put them in the URL or ask the publisher",
    403: "the server refused access (often a bot block); check the URL or ask the publisher",
    404: "the feed is not at this address; check the URL in monitor.yaml",
    410: "the feed was removed; update or delete it in monitor.yaml",
}


@dataclass(frozen=True)
class FetchResult:
    """What a successful fetch returns; a 304 is a result (body None), not an error."""

    status: int
    body: bytes | None
    etag: str | None
    last_modified: str | None
    url: str  # final URL after redirects, credentials stripped
    content_type: str | None

    @property
    def not_modified(self) -> bool:
        return self.status == 304


class _Problem(Exception):
    """Internal: a fetch problem detected here rather than by httpx; `_classify` turns it into a FeedError."""


class _BadUrl(_Problem):
    """The configured URL is not an absolute http(s) URL."""


class _DeadlineExceeded(_Problem):
    """The overall per-request deadline passed (httpx only has per-operation timeouts)."""


class _TooLarge(_Problem):
    """Internal: the decoded body went past max_bytes."""

    def __init__(self, read: int, content_length: str | None) -> None:
        self.read = read
        self.content_length = content_length


class _TooManyRedirects(_Problem):
    """More than max_redirects hops, or a hop back to a URL already visited."""

    def __init__(self, hops: list[str], *, loop: bool, limit: int) -> None:
        self.hops = hops
        self.loop = loop
        self.limit = limit


class Fetcher:
    """One shared httpx client with the caps and checks a long-running daemon needs.

    Redirects are followed by hand so that every hop gets the private-network check and the deadline,
    and so that redirect bodies are never read.
    """

    def __init__(
        self,
        *,
        timeout: float,
        max_bytes: int,
        allow_private_networks: bool = False,
        user_agent: str = USER_AGENT,
        transport: httpx.BaseTransport | None = None,
        max_redirects: int = 5,
        clock: Clock | None = None,
    ) -> None:
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.allow_private_networks = allow_private_networks
        self.max_redirects = max_redirects
        self._clock = clock or SystemClock()
        self._client = httpx.Client(
            transport=transport,
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,
            limits=httpx.Limits(max_connections=20, max_keepalive_connections=10),
            headers={"User-Agent": user_agent, "Accept": ACCEPT, "Accept-Encoding": "gzip, deflate"},
        )

    def fetch(self, url: str, *, etag: str | None = None, last_modified: str | None = None) -> FetchResult:
        """GET `url` conditionally; raise a FeedError subclass for anything but 2xx/304."""
        try:
            return self._fetch(url, etag, last_modified)
        except (_Problem, httpx.HTTPError, httpx.InvalidURL, OSError, UnicodeError, ValueError) as exc:
            raise _classify(
                url, exc, timeout=self.timeout, max_bytes=self.max_bytes, now=self._now()
            ) from exc

    def _fetch(self, url: str, etag: str | None, last_modified: str | None) -> FetchResult:
        deadline = time.monotonic() + self.timeout
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        request = self._client.build_request("GET", _checked_url(url), headers=headers)
        hops: list[str] = []
        while True:
            self._check_host(request.url)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _DeadlineExceeded
            request.extensions["timeout"] = httpx.Timeout(min(self.timeout, remaining)).as_dict()
            response = self._client.send(request, stream=True)
            try:
                if response.next_request is None:
                    return self._finish(url, response, deadline, etag, last_modified)
                hops.append(str(request.url))
                loop = str(response.next_request.url) in hops
                if loop or len(hops) > self.max_redirects:
                    raise _TooManyRedirects(
                        [*hops, str(response.next_request.url)], loop=loop, limit=self.max_redirects
                    )
                request = response.next_request
                if request.url.scheme not in ("http", "https"):
                    raise _BadUrl(f"redirects to a non-http(s) URL, {strip_userinfo(str(request.url))}")
            finally:
                response.close()

    def _finish(
        self, url: str, response: httpx.Response, deadline: float, etag: str | None, last_modified: str | None
    ) -> FetchResult:
        final_url = strip_userinfo(str(response.url))
        if response.status_code == 304:
            return FetchResult(
                status=304,
                body=None,
                etag=response.headers.get("ETag") or etag,
                last_modified=response.headers.get("Last-Modified") or last_modified,
                url=final_url,
                content_type=response.headers.get("Content-Type"),
            )
        if not response.is_success:
            raise _classify(url, response, timeout=self.timeout, max_bytes=self.max_bytes, now=self._now())
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > self.max_bytes:
                encoded = "Content-Encoding" in response.headers
                raise _TooLarge(size, None if encoded else response.headers.get("Content-Length"))
            if time.monotonic() > deadline:
                raise _DeadlineExceeded
            chunks.append(chunk)
        return FetchResult(
            status=response.status_code,
            body=b"".join(chunks),
            etag=response.headers.get("ETag"),
            last_modified=response.headers.get("Last-Modified"),
            url=final_url,
            content_type=response.headers.get("Content-Type"),
        )

    def _check_host(self, url: httpx.URL) -> None:
        """Refuse loopback/private/link-local/reserved targets unless the operator allowed them.

        Checked on every hop. The address is resolved again when httpx connects, so a DNS answer that
        changes in between is not caught; this guards against mistakes and casual SSRF, not a hostile DNS.
        """
        if self.allow_private_networks:
            return
        host = url.raw_host.decode("ascii")
        try:
            addresses = {ipaddress.ip_address(host)}
        except ValueError:
            port = url.port or (443 if url.scheme == "https" else 80)
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            addresses = {ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos}
        for address in addresses:
            if is_private_address(address):
                raise PermanentFeedError(
                    f"feed {strip_userinfo(str(url))} resolves to the non-public address {address}; "
                    "set poll.allow_private_networks: true in monitor.yaml if this is intended"
                )

    def _now(self) -> datetime:
        return self._clock.now()

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _classify(
    url: str, problem: httpx.Response | BaseException, *, timeout: float, max_bytes: int, now: datetime
) -> FeedError:
    """The one place that maps an HTTP status or a foreign exception to a transient or permanent error."""
    shown = strip_userinfo(url)
    if isinstance(problem, httpx.Response):
        code = problem.status_code
        try:
            phrase = HTTPStatus(code).phrase
        except ValueError:
            phrase = "(unknown status)"
        what = f"feed {shown} answered {code} {phrase}"
        if code in (408, 429) or code >= 500:
            retry_after = _retry_after(problem.headers.get("Retry-After"), now)
            wait = f"; the server asked to wait {retry_after:.0f}s" if retry_after is not None else ""
            return TransientFeedError(f"{what}{wait}; will retry later", retry_after=retry_after)
        hint = _HINTS.get(code, "check the URL in monitor.yaml")
        return PermanentFeedError(f"{what}: {hint}")
    if isinstance(problem, _DeadlineExceeded):
        return TransientFeedError(
            f"feed {shown} took longer than {timeout:g}s overall (slow server); "
            "will retry later, or raise poll.timeout in monitor.yaml"
        )
    if isinstance(problem, _TooLarge):
        length = f"; the server announced {problem.content_length} bytes" if problem.content_length else ""
        return PermanentFeedError(
            f"feed {shown} is larger than the {max_bytes}-byte cap (stopped after {problem.read} decoded "
            f"bytes{length}); raise poll.max_bytes in monitor.yaml if the feed really is that big"
        )
    if isinstance(problem, _TooManyRedirects):
        chain = " -> ".join(strip_userinfo(hop) for hop in problem.hops)
        what = "redirects in a loop" if problem.loop else f"redirects more than {problem.limit} times"
        return PermanentFeedError(f"feed {shown} {what} ({chain}); put the final feed URL in monitor.yaml")
    if isinstance(problem, _BadUrl):
        return PermanentFeedError(f"feed {shown} {problem}; fix the URL in monitor.yaml")
    # foreign exception text may quote the URL, credentials included
    detail = scrub(strip_userinfo(f"{type(problem).__name__}: {problem}"), userinfo_secrets(url))
    if isinstance(problem, socket.gaierror):
        return TransientFeedError(f"feed {shown}: cannot resolve the host name ({detail}); will retry later")
    if isinstance(problem, httpx.TimeoutException):
        return TransientFeedError(f"feed {shown} timed out after {timeout:g}s ({detail}); will retry later")
    if isinstance(problem, httpx.UnsupportedProtocol | httpx.InvalidURL | UnicodeError | ValueError):
        return PermanentFeedError(
            f"feed {shown} is not a usable http(s) URL ({detail}); fix it in monitor.yaml"
        )
    if isinstance(problem, httpx.DecodingError):
        return PermanentFeedError(
            f"feed {shown} sent a body that cannot be decompressed ({detail}); ask the publisher to fix it"
        )
    if isinstance(problem, httpx.HTTPError | OSError):
        return TransientFeedError(f"feed {shown}: network error ({detail}); will retry later")
    return TransientFeedError(f"feed {shown}: unexpected error ({detail}); will retry later")


def _checked_url(url: str) -> httpx.URL:
    parsed = httpx.URL(url)
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise _BadUrl(f"is not an absolute http(s) URL (scheme {parsed.scheme or '(none)'!r})")
    return parsed


def is_private_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Whether a feed may not be fetched from `address` unless the operator allows private networks:
    anything not globally routable (loopback, private, link-local, reserved, shared) and multicast; an
    IPv4-mapped IPv6 address is judged as the IPv4 address it carries."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return not address.is_global or address.is_multicast


def _retry_after(value: str | None, now: datetime) -> float | None:
    """Retry-After is either delay-seconds or an HTTP date; both become seconds from now (never negative)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = as_utc(parsedate_to_datetime(value))
    except (TypeError, ValueError):
        when = None
    return None if when is None else max(0.0, (when - now).total_seconds())
