"""Table-driven matcher tests: every operator of the query language against items written for the table."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from monitor.match import Matcher
from monitor.match.rules import EntitySpec, RulePack, TopicSpec, WatchSpec

TABLE = yaml.safe_load((Path(__file__).with_name("cases.yaml")).read_text(encoding="utf-8"))
ENTITIES = {k: EntitySpec(**v) for k, v in TABLE["entities"].items()}
TOPICS = {k: TopicSpec(**v) for k, v in TABLE["topics"].items()}


def _case_id(case: dict) -> str:
    return f"{case['query']} | {case['title']} | {case.get('summary', '')}"


@pytest.mark.parametrize("case", TABLE["cases"], ids=_case_id)
def test_query_case(case: dict) -> None:
    """The query matches (or not) the item as the table says, and its evidence quotes the listed words."""
    pack = RulePack(entities=ENTITIES, topics=TOPICS, watches=[WatchSpec(name="case", query=case["query"])])
    result = Matcher.compile(pack).match(title=case["title"], summary=case.get("summary", ""))
    fired = [w.name for w in result.watches]
    assert fired == (["case"] if case["match"] else [])
    if case["match"] and "evidence" in case:
        words = _watch_evidence(pack, case)
        assert words == case["evidence"]


def _watch_evidence(pack: RulePack, case: dict) -> list[str]:
    """The evidence of the case query itself: compile it as the only topic and read its term evidence."""
    solo = RulePack(
        entities=pack.entities,
        topics={**pack.topics, "_case": TopicSpec(query=case["query"])},
    )
    result = Matcher.compile(solo).match(title=case["title"], summary=case.get("summary", ""))
    return list(dict.fromkeys(e.text for e in result.evidence if e.kind == "term" and e.name == "_case"))


def test_table_covers_every_operator() -> None:
    """The table exercises each construct of the language at least once (guards against shrinking it)."""
    queries = " ".join(case["query"] for case in TABLE["cases"])
    for construct in (
        " AND ",
        " OR ",
        "NOT ",
        "(",
        '"',
        "*",
        "@",
        "#",
        "NEAR/",
        "title:",
        "summary:",
        "=",
        "-",
    ):
        assert construct in queries, construct
