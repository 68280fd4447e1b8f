"""Pure parts of the pipeline: alert evidence."""

from __future__ import annotations

from monitor.pipeline import evidence_lines


def test_evidence_lines_list_distinct_words_per_topic_then_entities() -> None:
    """Each topic's line names the distinct words that fired it and where; entities follow."""
    match = {
        "entities": ["Armenia", "Nagorno-Karabakh"],
        "evidence": [
            {"kind": "term", "name": "escalation", "text": "shelled", "field": "summary"},
            {"kind": "term", "name": "escalation", "text": "shelled", "field": "summary"},
            {"kind": "term", "name": "escalation", "text": "martial law", "field": "title"},
            {"kind": "term", "name": "ceasefire", "text": "truce", "field": "title"},
            {"kind": "entity", "name": "armenia", "text": "Armenian", "field": "title"},
        ],
    }
    assert evidence_lines(match, ["escalation"]) == [
        'escalation: "shelled" (summary), "martial law" (title)',
        "entities: Armenia, Nagorno-Karabakh",
    ]
