"""Keeping secrets out of text that people see: log lines, error messages, failure reasons.

The one scrubbing rule of the program. A secret is replaced by `MASK`, the longest secret first, so that
a secret containing another is hidden whole. What counts as secret is the caller's knowledge (a channel
URL's tokens, a feed URL's password); the helpers here find the usual places in a URL:

- `userinfo_secrets` / `strip_userinfo`: the ``user:password@`` of a URL, for feed URLs, which are shown
  to the operator otherwise whole;
- `url_secret_parts`: every part of a URL that may carry a credential (user, password, a host that is not
  a host name, path segments, query values other than named settings), for notification URLs, where
  services put tokens anywhere;
- `secret_forms`: each part as written, percent-decoded and percent-encoded, since libraries quote a URL
  in either spelling; fragments shorter than `MIN_SECRET` are left out (they would mangle ordinary words);
- `cut_urls`: every URL in a text reduced to ``scheme://host/…``, for text written by a library that
  quotes whole URLs (Apprise, requests).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from urllib.parse import quote, unquote

MASK = "***"
MIN_SECRET = 4  # shorter fragments are not secrets: replacing them would mangle ordinary words

_SCHEME = re.compile(r"^\s*([A-Za-z][A-Za-z0-9+.\-]*)://", re.DOTALL)
_DNS_NAME = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?\.)+[a-z]{2,24}$", re.IGNORECASE)
_USERINFO_AFTER_SLASHES = re.compile(r"(?<=//)[^/?#@\s]*@")
_USERINFO_IN_URL = re.compile(r"//([^/?#@\s]*)@")
_URL_IN_TEXT = re.compile(r"\b([A-Za-z][A-Za-z0-9+.\-]*)://[^\s'\"<>()]+")
_LEADING_USERINFO = re.compile(r"^[^/@?#]*@")
_REQUESTS_PATH = re.compile(r"(with url: )\S+")


def scrub(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret replaced by `MASK`, the longest first."""
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


def secret_forms(parts: Iterable[str]) -> set[str]:
    """Each part as written, percent-decoded and percent-encoded, leaving out forms shorter than
    `MIN_SECRET`."""
    found: set[str] = set()
    for part in parts:
        for form in (part, unquote(part), quote(unquote(part), safe="")):
            if len(form) >= MIN_SECRET:
                found.add(form)
    return found


def split_scheme(url: str) -> tuple[str | None, str]:
    """(scheme, the rest after ``://``), or (None, url) when `url` does not start with ``scheme://``."""
    match = _SCHEME.match(url)
    return (match.group(1), url[match.end() :]) if match else (None, url)


def is_plain_host(host: str) -> bool:
    """Whether a URL's host is an IP literal, ``localhost`` or a DNS name: something that names a machine
    and may be shown, rather than a token that a notification URL carries in the host position
    (``tgram://TOKEN/...``)."""
    try:
        ipaddress.ip_address(host.strip("[]"))
        return True
    except ValueError:
        return host.lower() == "localhost" or bool(_DNS_NAME.match(host))


def url_secret_parts(url: str, *, settings: frozenset[str] = frozenset()) -> list[str]:
    """The parts of `url` that may carry a credential, as written: user, password and the whole userinfo,
    a host that is not `is_plain_host`, a port that is not a number, every path segment, and every query
    value whose (case-insensitive) key is not in `settings`. Pass them through `secret_forms`."""
    rest = split_scheme(url)[1]
    rest, _, query = rest.partition("?")
    rest = rest.partition("#")[0]
    netloc, _, path = rest.partition("/")
    userinfo, at, hostport = netloc.rpartition("@")
    parts: list[str] = []
    if at:
        user, _, password = userinfo.partition(":")
        parts += [user, password, userinfo]
    host, _, port = hostport.partition(":") if not hostport.startswith("[") else (hostport, "", "")
    if host and not is_plain_host(unquote(host)):
        parts.append(host)
    if port and not port.isdigit():
        parts.append(port)
    parts += path.split("/")
    for pair in query.split("&"):
        key, _, value = pair.partition("=")
        if key.lower() not in settings:
            parts.append(value)
    return parts


def userinfo_secrets(url: str) -> set[str]:
    """The ``user:password`` of `url`, its password, and the password percent-decoded (none empty)."""
    match = _USERINFO_IN_URL.search(url)
    if not match:
        return set()
    userinfo = match.group(1)
    password = userinfo.partition(":")[2]
    return {s for s in (userinfo, password, unquote(password)) if s}


def strip_userinfo(text: str) -> str:
    """`text` (a URL, or text quoting URLs) without any ``user:password@`` after ``//``."""
    return _USERINFO_AFTER_SLASHES.sub("", text)


def _cut_url(match: re.Match[str]) -> str:
    scheme = match.group(1)
    rest = _LEADING_USERINFO.sub("", match.group(0)[len(scheme) + 3 :])
    host = re.split(r"[/?#]", rest, maxsplit=1)[0]
    shown = host if is_plain_host(host.rsplit(":", 1)[0]) else MASK
    tail = "/…" if len(rest) > len(host) else ""
    return f"{scheme}://{shown}{tail}"


def cut_urls(text: str) -> str:
    """`text` with every URL cut to ``scheme://host/…`` (credentials, path and query removed; a host that
    is not `is_plain_host` masked too), and the path requests quotes after ``with url:`` removed."""
    return _REQUESTS_PATH.sub(r"\1…", _URL_IN_TEXT.sub(_cut_url, text))
