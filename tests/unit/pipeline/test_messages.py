"""Pure parts of the pipeline: alert evidence."""

from __future__ import annotations

from monitor.match import Evidence, MatchResult
from monitor.pipeline.messages import evidence_lines


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
