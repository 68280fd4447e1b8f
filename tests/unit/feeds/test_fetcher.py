"""Fetcher: conditional GET, caps, redirects, private-network guard and error classification."""

from __future__ import annotations

import gzip
import ipaddress
import re
import socket
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler

import httpx
import pytest

from monitor.core.errors import PermanentFeedError, TransientFeedError
from monitor.feeds import fetcher as fetch_module
from monitor.feeds.fetcher import Fetcher, FetchResult, is_private_address
from tests.helpers.clock import FakeClock
from tests.helpers.feed_server import feed_server

FEED = b'<?xml version="1.0"?><rss version="2.0"><channel><title>Test wire</title></channel></rss>'
NOW = datetime(2024, 3, 1, 12, 0, 0, tzinfo=UTC)


Handler = Callable[[httpx.Request], httpx.Response]


def fetcher(handler: Handler, **kwargs: object) -> Fetcher:
    options: dict[str, object] = {"timeout": 5.0, "max_bytes": 100_000, "allow_private_networks": True}
    options.update(kwargs)
    return Fetcher(transport=httpx.MockTransport(handler), clock=FakeClock(NOW), **options)  # type: ignore[arg-type]


def fetch(handler: Handler, url: str = "https://feeds.example/rss", **kwargs: object) -> FetchResult:
    with fetcher(handler, **kwargs) as client:
        return client.fetch(url)


def test_200_returns_body_validators_and_content_type() -> None:
    """A 200 yields the body, ETag, Last-Modified, content type and final URL."""

    def handler(request: httpx.Request) -> httpx.Response:
        headers = {"ETag": '"v1"', "Last-Modified": "Fri, 01 Mar 2024 10:00:00 GMT"}
        return httpx.Response(200, content=FEED, headers={**headers, "Content-Type": "application/rss+xml"})

    result = fetch(handler)
    assert result == FetchResult(
        status=200,
        body=FEED,
        etag='"v1"',
        last_modified="Fri, 01 Mar 2024 10:00:00 GMT",
        url="https://feeds.example/rss",
        content_type="application/rss+xml",
    )
    assert not result.not_modified


def test_request_headers_describe_us_and_prefer_feeds() -> None:
    """Requests carry a descriptive User-Agent, an Accept preferring RSS/Atom, and accept gzip."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=FEED)

    fetch(handler)
    headers = seen[0].headers
    assert headers["User-Agent"].startswith("news-monitor/")
    assert headers["Accept"].startswith("application/rss+xml")
    assert "gzip" in headers["Accept-Encoding"]
    assert "If-None-Match" not in headers and "If-Modified-Since" not in headers


def test_304_sends_validators_and_keeps_them_when_server_omits_them() -> None:
    """Validators are sent as If-None-Match/If-Modified-Since, and a bare 304 keeps the previous ones."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(304)

    with fetcher(handler) as client:
        result = client.fetch("https://feeds.example/rss", etag='"v1"', last_modified="Thu, 29 Feb 2024")
    assert seen[0].headers["If-None-Match"] == '"v1"'
    assert seen[0].headers["If-Modified-Since"] == "Thu, 29 Feb 2024"
    assert result.not_modified and result.status == 304 and result.body is None
    assert (result.etag, result.last_modified) == ('"v1"', "Thu, 29 Feb 2024")


def test_304_takes_new_validators_when_sent() -> None:
    """A 304 that carries a fresh ETag replaces the old one."""
    with fetcher(lambda request: httpx.Response(304, headers={"ETag": '"v2"'})) as client:
        result = client.fetch("https://feeds.example/rss", etag='"v1"')
    assert result.etag == '"v2"'


@pytest.mark.parametrize(
    ("status", "hint"),
    [
        (410, "410 Gone: the feed was removed; update or delete it in monitor.yaml"),
        (404, "404 Not Found: the feed is not at this address; check the URL in monitor.yaml"),
        (403, "403 Forbidden"),
        (401, "401 Unauthorized"),
        (400, "400 Bad Request"),
    ],
)
def test_client_errors_are_permanent_and_say_how_to_fix(status: int, hint: str) -> None:
    """4xx answers (other than 408/429) are permanent, naming the URL and the status."""
    with pytest.raises(PermanentFeedError) as caught:
        fetch(lambda request: httpx.Response(status))
    assert "https://feeds.example/rss" in str(caught.value)
    assert hint in str(caught.value)


