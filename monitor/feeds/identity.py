"""Item identity: canonical URLs and the per-feed key that makes an item alert at most once.

Story clustering across outlets lives in `monitor.stories.clusterer`; alert decisions per story in `monitor.alerts.policy`.
URL normalisation is w3lib's (percent-encoding, query order, default ports, fragments, credentials); this
module only adds which query parameters are tracking noise and the trailing-slash rule.
"""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from w3lib.url import canonicalize_url, url_query_cleaner

from monitor.core.items import Item

TRACKING_PREFIXES = ("utm_", "at_", "mc_", "pk_", "hsa_")
TRACKING_KEYS = frozenset(
    {"fbclid", "gclid", "dclid", "msclkid", "ocid", "cmpid", "cmp", "smid", "ito", "ns_mchannel", "ns_source",
     "ns_campaign", "ns_linkname", "ns_fee", "icid", "igshid", "yclid", "_ga", "rss", "ref_src", "xtor"}
)  # fmt: skip


_DEFAULT_PORTS = {"http": 80, "https": 443}


def _tracking(key: str) -> bool:
    key = key.lower()
    return key in TRACKING_KEYS or key.startswith(TRACKING_PREFIXES)


def canonical_url(url: str) -> str:
    """One spelling per article: lower-case scheme and host, no default port, credentials or fragment,
    no tracking parameters (`utm_*`, `at_*`, `fbclid`, `ocid`...), sorted query, normalised
    percent-encoding, no trailing slash (except the root). A URL that cannot be parsed is returned as is."""
    url = url.strip()
    try:
        query = urlsplit(url).query
        tracking = [key for key, _ in parse_qsl(query, keep_blank_values=True) if _tracking(key)]
        if tracking:
            url = url_query_cleaner(url, tracking, remove=True, unique=False)
        parts = urlsplit(canonicalize_url(url))
        port = parts.port
    except ValueError:
        return url
    host = parts.hostname or ""
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    if port is not None and _DEFAULT_PORTS.get(parts.scheme) != port:
        host = f"{host}:{port}"
    path = parts.path.rstrip("/") or "/"
    return urlunsplit((parts.scheme, host, path, parts.query, ""))


def item_key(item: Item) -> str:
    """The feed's guid, else the canonical link, else a hash of the text: stable across edits where
    the feed gives us something stable to hold on to."""
    if item.guid:
        return "guid:" + item.guid.strip()[:590]
    if item.link:
        return "link:" + canonical_url(item.link)[:590]
    digest = hashlib.sha256(f"{item.title}\n{item.summary}".encode()).hexdigest()
    return "hash:" + digest
