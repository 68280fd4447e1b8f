"""Matcher semantics beyond the query language: watches, severities, entities, evidence and JSON shape."""

from __future__ import annotations

from monitor.match import Evidence, Matcher, MatchResult, WatchHit
from monitor.match.rules import EntitySpec, RulePack, TopicSpec, WatchSpec
from monitor.match.text import tokenize

PACK = RulePack(
    entities={
        "armenia": EntitySpec(aliases=["Armenia", "Armenian"]),
        "karabakh": EntitySpec(label="Nagorno-Karabakh", aliases=["Nagorno-Karabakh", "Karabakh"]),
    },
    topics={
        "ceasefire": TopicSpec(query="cease-fire OR truce", severity="medium"),
        "escalation": TopicSpec(query="shelling OR artillery", severity="high"),
        "martial": TopicSpec(query='"martial law"', severity="critical"),
    },
    watches=[
        WatchSpec(name="karabakh", query="@karabakh", topics=["ceasefire", "escalation"]),
        WatchSpec(name="any", query="@armenia"),
        WatchSpec(name="off", query="@armenia", enabled=False),
        WatchSpec(name="law", query="@armenia", topics=["martial", "ceasefire"]),
    ],
)
MATCHER = Matcher.compile(PACK)


def test_watch_fires_with_highest_severity_of_its_matched_topics() -> None:
    """A watch reports the matched topics among its own, at the highest severity of those."""
    result = MATCHER.match(title="Karabakh truce broken by shelling")
    hit = next(w for w in result.watches if w.name == "karabakh")
    assert hit == WatchHit("karabakh", "high", ["ceasefire", "escalation"])


def test_watch_without_its_topics_does_not_fire() -> None:
    """A watch with topics stays silent when its query matches but none of its topics do."""
    result = MATCHER.match(title="Karabakh wine festival")
    assert result.topics == []
    assert [w.name for w in result.watches] == []


def test_topics_listed_even_when_no_watch_fires() -> None:
    """`topics` lists every flagged topic whether or not a watch fired."""
    result = MATCHER.match(title="Artillery duel on the border")
    assert result.topics == ["escalation"]
    assert result.watches == []


def test_watch_without_topics_fires_on_query_and_disabled_watch_never_fires() -> None:
    """A topic-less watch fires on its query alone (severity from the item's topics); a disabled one never."""
    result = MATCHER.match(title="Armenia declares martial law")
    assert [(w.name, w.severity, w.topics) for w in result.watches] == [
        ("any", "critical", ["martial"]),
        ("law", "critical", ["martial"]),
    ]
    quiet = MATCHER.match(title="Armenia wins chess olympiad")
    assert [(w.name, w.severity, w.topics) for w in quiet.watches] == [("any", "medium", [])]


def test_entities_in_order_of_first_appearance_with_labels() -> None:
    """Entities are display labels ordered by first mention (title before summary)."""
    result = MATCHER.match(title="Talks on Nagorno-Karabakh", summary="Armenian officials attended")
    assert result.entities == ["Nagorno-Karabakh", "Armenia"]


def test_evidence_offsets_point_into_the_original_field() -> None:
    """Evidence quotes the source text exactly, with offsets valid in the field it came from."""
    summary = "Officials said the “cease‑fire” in Nagorno‑Karabakh held."
    result = MATCHER.match(title="Update", summary=summary)
    for ev in result.evidence:
        assert ev.field == "summary"
        assert summary[ev.start : ev.end] == ev.text
    assert [(e.kind, e.name, e.text) for e in result.evidence] == [
        ("term", "ceasefire", "cease‑fire"),
        ("entity", "karabakh", "Nagorno‑Karabakh"),
    ]


def test_to_json_shape() -> None:
    """to_json gives plain lists and dicts with the documented keys."""
    result = MatchResult(
        topics=["ceasefire"],
        watches=[WatchHit("w", "medium", ["ceasefire"])],
        entities=["Armenia"],
        evidence=[Evidence("term", "ceasefire", "truce", "title", 0, 5)],
    )
    assert result.to_json() == {
        "topics": ["ceasefire"],
        "watches": [{"name": "w", "severity": "medium", "topics": ["ceasefire"]}],
        "entities": ["Armenia"],
        "evidence": [
            {"kind": "term", "name": "ceasefire", "text": "truce", "field": "title", "start": 0, "end": 5}
        ],
    }


def test_content_field_is_matched() -> None:
    """Text in `content` counts like title and summary, and evidence names that field."""
    result = MATCHER.match(title="Update", content="Overnight shelling reported")
    assert result.topics == ["escalation"]
    assert result.evidence[0].field == "content"


def test_tokens_keep_offsets_through_unicode_folding() -> None:
    """Folding (ligatures, accents, soft hyphens) never shifts the offsets of the tokens it produces."""
    text = "Ｔürkiye’s ﬁghters cease\u00adfire"
    tokens = tokenize(text)
    assert [t.surface for t in tokens] == ["turkiye's", "fighters", "ceasefire"]
    assert [text[t.start : t.end] for t in tokens] == ["Ｔürkiye’s", "ﬁghters", "cease\u00adfire"]
