"""Feed bytes → `Item`s: the only importer of feedparser.

feedparser is given bytes (through a stream, so it never fetches a URL or opens a file named by the body)
with its HTML sanitiser and relative-URI resolution off: they cost more than half of its time and
rendering sanitises anyway. Every text field leaves here as plain text.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import feedparser

from monitor.core.errors import PermanentFeedError
from monitor.core.items import Item
from monitor.feeds.text import clean_line, html_to_text

_HTML_START = re.compile(
    rb"^(?:\xef\xbb\xbf)?\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html)\b", re.I | re.S
)
_HTML_TAG = re.compile(rb"<(?:html|head|body)\b", re.I)
_HTML_TITLE = re.compile(rb"<title[^>]*>(.*?)</title", re.I | re.S)


@dataclass(frozen=True)
class ParsedFeed:
    title: str | None
    items: list[Item]


def parse_feed(body: bytes, *, url: str, content_type: str | None = None) -> ParsedFeed:
    """Parse an RSS/Atom body; raise PermanentFeedError when it is not a feed at all.

    A broken feed that still yields entries (truncated, mis-declared encoding) is returned as parsed:
    losing the readable items of a flaky outlet would be worse than accepting them.
    """
    if not body.strip():
        raise PermanentFeedError(
            f"{url} answered with an empty body, not a feed; check the URL in monitor.yaml"
        )
    if _HTML_START.match(body):
        raise _html_page(url, body)
    headers = {"content-type": content_type} if content_type else None
    parsed = feedparser.parse(
        io.BytesIO(body), response_headers=headers, sanitize_html=False, resolve_relative_uris=False
    )
    if not parsed.entries:
        problem = parsed.get("bozo_exception") if parsed.get("bozo") else None
        hard = problem is not None and not isinstance(problem, feedparser.ThingsNobodyCaresAboutButMe)
        if not parsed.get("version"):
            if _HTML_TAG.search(body[:4096]):
                raise _html_page(url, body)
            raise PermanentFeedError(
                f"{url} answered with a document that is not an RSS or Atom feed"
                f"{f' ({problem})' if problem else ''}; check the URL in monitor.yaml"
            )
        if hard:
            raise PermanentFeedError(
                f"{url} answered with a broken feed that yields no items ({problem}); "
                "ask the publisher to fix it or remove it from monitor.yaml"
            )
    feed_lang = html_to_text(parsed.feed.get("language")) or None
    items = [item for entry in parsed.entries if (item := _item(entry, feed_lang)) is not None]
    return ParsedFeed(title=html_to_text(parsed.feed.get("title")) or None, items=items)


def _item(entry: Any, feed_lang: str | None) -> Item | None:
    title = html_to_text(entry.get("title"))
    link = clean_line(entry.get("link")) or None
    if not title and not link:
        return None
    contents = entry.get("content") or []
    return Item(
        title=title,
        summary=html_to_text(entry.get("summary")),
        content=html_to_text(contents[0].get("value")) if contents else "",
        link=link,
        guid=clean_line(entry.get("id")) or None,
        published_at=_when(dict.get(entry, "published_parsed") or dict.get(entry, "updated_parsed")),
        authors=_authors(entry),
        lang=_lang(entry) or feed_lang,
    )


def _when(parsed: Any) -> datetime | None:
    """feedparser gives a UTC struct_time; make it an aware datetime (or None for nonsense dates)."""
    if not parsed:
        return None
    try:
        return datetime(*parsed[:6], tzinfo=UTC)
    except (TypeError, ValueError):
        return None


def _authors(entry: Any) -> tuple[str, ...]:
    names = [html_to_text(a.get("name") or a.get("email")) for a in entry.get("authors") or []]
    if not any(names) and entry.get("author"):
        names = [html_to_text(entry.get("author"))]
    return tuple(dict.fromkeys(name for name in names if name))


def _lang(entry: Any) -> str | None:
    for key in ("title_detail", "summary_detail"):
        lang = (entry.get(key) or {}).get("language")
        if lang:
            return str(lang).strip() or None
    return None


def _html_page(url: str, body: bytes) -> PermanentFeedError:
    match = _HTML_TITLE.search(body[:65536])
    title = html_to_text(match.group(1).decode("utf-8", "replace"))[:80] if match else ""
    shown = f" (title: {title!r})" if title else ""
    return PermanentFeedError(
        f"{url} answered with an HTML page, not a feed{shown}; check the URL in monitor.yaml"
    )
