"""Severity levels and their rank: one order for alert updates, routing filters and the digest's order."""

from __future__ import annotations

from typing import Literal

Severity = Literal["low", "medium", "high", "critical"]
SEVERITY_ORDER: tuple[Severity, ...] = ("low", "medium", "high", "critical")
CRITICAL: Severity = "critical"  # never held back: quiet hours, rate limits, digests and busy stretches


def level_rank(level: str | None) -> int:
    """The place in `SEVERITY_ORDER` (low first); -1 for none or unknown (stored data from older rules), so it
    ranks below low everywhere."""
    return SEVERITY_ORDER.index(level) if level in SEVERITY_ORDER else -1  # type: ignore[arg-type]
