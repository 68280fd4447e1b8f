"""The one "did you mean" rule, so every message that names a wrong key, name or field suggests alike."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def closest(name: str, choices: Iterable[str]) -> str | None:
    """The choice nearest to `name`, if any is near enough to be a likely typo."""
    close = difflib.get_close_matches(name, list(choices), n=1)
    return close[0] if close else None


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """`; did you mean 'x'?` for the closest of `choices`, or an empty string."""
    hint = closest(name, choices)
    return f"; did you mean '{hint}'?" if hint else ""
