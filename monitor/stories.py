"""Item identity: canonical URLs and the per-feed key that makes an item alert at most once.

Story clustering across outlets grows here; for now each item is its own story.
"""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from monitor.items import Item

_TRACKING_PREFIXES = ("utm_",)
_TRACKING_KEYS = {"at_medium", "at_campaign", "fbclid", "gclid", "ocid", "cmpid", "mc_cid", "mc_eid"}


def canonical_url(url: str) -> str:
    """Lower-case scheme and host, no default port, no fragment, no tracking parameters."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port
    netloc = host if port is None or (scheme, port) in (("http", 80), ("https", 443)) else f"{host}:{port}"
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k.lower() not in _TRACKING_KEYS and not k.lower().startswith(_TRACKING_PREFIXES)
    ]
    return urlunsplit((scheme, netloc, parts.path or "/", urlencode(query), ""))


def item_key(item: Item) -> str:
    """The feed's guid, else the canonical link, else a hash of the text: stable across edits where
    the feed gives us something stable to hold on to."""
    if item.guid:
        return "guid:" + item.guid.strip()[:590]
    if item.link:
        return "link:" + canonical_url(item.link)[:590]
    digest = hashlib.sha256(f"{item.title}\n{item.summary}".encode()).hexdigest()
    return "hash:" + digest
