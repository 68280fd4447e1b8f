"""One exception tree for the whole program.

Foreign exceptions are classified where they enter (fetch, parse, delivery, config) so that callers
decide on retry or give-up from the class alone, never by inspecting a third-party error.
"""

from __future__ import annotations


class MonitorError(Exception):
    """Base of every error this program raises on purpose."""


# --- configuration -------------------------------------------------------------------------------


class ConfigError(MonitorError):
    """The configuration cannot be used; carries every problem found, not just the first."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


class QueryError(MonitorError):
    """A watch-rule query does not parse; `column` is 1-based within the query text."""

    def __init__(self, message: str, query: str, column: int) -> None:
        self.message = message
        self.query = query
        self.column = column
        super().__init__(f"{message} at column {column}")


# --- feeds -----------------------------------------------------------------------------------


class FeedError(MonitorError):
    """A feed could not be fetched or read. `transient` says whether retrying later may help."""

    transient: bool = True

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        self.retry_after = retry_after
        super().__init__(message)


class TransientFeedError(FeedError):
    """Timeouts, connection failures, 5xx, 429: try again after a backoff."""

    transient = True


class PermanentFeedError(FeedError):
    """404/410/401/403, not a feed, over the size cap: retrying soon will not help; back off hard."""

    transient = False


# --- storage -----------------------------------------------------------------------------------


class ConcurrentUpdate(MonitorError):
    """Another writer changed the same rows first; nothing was stored, the next poll retries the item."""


# --- delivery ----------------------------------------------------------------------------------


class DeliveryError(MonitorError):
    """A channel cannot be built because Apprise does not accept its URL; raised by `Channel()`. The text
    never contains the URL (it holds secrets). A failed send is an outcome, not an exception."""