@pytest.mark.parametrize("status", [500, 502, 503, 504, 408, 429])
def test_server_errors_timeouts_and_throttling_are_transient(status: int) -> None:
    """5xx, 408 and 429 are transient; without Retry-After there is no retry_after."""
    with pytest.raises(TransientFeedError) as caught:
        fetch(lambda request: httpx.Response(status))
    assert caught.value.retry_after is None
    assert str(status) in str(caught.value)


def test_429_retry_after_seconds() -> None:
    """A 429 with Retry-After in seconds sets retry_after to those seconds."""
    with pytest.raises(TransientFeedError) as caught:
        fetch(lambda request: httpx.Response(429, headers={"Retry-After": "120"}))
    assert caught.value.retry_after == 120.0
    assert "wait 120s" in str(caught.value)


def test_503_retry_after_http_date() -> None:
    """A 503 with Retry-After as an HTTP date sets retry_after to the seconds from now until then."""
    with pytest.raises(TransientFeedError) as caught:
        fetch(lambda request: httpx.Response(503, headers={"Retry-After": "Fri, 01 Mar 2024 12:05:00 GMT"}))
    assert caught.value.retry_after == 300.0


def test_retry_after_http_date_without_a_zone_is_utc() -> None:
    """A Retry-After date with the unknown zone -0000 is read as UTC."""
    with pytest.raises(TransientFeedError) as caught:
        fetch(lambda request: httpx.Response(503, headers={"Retry-After": "Fri, 01 Mar 2024 12:05:00 -0000"}))
    assert caught.value.retry_after == 300.0


def test_retry_after_in_the_past_or_garbage() -> None:
    """A Retry-After date in the past means 0 seconds; an unparseable one is ignored."""
    with pytest.raises(TransientFeedError) as past:
        fetch(lambda request: httpx.Response(429, headers={"Retry-After": "Fri, 01 Mar 2024 11:00:00 GMT"}))
    assert past.value.retry_after == 0.0
    with pytest.raises(TransientFeedError) as garbage:
        fetch(lambda request: httpx.Response(429, headers={"Retry-After": "soon"}))
    assert garbage.value.retry_after is None


@pytest.mark.parametrize(
    "error", [httpx.ReadTimeout, httpx.ConnectTimeout, httpx.ConnectError, httpx.ReadError]
)
def test_timeouts_and_connection_errors_are_transient(error: type[httpx.TransportError]) -> None:
    """Timeouts and connection failures raised by the transport are transient."""

    def handler(request: httpx.Request) -> httpx.Response:
        raise error("boom", request=request)

    with pytest.raises(TransientFeedError, match=re.escape("https://feeds.example/rss")):
        fetch(handler)


def test_body_over_cap_is_permanent() -> None:
    """A body larger than max_bytes stops the download with a permanent error naming the cap and the fix."""
    with pytest.raises(PermanentFeedError) as caught:
        fetch(lambda request: httpx.Response(200, content=b"x" * 5000), max_bytes=1000)
    message = str(caught.value)
    assert "1000-byte cap" in message and "raise poll.max_bytes" in message


def test_cap_applies_to_decoded_gzip_bytes() -> None:
    """A small gzip body that decompresses past max_bytes is refused (the cap is on decoded bytes)."""
    bomb = gzip.compress(b"a" * 200_000)
    assert len(bomb) < 1000

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=bomb, headers={"Content-Encoding": "gzip"})

    with pytest.raises(PermanentFeedError, match=re.escape("raise poll.max_bytes")):
        fetch(handler, max_bytes=10_000)


