"""Pure parts of the pipeline: backoff arithmetic and alert evidence."""

from __future__ import annotations

from datetime import timedelta

from monitor.match import Evidence, MatchResult
from monitor.pipeline.messages import evidence_lines
from monitor.pipeline.poll import feed_backoff

FIVE_MIN = timedelta(minutes=5)
CAP = timedelta(hours=6)


def test_backoff_doubles_per_failure_and_stops_at_the_cap() -> None:
    """Transient failures wait 5, 10, 20 ... minutes, never more than the cap."""
    waits = [feed_backoff(FIVE_MIN, n, cap=CAP, permanent=False, retry_after=None) for n in (1, 2, 3, 10, 40)]
    assert waits == [FIVE_MIN, 2 * FIVE_MIN, 4 * FIVE_MIN, CAP, CAP]


def test_permanent_failures_back_off_harder_and_retry_after_is_honoured() -> None:
    """A 404 waits four times longer; a Retry-After longer than the backoff wins."""
    assert feed_backoff(FIVE_MIN, 1, cap=CAP, permanent=True, retry_after=None) == 4 * FIVE_MIN
    assert feed_backoff(FIVE_MIN, 1, cap=CAP, permanent=False, retry_after=3600) == timedelta(hours=1)
    assert feed_backoff(FIVE_MIN, 1, cap=CAP, permanent=False, retry_after=10) == FIVE_MIN
    assert feed_backoff(FIVE_MIN, 1, cap=CAP, permanent=False, retry_after=999_999_999_999) == CAP


def test_evidence_lines_list_distinct_words_per_topic_then_entities() -> None:
    """Each topic's line names the distinct words that fired it and where; entities follow."""
    match = MatchResult(
        topics=["escalation", "ceasefire"],
        watches=[],
        entities=["Armenia", "Nagorno-Karabakh"],
        evidence=[
            Evidence("term", "escalation", "shelled", "summary", 20, 27),
            Evidence("term", "escalation", "shelled", "summary", 40, 47),
            Evidence("term", "escalation", "martial law", "title", 0, 11),
            Evidence("term", "ceasefire", "truce", "title", 20, 25),
            Evidence("entity", "armenia", "Armenian", "title", 30, 38),
        ],
    )
    assert evidence_lines(match, ["escalation"]) == [
        'escalation: "shelled" (summary), "martial law" (title)',
        "entities: Armenia, Nagorno-Karabakh",
    ]
