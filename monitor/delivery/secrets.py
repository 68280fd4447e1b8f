"""The secret parts of a channel URL: what must never reach a log line, an error or a failure reason.

Apprise knows which fields of each service hold credentials: a plugin marks them ``private: True`` in
its ``template_tokens`` and ``template_args``, keyed by the constructor argument (``map_to``) that
Apprise's own URL parser fills. Those values, as Apprise parses them, are secret (a Telegram bot token
``123:ABC`` whole, not only the pieces the URL's shape shows). The URL's shape adds the rest, for fields
a plugin does not mark and for URLs Apprise cannot parse: user, password, a host that is not a host
name, every path segment, and every query value except the Apprise settings in `SETTINGS`
(`monitor.core.secrets.url_secret_parts`). Each part is kept in every spelling (`secret_forms`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from apprise.manager_plugins import NotificationManager
from apprise.plugins import url_to_dict

from monitor.core.secrets import cut_urls, scrub, secret_forms, url_secret_parts
from monitor.delivery import hooks

# Apprise URL query keys whose values are settings rather than secrets.
SETTINGS = frozenset(
    {"mode", "format", "overflow", "cto", "rto", "method", "verify", "retry", "wait", "name", "smtp"}
)


class Secrets(frozenset[str]):
    """The secret fragments of a channel URL; its repr hides them (vars(channel), debuggers, log dumps)."""

    def __repr__(self) -> str:
        return f"<{len(self)} secret URL parts hidden>"

    __str__ = __repr__


def secret_parts(url: str) -> Secrets:
    """Every fragment of a channel URL that must never be shown, in every spelling (see the module
    docstring); fragments shorter than four characters are left out."""
    return Secrets(secret_forms([*url_secret_parts(url, settings=SETTINGS), *_private_values(url)]))


def scrub_reason(text: str, secrets: Iterable[str]) -> str:
    """Text fit to show as a failure reason: the given secrets replaced by ***, then every URL cut to
    scheme://host (credentials, path and query removed; a host that is not a host name replaced too)."""
    return cut_urls(scrub(text, secrets))


def _private_values(url: str) -> list[str]:
    """The values Apprise parses from `url` for the fields its plugin marks private; none when Apprise
    cannot parse the URL."""
    with hooks.capturing():  # Apprise logs a URL it cannot parse; those records go nowhere
        try:
            parsed = url_to_dict(url)
            plugin = NotificationManager()[parsed["schema"]] if parsed else None
        except Exception:  # an Apprise that parses differently: the URL's shape still applies
            return []
    if plugin is None:
        return []
    values: list[str] = []
    for table in (getattr(plugin, "template_tokens", {}), getattr(plugin, "template_args", {})):
        for key, spec in table.items():
            if isinstance(spec, dict) and spec.get("private"):
                values += _strings(parsed.get(spec.get("map_to", key)))
    return values


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list | tuple | set | frozenset):
        for element in value:
            yield from _strings(element)
