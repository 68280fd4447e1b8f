"""Item identity: canonical URLs and per-feed keys."""

from __future__ import annotations

import pytest

from monitor.core.items import Item
from monitor.feeds.identity import canonical_url, item_key


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("HTTPS://Example.ORG:443/a/b?utm_source=rss&id=7#top", "https://example.org/a/b?id=7"),
        ("http://example.org:80", "http://example.org/"),
        ("http://example.org:8080/x?fbclid=abc&ocid=1&at_medium=feed", "http://example.org:8080/x"),
    ],
)
def test_canonical_url_drops_case_default_ports_fragments_and_tracking(url: str, canonical: str) -> None:
    """Two links to the same article that differ only in tracking noise canonicalise alike."""
    assert canonical_url(url) == canonical


def test_item_key_prefers_guid_then_link_then_text() -> None:
    """A retitled item with the same guid keeps its key; without guid the canonical link is used."""
    assert item_key(Item(title="a", guid="g1")) == item_key(Item(title="edited", guid="g1"))
    assert item_key(Item(title="a", link="https://x.org/1?utm_medium=x")) == "link:https://x.org/1"
    assert item_key(Item(title="a")).startswith("hash:") and item_key(Item(title="a")) != item_key(
        Item(title="b")
    )


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("https://Example.org/news/a/?utm_campaign=x&utm_medium=rss", "https://example.org/news/a"),
        ("https://example.org/a?b=2&a=1", "https://example.org/a?a=1&b=2"),
        ("https://user:secret@example.org/a", "https://example.org/a"),
        (
            "https://www.bbc.co.uk/news/world-1?at_medium=RSS&at_campaign=KARANGA",
            "https://www.bbc.co.uk/news/world-1",
        ),
        ("https://example.org/caf%c3%a9 x", "https://example.org/caf%C3%A9%20x"),
    ],
)
def test_canonical_url_trailing_slash_query_order_credentials_and_encoding(url: str, canonical: str) -> None:
    """Trailing slashes, parameter order, credentials and percent-encoding case do not make a new article."""
    assert canonical_url(url) == canonical


def test_canonical_url_leaves_unparseable_text_alone() -> None:
    """A link that is not a URL (a broken feed) is kept rather than raising."""
    assert canonical_url("http://[not-an-ip/x") == "http://[not-an-ip/x"
