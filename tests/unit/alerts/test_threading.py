"""Message-IDs: derived from the story, watch, channel and alert number (or the digest's channel and
time), so updates thread under the first alert without a lookup, and without naming the configuration."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from monitor.alerts.threading import channel_token, digest_message_id, message_id

FOLDED_AT = datetime(2026, 1, 15, 8, 0, tzinfo=UTC)


def test_an_alert_id_is_stable_per_story_watch_channel_and_number() -> None:
    """The same alert always gets the same id (a retried send keeps it); any other alert another one."""
    first = message_id(42, "karabakh", "ops-email", 0)
    assert re.fullmatch(r"<story-42\.0\.[0-9a-f]{12}@news-monitor>", first)
    assert message_id(42, "karabakh", "ops-email", 0) == first
    others = {
        message_id(42, "karabakh", "ops-email", 1),
        message_id(43, "karabakh", "ops-email", 0),
        message_id(42, "other", "ops-email", 0),
        message_id(42, "karabakh", "chat", 0),
    }
    assert len(others) == 4 and first not in others


def test_ids_do_not_reveal_watch_or_channel_names() -> None:
    """Only hashes of the names go into an id."""
    ids = [message_id(42, "karabakh", "ops-email", 0), digest_message_id("ops-email", FOLDED_AT)]
    assert not any(name in i for i in ids for name in ("karabakh", "ops-email"))


def test_a_digest_id_names_its_channel_token_and_fold_time() -> None:
    """One digest per channel and instant: its id is made of the fold time and the channel's token."""
    token = channel_token("ops-email")
    assert re.fullmatch(r"[0-9a-f]{12}", token) and channel_token("ops-email") == token
    assert (
        digest_message_id("ops-email", FOLDED_AT)
        == f"<digest-{int(FOLDED_AT.timestamp())}.{token}@news-monitor>"
    )
