"""parse_feed: RSS/Atom bytes to plain-text Items, and clear errors for things that are not feeds."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from monitor.core.errors import PermanentFeedError
from monitor.feeds.parser import ParsedFeed, parse_feed

RSS = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel>
    <title>Lakeside &amp; Valley Wire</title>
    <link>https://wire.example/</link>
    <language>en-gb</language>
    <item>
      <title>Truce holds in the &lt;b&gt;northern&lt;/b&gt; valley</title>
      <link>https://wire.example/news/truce-holds</link>
      <guid isPermaLink="false">wire-0001</guid>
      <description><![CDATA[<p>Both sides kept to the <a href="/x">truce</a>&nbsp;overnight.</p>
        <p>Observers   reported &quot;no shelling&quot;.</p><script>track()</script>]]></description>
      <pubDate>Tue, 05 Mar 2024 14:30:00 +0200</pubDate>
      <dc:creator>Mira Quell</dc:creator>
    </item>
    <item>
      <title>Ferry timetable changes</title>
      <link>https://wire.example/news/ferry</link>
    </item>
    <item>
      <description>An item with neither title nor link is useless and dropped.</description>
    </item>
  </channel>
</rss>
"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="fr">
  <title type="text">Bulletin des Collines</title>
  <id>urn:uuid:bulletin</id>
  <updated>2024-03-06T08:00:00Z</updated>
  <entry>
    <title type="html">Cessez-le-feu &lt;em&gt;sign\xc3\xa9&lt;/em&gt;</title>
    <link rel="alternate" href="https://bulletin.example/cessez-le-feu"/>
    <id>tag:bulletin.example,2024:42</id>
    <updated>2024-03-06T07:15:00-05:00</updated>
    <author><name>Jo Arden</name></author>
    <author><name>Sam Veil</name></author>
    <summary type="html">&lt;p&gt;Short  summary.&lt;/p&gt;</summary>
    <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">
      <p>Full <b>text</b> here.</p></div></content>
  </entry>
</feed>
"""


def test_rss_items_are_mapped_with_plain_text() -> None:
    """RSS 2.0 items become Items with plain-text title/summary, link, guid, UTC date, author and language."""
    feed = parse_feed(RSS, url="https://wire.example/rss", content_type="application/rss+xml")
    assert isinstance(feed, ParsedFeed)
    assert feed.title == "Lakeside & Valley Wire"
    first = feed.items[0]
    assert first.title == "Truce holds in the northern valley"
    assert first.summary == 'Both sides kept to the truce overnight. Observers reported "no shelling".'
    assert first.link == "https://wire.example/news/truce-holds"
    assert first.guid == "wire-0001"
    assert first.published_at == datetime(2024, 3, 5, 12, 30, tzinfo=UTC)
    assert first.authors == ("Mira Quell",)
    assert first.lang == "en-gb"


def test_items_without_title_and_link_are_dropped() -> None:
    """An entry with neither title nor link is dropped; one with a title but no guid/date is kept."""
    feed = parse_feed(RSS, url="https://wire.example/rss")
    assert [item.title for item in feed.items] == [
        "Truce holds in the northern valley",
        "Ferry timetable changes",
    ]
    second = feed.items[1]
    assert second.published_at is None and second.summary == "" and second.authors == ()


def test_atom_entries_are_mapped() -> None:
    """Atom entries map title, alternate link, id, updated date in UTC, every author, content and xml:lang."""
    feed = parse_feed(ATOM, url="https://bulletin.example/atom")
    assert feed.title == "Bulletin des Collines"
    [entry] = feed.items
    assert entry.title == "Cessez-le-feu signé"
    assert entry.link == "https://bulletin.example/cessez-le-feu"
    assert entry.guid == "tag:bulletin.example,2024:42"
    assert entry.published_at == datetime(2024, 3, 6, 12, 15, tzinfo=UTC)
    assert entry.published_at.tzinfo is UTC
    assert entry.authors == ("Jo Arden", "Sam Veil")
    assert entry.summary == "Short summary."
    assert entry.content == "Full text here."
    assert entry.lang == "fr"


