"""Messages to the operator rather than to a channel's readers: a dead-lettered delivery, and the test
message of `news-monitor test-channel`. Built-in templates (``dead_letter_*``, ``test_*``) with the same
escaping as alerts; a channel's overrides do not apply to them."""

from __future__ import annotations

from typing import Any

from monitor.feeds.text import html_to_text as plain
from monitor.render.fields import SUBJECT_HEADLINE_MAX, shorten
from monitor.render.fitting import Plan, compose
from monitor.render.model import Limits, Message
from monitor.render.templates import templates_for


def _notice(prefix: str, fields: dict[str, Any]) -> Message:
    plan = Plan(prefix=prefix, context=lambda _form, _step: fields, steps=1, shrinking=False, links=[])
    return compose(plan, templates_for(None), Limits())


def render_dead_letter(*, delivery_id: int, watch: str, channel: str, headline: str, reason: str,
                       attempts: int) -> Message:  # fmt: skip
    """The operator's notice that an alert was given up: watch, channel name (never its URL), headline
    and the (already scrubbed) reason, and how to retry it."""
    headline = plain(headline) or "(no headline)"
    return _notice(
        "dead_letter_",
        {
            "delivery_id": delivery_id,
            "attempts": attempts,
            "watch": plain(watch),
            "channel": plain(channel),
            "headline": headline,
            "subject_headline": shorten(headline, SUBJECT_HEADLINE_MAX),
            "reason": plain(reason) or "unknown",
        },
    )


def render_test(channel: str) -> Message:
    """The short message `news-monitor test-channel` sends."""
    return _notice("test_", {"channel": plain(channel)})
