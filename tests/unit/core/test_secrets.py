"""monitor.core.secrets: the one scrubbing rule, and where credentials sit in a URL."""

from __future__ import annotations

import pytest

from monitor.core.secrets import (
    MASK,
    cut_urls,
    is_plain_host,
    scrub,
    secret_forms,
    split_scheme,
    strip_userinfo,
    url_secret_parts,
    userinfo_secrets,
)


def test_scrub_replaces_the_longest_secret_first() -> None:
    """A secret that contains another is hidden whole, not left as a masked fragment plus its tail."""
    assert scrub("token abc-def-ghi and abc-d", {"abc-d", "abc-def-ghi"}) == f"token {MASK} and {MASK}"
    assert scrub("nothing here", {""}) == "nothing here"


def test_secret_forms_add_percent_spellings_and_drop_short_fragments() -> None:
    """Each part is kept as written, decoded and encoded; fragments under four characters are not secrets."""
    assert secret_forms(["p%40ss:word", "ab", ""]) == {"p%40ss:word", "p@ss:word", "p%40ss%3Aword"}


@pytest.mark.parametrize(
    ("host", "plain"),
    [
        ("example.org", True),
        ("smtp.example.org", True),
        ("127.0.0.1", True),
        ("[::1]", True),
        ("localhost", True),
        ("123456789", False),
        ("AAHxyz-abcdefghijk", False),
        ("workspace", False),
    ],
)
def test_is_plain_host_tells_machine_names_from_tokens(host: str, plain: bool) -> None:
    """IP literals, localhost and DNS names name a machine; anything else in the host position is a token."""
    assert is_plain_host(host) is plain


def test_split_scheme() -> None:
    """The scheme and the rest of a URL; None for text that does not start with scheme://."""
    assert split_scheme("  json://host/path") == ("json", "host/path")
    assert split_scheme("not a url") == (None, "not a url")


def test_url_secret_parts_are_credentials_tokens_paths_and_query_values_but_not_settings() -> None:
    """Userinfo, a token host, a non-numeric port, path segments and query values are returned; plain
    hosts, numeric ports and the named settings are not."""
    parts = url_secret_parts("x://user:pw@tokenhost:tok/seg1/seg2?key=val&mode=ssl#frag", settings={"mode"})
    assert {"user", "pw", "user:pw", "tokenhost", "tok", "seg1", "seg2", "val"} <= set(parts)
    assert "ssl" not in parts and "frag" not in parts
    parts = url_secret_parts("x://example.org:587/")
    assert "example.org" not in parts and "587" not in parts


def test_userinfo_secrets_and_strip_userinfo() -> None:
    """A URL's user:password, its password raw and decoded are secrets; stripping removes them from URLs."""
    url = "https://alice:s3cr%40t@feeds.example/rss"
    assert userinfo_secrets(url) == {"alice:s3cr%40t", "s3cr%40t", "s3cr@t"}
    assert userinfo_secrets("https://feeds.example/rss") == set()
    assert strip_userinfo(f"GET {url} failed") == "GET https://feeds.example/rss failed"


def test_cut_urls_keeps_only_scheme_and_a_plain_host() -> None:
    """Every URL in a text is cut to scheme://host/…, a token host masked, requests' quoted path removed."""
    text = (
        "POST https://u:p@hooks.example.org/a/b?k=v failed, tgram://123:ABC/chat failed, with url: /a/b (x)"
    )
    assert (
        cut_urls(text) == f"POST https://hooks.example.org/… failed, tgram://{MASK}/… failed, with url: … (x)"
    )
    assert cut_urls("json://localhost and json://tokenonly") == f"json://localhost and json://{MASK}"