def test_well_formed_feed_without_entries_is_empty_not_an_error() -> None:
    """A valid feed with zero items parses to an empty list."""
    body = b'<?xml version="1.0"?><rss version="2.0"><channel><title>Quiet</title></channel></rss>'
    assert parse_feed(body, url="https://quiet.example/rss") == ParsedFeed(title="Quiet", items=[])


def test_truncated_feed_returns_the_items_it_has() -> None:
    """A feed cut off mid-item (bozo) still returns the complete items before the cut."""
    cut = RSS[: RSS.index(b"<link>https://wire.example/news/ferry") + 20]
    feed = parse_feed(cut, url="https://wire.example/rss")
    assert feed.items[0].guid == "wire-0001"


def test_declared_encoding_wrong_still_parses() -> None:
    """A feed declaring UTF-8 but sent in Latin-1 is bozo but usable, and the text is decoded."""
    body = (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>T</title>'
        "<item><title>Caf\xe9 reopens</title><link>https://x.example/1</link></item></channel></rss>"
    ).encode("latin-1")
    [item] = parse_feed(body, url="https://x.example/rss").items
    assert item.title.startswith("Caf") and item.title.endswith(" reopens")


def test_content_type_header_is_used_for_encoding() -> None:
    """The HTTP content-type charset guides decoding of a feed without an XML declaration."""
    body = (
        '<rss version="2.0"><channel><title>Nov\xe9</title>'
        "<item><title>\xc9t\xe9</title><link>https://x.example/1</link></item></channel></rss>"
    ).encode("latin-1")
    feed = parse_feed(body, url="https://x.example/rss", content_type="application/xml; charset=iso-8859-1")
    assert feed.title == "Nové"
    assert feed.items[0].title == "Été"


@pytest.mark.parametrize(
    "body",
    [
        b"<!DOCTYPE html><html><head><title>403 ERROR</title></head><body>Blocked</body></html>",
        b"  <HTML><HEAD><TITLE>403 ERROR</TITLE></HEAD><BODY>Blocked</BODY></HTML>",
        b"<head><title>403 ERROR</title></head><body><h1>Moved</h1><p>elsewhere</body>",
        b'<?xml version="1.0"?>\n<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "x.dtd">'
        b'<html xmlns="http://www.w3.org/1999/xhtml"><head><title>403 ERROR</title></head></html>',
    ],
)
def test_html_page_is_permanent_error_naming_the_title(body: bytes) -> None:
    """An HTML page instead of a feed is a permanent error that quotes the page title and the fix."""
    with pytest.raises(PermanentFeedError) as caught:
        parse_feed(body, url="https://x.example/rss")
    assert str(caught.value) == (
        "https://x.example/rss answered with an HTML page, not a feed (title: '403 ERROR'); "
        "check the URL in monitor.yaml"
    )


@pytest.mark.parametrize("body", [b"", b"  \n\t "])
def test_empty_body_is_permanent_error(body: bytes) -> None:
    """An empty or blank body is a permanent error."""
    with pytest.raises(PermanentFeedError, match="empty body"):
        parse_feed(body, url="https://x.example/rss")


def test_xml_that_is_not_a_feed_is_permanent_error() -> None:
    """Well-formed XML that is neither RSS nor Atom is a permanent error."""
    with pytest.raises(PermanentFeedError, match="not an RSS or Atom feed"):
        parse_feed(b'<?xml version="1.0"?><config><a>1</a></config>', url="https://x.example/cfg")


def test_plain_text_is_not_mistaken_for_html() -> None:
    """A text body is reported as not a feed, without claiming it is an HTML page."""
    with pytest.raises(PermanentFeedError, match="not an RSS or Atom feed"):
        parse_feed(b"Service temporarily unavailable & more", url="https://x.example/rss")


def test_body_naming_a_local_file_is_not_opened() -> None:
    """A body that looks like a file path is parsed as data, never opened as a file."""
    with pytest.raises(PermanentFeedError):
        parse_feed(b"/etc/hostname", url="https://x.example/rss")
