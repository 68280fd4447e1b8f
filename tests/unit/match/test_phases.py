"""Phases of a topic's story: the grammar (validated like every query), which phase an item reports (the
last listed that matches, only for matched topics), its `why`, the JSON key and the --explain line; and
the shipped pack's vocabulary on invented headlines."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from monitor.config import load_config
from monitor.core.errors import ConfigError
from monitor.match import Matcher, MatchResult, check_rules
from monitor.match.explain import render
from monitor.match.rules import PhaseSpec, RulePack, TopicSpec, WatchSpec

REPO = Path(__file__).resolve().parents[3]

PACK = RulePack(
    topics={
        "ceasefire": TopicSpec(
            query="truce",
            phases=[
                PhaseSpec(name="agreed", query="agree* NEAR/4 truce", reason="a truce agreed"),
                PhaseSpec(name="in_effect", query='"took effect" OR holding'),
                PhaseSpec(name="collapsed", query="collaps*"),
            ],
        ),
        "escalation": TopicSpec(
            query="shelling",
            phases=[PhaseSpec(name="offensive", query="offensive", also_after=["ceasefire.agreed"])],
        ),
    },
    watches=[WatchSpec(name="all", query="truce OR shelling", topics=["ceasefire", "escalation"])],
)
MATCHER = Matcher.compile(PACK)

# (title, expected phases)
CASES = [
    ("Sides agree to a truce", {"ceasefire": "agreed"}),
    ("The truce took effect at dawn", {"ceasefire": "in_effect"}),
    ("The truce they agreed on Monday collapsed", {"ceasefire": "collapsed"}),  # the last listed wins
    ("Truce talks continue", {}),  # the topic matched, no phase did
    (
        "An offensive begins with shelling; the truce is holding elsewhere",
        {"ceasefire": "in_effect", "escalation": "offensive"},
    ),
    ("A new offensive on the labour market collapsed", {}),  # phases only for topics that matched
]


@pytest.mark.parametrize(("title", "expected"), CASES, ids=[c[0] for c in CASES])
def test_the_phase_an_item_reports(title: str, expected: dict[str, str]) -> None:
    """Per matched topic, the last phase in rule order whose query matches the item; none for a topic the
    item did not match."""
    assert MATCHER.match(title=title).phases == expected


def test_why_names_the_words_that_made_the_phase() -> None:
    """`why["phase:TOPIC"]` renders the satisfied branch of the phase query, like topics and watches."""
    result = MATCHER.match(title="Sides agree to a truce after shelling")
    assert result.why["phase:ceasefire"] == "agree* NEAR/4 truce"
    assert "phase:escalation" not in result.why


def test_json_has_phases_only_when_set_and_reads_back() -> None:
    """The match contract gains `phases` only for an item that reports one; it round-trips."""
    with_phase = MATCHER.match(title="Sides agree to a truce")
    assert with_phase.to_json()["phases"] == {"ceasefire": "agreed"}
    assert MatchResult.from_json(with_phase.to_json()) == with_phase
    assert "phases" not in MATCHER.match(title="Truce talks continue").to_json()
    assert MatchResult.from_json({}).phases == {}


def test_explain_prints_the_phase_and_why() -> None:
    """`match --explain` shows the phase under its topic with the words that made it."""
    title = "Sides agree to a truce"
    text = render("x", {"title": title}, MATCHER.match(title=title))
    assert "  phase    ceasefire agreed\n           because agree* NEAR/4 truce" in text


def test_explain_gives_the_phase_reason_from_the_rule_pack() -> None:
    """With the rule pack's topics, the phase line gives the phase's `reason`; a phase without one shows only
    its name, and the words that made it follow either way."""
    title = "Sides agree to a truce"
    text = render("x", {"title": title}, MATCHER.match(title=title), topics=PACK.topics)
    assert "  phase    ceasefire agreed: a truce agreed\n           because agree* NEAR/4 truce" in text
    title = "The truce took effect at dawn"
    text = render("x", {"title": title}, MATCHER.match(title=title), topics=PACK.topics)
    assert "  phase    ceasefire in_effect\n" in text


BAD = [
    (
        PhaseSpec(name="agreed", query="agree* NEAR truce"),
        "topics.ceasefire.phases.0.query",
        "expected NEAR/n with a number of words",
    ),
    (
        PhaseSpec(name="offensive", query="offensive", also_after=["ceasefire.agred"]),
        "topics.ceasefire.phases.0.also_after.0",
        "also_after: 'ceasefire.agred' is not a phase of the rule pack (write topic.phase); did you mean "
        "'ceasefire.offensive'?",
    ),
]


@pytest.mark.parametrize(("phase", "where", "message"), BAD, ids=["query", "also_after"])
def test_a_bad_phase_is_reported_with_its_place(phase: PhaseSpec, where: str, message: str) -> None:
    """A phase query that does not parse, or an also_after naming no phase, is an error at its key."""
    pack = RulePack(topics={"ceasefire": TopicSpec(query="truce", phases=[phase])})
    [(key, error)] = check_rules(pack)
    assert key == where
    assert error.message.startswith(message)


def test_phase_names_are_unique_and_well_formed() -> None:
    """Two phases of one name, or a name that is not a lower-case identifier, are refused."""
    with pytest.raises(ValidationError, match="listed twice: agreed"):
        TopicSpec(
            query="truce", phases=[PhaseSpec(name="agreed", query="a"), PhaseSpec(name="agreed", query="b")]
        )
    with pytest.raises(ValidationError):
        PhaseSpec(name="In Effect", query="a")


def test_the_last_phase_cannot_start_a_cycle() -> None:
    """`starts_cycle` marks a phase that opens a new cycle after the topic's last phase; on the last one it
    means nothing and is refused."""
    with pytest.raises(ValidationError, match="'b' is the last listed and cannot have starts_cycle"):
        TopicSpec(
            query="t",
            phases=[PhaseSpec(name="a", query="x"), PhaseSpec(name="b", query="x", starts_cycle=True)],
        )


def test_the_shipped_truce_restarts_only_when_proposed_or_agreed() -> None:
    """After a collapse only a truce proposed or agreed opens a new cycle in the shipped pack."""
    phases = load_config(REPO / "config" / "monitor.yaml").rules.topics["ceasefire"].phases
    assert [p.name for p in phases if p.starts_cycle] == ["proposed", "agreed"]


def test_a_bad_phase_query_in_a_rule_file_names_file_and_line(tmp_path: Path) -> None:
    """check-config reports a broken phase query with the rule file, line, column and caret."""
    (tmp_path / "r.yaml").write_text(
        "topics:\n"
        "  ceasefire:\n"
        "    query: truce\n"
        "    phases:\n"
        "      - name: agreed\n"
        "        query: 'agree* AND'\n",
        encoding="utf-8",
    )
    (tmp_path / "monitor.yaml").write_text(
        "database: sqlite:///x.db\nfeeds: []\nchannels: {}\nrules: [r.yaml]\n", encoding="utf-8"
    )
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "monitor.yaml")
    assert (
        f"{tmp_path / 'r.yaml'}:6:27: topics.ceasefire.phases[0].query: expected a term after 'AND'"
        in str(info.value)
    )


SHIPPED = [
    ("Mediators present a plan for a truce between the two armies", "ceasefire", "proposed"),
    ("Rival armies agree to a ceasefire after a week of shelling", "ceasefire", "agreed"),
    ("Truce brokered by the regional bloc between the two armies", "ceasefire", "agreed"),
    ("Ceasefire takes effect at midnight along the front line", "ceasefire", "in_effect"),
    ("Guns fell silent on the first day of the truce", "ceasefire", "in_effect"),
    ("Warring sides extend truce by another two weeks", "ceasefire", "extended"),
    ("Both armies accuse each other of violating the ceasefire", "ceasefire", "violated"),
    ("Truce collapses as artillery shells the border town", "ceasefire", "collapsed"),
    ("Fighting resumed after the ceasefire expired at dawn", "ceasefire", "collapsed"),
    ("Army launches a new offensive in the east, shelling villages", "escalation", "offensive"),
    ("Troops press a counteroffensive to retake the river port", "escalation", "offensive"),
    ("A ceasefire that ended the 2020 war is watched by peacekeepers", "ceasefire", None),
    ("The conflict last flared when the capital brokered a ceasefire", "ceasefire", None),
    ("UN chief calls for a ceasefire in the region", "ceasefire", None),
    ("Clashes erupt along the border as troops shell villages", "escalation", None),
]


@pytest.fixture(scope="module")
def shipped() -> Matcher:
    config = load_config(REPO / "config" / "monitor.yaml")
    return Matcher.compile(config.rules)


@pytest.mark.parametrize(("title", "topic", "phase"), SHIPPED, ids=[c[0] for c in SHIPPED])
def test_the_shipped_pack_names_the_phase(
    shipped: Matcher, title: str, topic: str, phase: str | None
) -> None:
    """The shipped conflict pack's vocabulary (invented headlines): the topic matches and the phase is the
    one a reader would name (None: background or a call, not a turn)."""
    result = shipped.match(title=title)
    assert topic in result.topics
    assert result.phases.get(topic) == phase
