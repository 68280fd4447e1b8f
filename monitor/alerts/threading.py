"""Email threading identity of alerts: the RFC 5322 Message-IDs of a story's first alert, its updates
and a channel's digests.

The ids are derived, never looked up: an update names the first alert it replies to from the story, watch,
channel and alert number alone, and a retried send keeps its id. They carry hashes, not names, because
a Message-ID must not reveal the configuration (watch and channel names).
"""

from __future__ import annotations

import hashlib
from datetime import datetime


def channel_token(channel: str) -> str:
    """A short stable token for a channel name."""
    return hashlib.sha256(channel.encode()).hexdigest()[:12]


def message_id(story_id: int, watch: str, channel: str, seq: int) -> str:
    """The Message-ID of alert number `seq` (0 the first alert, 1.. its updates) about a story."""
    token = hashlib.sha256(f"{watch}\0{channel}".encode()).hexdigest()[:12]
    return f"<story-{story_id}.{seq}.{token}@news-monitor>"


def digest_message_id(channel: str, folded_at: datetime) -> str:
    """The Message-ID of the channel's digest folded at `folded_at` (one digest per channel and instant)."""
    return f"<digest-{int(folded_at.timestamp())}.{channel_token(channel)}@news-monitor>"