def test_gzip_body_is_decoded() -> None:
    """A gzip-encoded body comes back decompressed."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=gzip.compress(FEED), headers={"Content-Encoding": "gzip"})

    assert fetch(handler).body == FEED


def redirecting(chain: dict[str, str]) -> Handler:
    """A handler that redirects path → location per `chain` and serves FEED elsewhere."""

    def handler(request: httpx.Request) -> httpx.Response:
        target = chain.get(request.url.path)
        if target is not None:
            return httpx.Response(302, headers={"Location": target})
        return httpx.Response(200, content=FEED)

    return handler


def test_three_redirects_are_followed_and_final_url_reported() -> None:
    """Up to max_redirects hops are followed and the result names the final URL."""
    result = fetch(redirecting({"/r3": "/r2", "/r2": "/r1", "/r1": "/feed"}), url="https://feeds.example/r3")
    assert result.body == FEED
    assert result.url == "https://feeds.example/feed"


def test_redirect_loop_is_permanent() -> None:
    """A redirect loop is a permanent error that shows the chain and says to fix the URL."""
    with pytest.raises(PermanentFeedError, match="loop") as caught:
        fetch(redirecting({"/a": "/b", "/b": "/a"}), url="https://feeds.example/a")
    assert "monitor.yaml" in str(caught.value)


def test_too_many_redirects_is_permanent() -> None:
    """More than max_redirects (5) hops is a permanent error."""
    chain = {f"/r{n}": f"/r{n - 1}" for n in range(1, 8)}
    with pytest.raises(PermanentFeedError, match="more than 5 times"):
        fetch(redirecting(chain), url="https://feeds.example/r7")


def test_redirect_to_non_http_scheme_is_permanent() -> None:
    """A redirect to a non-http(s) URL is a permanent error naming the target."""
    with pytest.raises(PermanentFeedError, match=re.escape("redirects to a non-http(s) URL, ftp://")):
        fetch(redirecting({"/feed": "ftp://files.example/feed.xml"}), url="https://feeds.example/feed")


@pytest.mark.parametrize(
    ("address", "private"),
    [
        ("93.184.216.34", False),
        ("2606:2800:220:1:248:1893:25c8:1946", False),
        ("127.0.0.1", True),
        ("10.1.2.3", True),
        ("192.168.1.20", True),
        ("169.254.169.254", True),
        ("100.64.0.1", True),
        ("224.0.0.1", True),
        ("::1", True),
        ("fe80::1", True),
        ("::ffff:127.0.0.1", True),
        ("::ffff:93.184.216.34", False),
    ],
)
def test_is_private_address(address: str, private: bool) -> None:
    """Anything not globally routable, and multicast, is private; an IPv4-mapped IPv6 address counts as
    the IPv4 address it carries."""
    assert is_private_address(ipaddress.ip_address(address)) is private


def test_private_address_refused_by_default() -> None:
    """A loopback target is refused before connecting unless allow_private_networks is set."""
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(200, content=FEED)

    with pytest.raises(PermanentFeedError, match=r"poll\.allow_private_networks: true"):
        fetch(handler, url="http://127.0.0.1:8080/feed", allow_private_networks=False)
    assert calls == []
    assert fetch(handler, url="http://127.0.0.1:8080/feed", allow_private_networks=True).body == FEED


def test_private_address_refused_on_redirect_hop() -> None:
    """A public feed redirecting to a private address is refused at that hop."""
    handler = redirecting({"/feed": "http://10.1.2.3/admin"})
    with pytest.raises(PermanentFeedError, match=re.escape("10.1.2.3")):
        fetch(handler, url="http://93.184.216.34/feed", allow_private_networks=False)


def test_host_name_resolving_to_private_address_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """A host name is resolved first, and refused if any of its addresses is private."""

    def fake_getaddrinfo(host: str, port: int, *args: object, **kwargs: object) -> list[tuple]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("192.168.1.20", port))]

    monkeypatch.setattr(fetch_module.socket, "getaddrinfo", fake_getaddrinfo)
    with pytest.raises(PermanentFeedError, match=re.escape("192.168.1.20")):
        fetch(lambda request: httpx.Response(200, content=FEED), allow_private_networks=False)


def test_dns_failure_is_transient(monkeypatch: pytest.MonkeyPatch) -> None:
    """A host name that does not resolve is a transient error."""

    def failing_getaddrinfo(*args: object, **kwargs: object) -> list[tuple]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(fetch_module.socket, "getaddrinfo", failing_getaddrinfo)
    with pytest.raises(TransientFeedError, match="cannot resolve"):
        fetch(lambda request: httpx.Response(200, content=FEED), allow_private_networks=False)


@pytest.mark.parametrize("url", ["ftp://feeds.example/rss", "feeds.example/rss", "file:///etc/passwd"])
def test_non_http_url_is_permanent(url: str) -> None:
    """A URL that is not absolute http(s) is a permanent configuration error."""
    with pytest.raises(PermanentFeedError, match=re.escape("monitor.yaml")):
        fetch(lambda request: httpx.Response(200, content=FEED), url=url)


def test_credentials_never_appear_in_errors_or_results() -> None:
    """User:password in the feed URL is stripped from error messages and from the result URL."""
    url = "https://alice:s3cr3t-pw@feeds.example/private.xml"

    def refuses(request: httpx.Request) -> httpx.Response:
        return httpx.Response(403)

    def quotes_url(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"cannot connect to {url} (s3cr3t-pw)", request=request)

    for handler in (refuses, quotes_url):
        with pytest.raises(Exception) as caught:
            fetch(handler, url=url)
        assert "s3cr3t" not in str(caught.value) and "alice" not in str(caught.value)
        assert "feeds.example/private.xml" in str(caught.value)
    result = fetch(lambda request: httpx.Response(200, content=FEED), url=url)
    assert result.url == "https://feeds.example/private.xml"


# --- real loopback server ---------------------------------------------------------------------


def _drip(handler: BaseHTTPRequestHandler) -> None:
    """200 bytes over 10 s: each read succeeds, the whole never ends."""
    handler.send_response(200)
    handler.send_header("Content-Type", "application/rss+xml")
    handler.send_header("Content-Length", "200")
    handler.end_headers()
    try:
        for _ in range(200):
            handler.wfile.write(b" ")
            handler.wfile.flush()
            time.sleep(0.05)
    except OSError:
        pass  # the client gave up, as it should


def _gzip(handler: BaseHTTPRequestHandler) -> None:
    body = gzip.compress(FEED)
    handler.send_response(200)
    handler.send_header("Content-Encoding", "gzip")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


@pytest.fixture(scope="module")
def loopback() -> Iterator[str]:
    with feed_server() as server:
        server.scripted.update({"/drip": _drip, "/gzip": _gzip})
        yield server.url("")


def test_slow_drip_server_hits_overall_deadline(loopback: str) -> None:
    """A server that keeps dripping bytes is cut off by the overall deadline, not held forever."""
    with Fetcher(timeout=0.5, max_bytes=100_000, allow_private_networks=True) as client:
        started = time.monotonic()
        with pytest.raises(TransientFeedError, match=re.escape("longer than 0.5s overall")):
            client.fetch(f"{loopback}/drip")
        elapsed = time.monotonic() - started
    assert 0.45 <= elapsed < 5.0  # the server drips for 10 s: only the deadline ends it this soon


def test_real_gzip_response_is_decoded(loopback: str) -> None:
    """A real gzip-encoded HTTP response is decompressed."""
    with Fetcher(timeout=5, max_bytes=100_000, allow_private_networks=True) as client:
        result = client.fetch(f"{loopback}/gzip")
    assert result.body == FEED


def test_real_loopback_refused_without_opt_in(loopback: str) -> None:
    """The default Fetcher refuses a real loopback server."""
    with (
        Fetcher(timeout=5, max_bytes=100_000) as client,
        pytest.raises(PermanentFeedError, match="allow_private_networks"),
    ):
        client.fetch(f"{loopback}/gzip")


@pytest.mark.parametrize("host", ["a" * 70 + ".example.com", "xn--a.com"])
def test_unencodable_host_names_are_permanent_errors_not_crashes(host: str) -> None:
    """Host names that IDNA cannot encode (over-long label, bad punycode) are classified, never raised raw."""
    with (
        Fetcher(timeout=1, max_bytes=1000, allow_private_networks=True) as fetcher,
        pytest.raises(PermanentFeedError, match="not a usable http"),
    ):
        fetcher.fetch(f"http://{host}/rss")
