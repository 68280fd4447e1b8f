"""The normalised news item that flows from the parser to the matcher, the store and the alerts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Item:
    title: str
    summary: str = ""
    content: str = ""
    link: str | None = None
    guid: str | None = None
    published_at: datetime | None = None
    authors: tuple[str, ...] = field(default=())
    lang: str | None = None
