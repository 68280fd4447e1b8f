"""Match results and their JSON form: what `news-monitor match` prints and what the store keeps with an
item, read back into the same typed result."""

from __future__ import annotations

import json
from typing import Any

import pytest

from monitor.match import Evidence, Genre, Matcher, MatchResult, TopicSeverity, WatchHit
from monitor.match.rules import EntitySpec, RulePack, SeveritySpec, SeverityWeight, TopicSpec, WatchSpec

NOTHING = MatchResult(topics=[], watches=[], entities=[])
FLAGGED = MatchResult(topics=["ceasefire"], watches=[], entities=["Armenia"])
FULL = MatchResult(
    topics=["escalation", "ceasefire"],
    watches=[WatchHit("karabakh", "high", ["escalation"]), WatchHit("all", "low", ["ceasefire"])],
    entities=["Armenia", "Nagorno-Karabakh"],
    evidence=[
        Evidence("term", "escalation", "shelled", "summary", 10, 17),
        Evidence("entity", "armenia", "Armenian", "title", 0, 8),
    ],
    severity={
        "escalation": TopicSeverity(70, "high", ["martial law or mobilisation (+30)"]),
        "ceasefire": TopicSeverity(20, "low"),
    },
    why={"escalation": "shelled", "watch:karabakh": "@armenia AND escalation"},
)

PACK = RulePack(
    entities={"armenia": EntitySpec(aliases=["Armenia", "Armenian"])},
    topics={
        "escalation": TopicSpec(
            query='shelling OR "martial law"',
            severity=SeveritySpec(
                base=40, weights=[SeverityWeight(query='"martial law"', weight=30, reason="martial law")]
            ),
        ),
        "ceasefire": TopicSpec(query="truce"),
    },
    watches=[WatchSpec(name="w", query="@armenia", topics=["escalation", "ceasefire"])],
)
MATCHED = Matcher.compile(PACK).match(
    title="Armenia declares martial law", summary="The truce collapsed after shelling"
)
COMMENTARY = Matcher.compile(PACK).match(
    title="Armenia declares martial law", link="https://news.example.org/world/live/2024/armenia"
)


@pytest.mark.parametrize(
    "result",
    [NOTHING, FLAGGED, FULL, MATCHED, COMMENTARY],
    ids=["nothing", "flagged", "full", "matcher", "commentary"],
)
def test_a_result_reads_back_from_its_json_unchanged(result: MatchResult) -> None:
    """`from_json` undoes `to_json`, and writing the result read back gives the same JSON text."""
    data = json.loads(json.dumps(result.to_json()))  # as stored: through JSON text
    again = MatchResult.from_json(data)
    assert again == result
    assert json.dumps(again.to_json()) == json.dumps(result.to_json())


STORED_ROWS = [
    '{"topics": [], "watches": [], "entities": [], "evidence": []}',
    '{"topics": ["escalation"], "watches": [{"name": "w", "severity": "high", "topics": ["escalation"]}], '
    '"entities": ["Armenia"], "evidence": [{"kind": "term", "name": "escalation", "text": "shelling", '
    '"field": "title", "start": 4, "end": 12}], "severity": {"escalation": {"score": 70, "level": "high", '
    '"because": ["martial law (+30)"]}}, "why": {"escalation": "shelling", "watch:w": "@armenia"}}',
    '{"topics": ["escalation"], "watches": [], "entities": [], "evidence": [], '
    '"genre": {"kind": "opinion", "cue": "link /opinion/"}}',
]


@pytest.mark.parametrize("text", STORED_ROWS, ids=["no match", "full", "genre"])
def test_a_stored_row_reads_and_writes_back_byte_for_byte(text: str) -> None:
    """Rows already in a database read as results whose JSON is the stored text, key order included."""
    assert json.dumps(MatchResult.from_json(json.loads(text)).to_json()) == text


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({}, NOTHING),
        ({"topics": ["ceasefire"], "entities": ["Armenia"]}, FLAGGED),
    ],
    ids=["empty", "partial"],
)
def test_missing_keys_read_as_empty(data: dict[str, Any], expected: MatchResult) -> None:
    """An item stored without a match result reads as one that matched nothing."""
    assert MatchResult.from_json(data) == expected


def test_watch_finds_the_hit_of_one_watch() -> None:
    """The hit of a watch that fired, None for one that did not."""
    assert FULL.watch("all") == WatchHit("all", "low", ["ceasefire"])
    assert FULL.watch("elsewhere") is None
    assert MATCHED.watch("w") is not None


def test_genre_is_set_and_written_only_for_a_matched_commentary_item() -> None:
    """A matched item on a live page carries "genre"; an event report does not; an item that matches
    nothing keeps the four-key shape even on a commentary link (its genre is not even looked at)."""
    matcher = Matcher.compile(PACK)
    assert COMMENTARY.genre == Genre("live", "link /live/")
    assert COMMENTARY.to_json()["genre"] == {"kind": "live", "cue": "link /live/"}
    event = matcher.match(title="Armenia declares martial law", link="https://news.example.org/world/2024/a")
    assert event.genre is None and "genre" not in event.to_json()
    nothing = matcher.match(title="Opinion: a quiet week", link="https://news.example.org/opinion/2024/b")
    assert nothing.genre is None
    assert list(nothing.to_json()) == ["topics", "watches", "entities", "evidence"]
