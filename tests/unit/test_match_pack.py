"""The shipped rule pack (config/rules/*.yaml) on the seed article, on traps, and on keyword-free reports."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from monitor.match import Matcher, check_rules
from monitor.match.rules import RuleFile, RulePack

ROOT = Path(__file__).parents[2]
RULES = ROOT / "config" / "rules"
SEED = Path(__file__).parents[2].parent / "shared" / "seed" / "seed-article.txt"


def _load_pack() -> RulePack:
    entities, topics, watches = {}, {}, []
    for file in sorted(RULES.glob("*.yaml")):
        rule_file = RuleFile.model_validate(yaml.safe_load(file.read_text(encoding="utf-8")) or {})
        entities.update(rule_file.entities)
        topics.update(rule_file.topics)
        watches.extend(rule_file.watches)
    return RulePack(entities=entities, topics=topics, watches=watches)


PACK = _load_pack()
MATCHER = Matcher.compile(PACK)


def test_shipped_pack_is_valid() -> None:
    """Every query of the shipped pack parses and the required topics and watch exist."""
    assert check_rules(PACK) == []
    assert {"ceasefire", "escalation"} <= set(PACK.topics)
    assert PACK.topics["escalation"].severity == "high"
    assert PACK.topics["ceasefire"].severity == "medium"
    karabakh = next(w for w in PACK.watches if w.name == "karabakh")
    assert karabakh.topics == ["ceasefire", "escalation"]
    assert karabakh.notify == ["console"]


@pytest.mark.skipif(not SEED.is_file(), reason=f"seed article not found at {SEED} (../shared is absent)")
def test_seed_article() -> None:
    """The reference TASS article is flagged ceasefire and escalation, fires the karabakh watch, names its entities."""
    lines = [line.strip() for line in SEED.read_text(encoding="utf-8").splitlines()]
    lines = [line for line in lines if line and line != "All news"]
    result = MATCHER.match(title=lines[0], summary="\n".join(lines[1:]))
    assert set(result.topics) == {"ceasefire", "escalation"}
    assert [(w.name, w.severity, sorted(w.topics)) for w in result.watches] == [
        ("karabakh", "high", ["ceasefire", "escalation"])
    ]
    assert set(result.entities) == {
        "Azerbaijan",
        "Armenia",
        "Russia",
        "Nagorno-Karabakh",
        "Stepanakert",
        "Baku",
        "Lavrov",
        "Bayramov",
        "OSCE Minsk Group",
    }
    russia = [e for e in result.evidence if e.kind == "entity" and e.name == "russia"]
    assert russia and russia[0].text == "Russian"
    assert {"ceasefire"} <= {e.text.lower() for e in result.evidence if e.name == "ceasefire"}
    assert {"shelling", "martial law"} <= {e.text.lower() for e in result.evidence if e.name == "escalation"}


TRAPS = [
    ("Supermarket price war escalates as chains slash the cost of bread", ""),
    ("Offensive line dominates as the home side wins the football game", "The quarterback was sacked twice."),
    ("Union escalates dispute with rail operator over pay", "Workers will strike for three days next week."),
    ("A truce in the culture wars? Museum and critics make peace over statues", ""),
    ("Shop robbery: man threatens cashier with a knife and flees with cash", "Police arrested a suspect."),
    ("Tech giants call a truce in their patent battle", "The two rival companies settled lawsuits."),
    ("Shell shares rise after strong quarter", "The energy company raised its dividend."),
    ("Storm forces schools to close", "Heavy rain battered the coast."),
    ("Heart attack risk rises with air pollution", ""),
    ("Campaign mobilises volunteers to knock on doors", ""),
]


@pytest.mark.parametrize(("title", "summary"), TRAPS, ids=[t for t, _ in TRAPS])
def test_traps_flag_nothing(title: str, summary: str) -> None:
    """Everyday uses of conflict words (prices, sport, labour, culture wars, crime, business) flag no topic."""
    assert MATCHER.match(title=title, summary=summary).topics == []


ESCALATIONS = [
    "Missiles hit the capital overnight",
    "Troops pushed towards the city",
    "Tanks entered the northern suburbs at dawn",
    "Government declares martial law and orders partial mobilisation",
    "Artillery shelling of border villages resumed",
    "Drone attack sets fuel depot ablaze",
    "Rebels seized two towns as government forces withdrew",
]


@pytest.mark.parametrize("title", ESCALATIONS)
def test_reports_without_the_word_escalation_flag_escalation(title: str) -> None:
    """Reports of hostilities are flagged escalation even with none of the obvious keywords."""
    assert "escalation" in MATCHER.match(title=title).topics


CEASEFIRES = [
    "Warring sides agree to a cease-fire from midnight",
    "Truce between the army and rebels collapses",
    "Both sides agree to a humanitarian pause in the fighting",
    "Armistice talks resume in the capital",
]


@pytest.mark.parametrize("title", CEASEFIRES)
def test_ceasefire_phases_flag_ceasefire(title: str) -> None:
    """A truce in any phase (agreed, collapsing, paused, negotiated) is flagged ceasefire."""
    assert "ceasefire" in MATCHER.match(title=title).topics


def test_truce_broken_by_shelling_is_both() -> None:
    """A truce violated by fire is both a ceasefire story and an escalation."""
    result = MATCHER.match(title="Truce broken minutes after deal as shelling resumes")
    assert set(result.topics) == {"ceasefire", "escalation"}


def test_watch_needs_one_of_its_topics() -> None:
    """The karabakh watch stays quiet on Karabakh news with no ceasefire or escalation content."""
    result = MATCHER.match(title="Karabakh carpet museum reopens to visitors")
    assert result.entities == ["Nagorno-Karabakh"]
    assert result.watches == []
