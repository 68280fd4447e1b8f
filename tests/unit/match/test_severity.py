"""Severity per matched topic: fixed levels, scores from weighted evidence, levels from thresholds."""

from __future__ import annotations

from monitor.match import Matcher, TopicSeverity, check_rules
from monitor.match.rules import RulePack, SeveritySpec, SeverityWeight, TopicSpec, WatchSpec

ESCALATION = SeveritySpec(
    base=50,
    weights=[
        SeverityWeight(query='"martial law" OR mobili*', weight=30, reason="martial law or mobilisation"),
        SeverityWeight(query="artillery OR tanks", weight=15),
        SeverityWeight(query="restraint OR talks", weight=-20, reason="calls for restraint"),
    ],
)
PACK = RulePack(
    topics={
        "escalation": TopicSpec(query='shelling OR "martial law" OR artillery', severity=ESCALATION),
        "ceasefire": TopicSpec(query="truce", severity="low"),
    },
    watches=[
        WatchSpec(name="all", query="truce OR shelling OR artillery", topics=["escalation", "ceasefire"])
    ],
)
MATCHER = Matcher.compile(PACK)


def test_score_is_base_plus_matching_weights_with_reasons() -> None:
    """Each weight whose query matches adds to the base; its reason (or its query) says why, with the sign."""
    result = MATCHER.match(title="Martial law declared as artillery pounds the city")
    assert result.severity["escalation"] == TopicSeverity(
        95, "critical", ["martial law or mobilisation (+30)", "artillery OR tanks (+15)"]
    )


def test_negative_weights_lower_the_level() -> None:
    """A call for restraint weighs against the topic and can drop it a level."""
    result = MATCHER.match(title="Shelling continues; envoys urge restraint")
    assert result.severity["escalation"] == TopicSeverity(30, "medium", ["calls for restraint (-20)"])


def test_score_is_clamped_to_0_100() -> None:
    """However many weights match, the score stays within 0-100."""
    heavy = SeveritySpec(base=90, weights=[SeverityWeight(query="shelling", weight=100)])
    light = SeveritySpec(base=10, weights=[SeverityWeight(query="shelling", weight=-100)], levels={"low": 5})
    pack = RulePack(
        topics={
            "up": TopicSpec(query="shelling", severity=heavy),
            "down": TopicSpec(query="shelling", severity=light),
        }
    )
    result = Matcher.compile(pack).match(title="Shelling")
    assert (result.severity["up"].score, result.severity["up"].level) == (100, "critical")
    assert (result.severity["down"].score, result.severity["down"].level) == (0, "low")


def test_level_is_the_highest_whose_threshold_the_score_reaches() -> None:
    """Custom thresholds decide the level; no weight matching leaves the base score."""
    spec = SeveritySpec(base=40, levels={"low": 0, "medium": 20, "high": 40, "critical": 90})
    result = Matcher.compile(RulePack(topics={"t": TopicSpec(query="shelling", severity=spec)})).match(
        title="shelling"
    )
    assert result.severity["t"] == TopicSeverity(40, "high", [])


def test_fixed_level_scores_its_threshold_and_watch_takes_the_highest_level() -> None:
    """A plain level is that level; a watch reports the highest level among its matched topics."""
    calm = MATCHER.match(title="Truce holds")
    assert calm.severity == {"ceasefire": TopicSeverity(0, "low", [])}
    assert [(w.name, w.severity) for w in calm.watches] == [("all", "low")]
    both = MATCHER.match(title="Truce broken by shelling and artillery")
    assert [(w.name, w.severity) for w in both.watches] == [("all", "high")]


def test_json_has_a_severity_object_per_matched_topic() -> None:
    """The JSON gains `severity` with score, level and reasons per matched topic, beside the old keys."""
    out = MATCHER.match(title="Martial law declared").to_json()
    assert out["severity"] == {
        "escalation": {"score": 80, "level": "high", "because": ["martial law or mobilisation (+30)"]}
    }
    assert {"topics", "watches", "entities", "evidence"} <= set(out)


def test_bad_weight_query_is_reported_under_its_yaml_path() -> None:
    """A malformed weight query is a load-time error keyed by the dotted YAML path of that query."""
    spec = SeveritySpec(
        weights=[SeverityWeight(query="ok", weight=1), SeverityWeight(query="truce AND", weight=5)]
    )
    errors = check_rules(RulePack(topics={"esc": TopicSpec(query="shelling", severity=spec)}))
    assert [(key, e.column) for key, e in errors] == [("topics.esc.severity.weights.1.query", 10)]
