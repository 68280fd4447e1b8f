"""Bad queries fail at load time with the 1-based column and what was expected, never silently."""

from __future__ import annotations

import pytest

from monitor.core.errors import QueryError
from monitor.match import Matcher, check_rules
from monitor.match.query import parse
from monitor.match.rules import EntitySpec, RulePack, TopicSpec, WatchSpec

SYNTAX_ERRORS = [
    ("", 1, "empty query: write at least one word, phrase, @entity or #topic"),
    ("truce AND", 10, "expected a term after 'AND', found the end of the query"),
    ("AND truce", 1, "expected a term, found 'AND'"),
    ("truce OR OR war", 10, "expected a term after 'OR', found 'OR'"),
    ("NOT", 4, "expected a term after 'NOT', found the end of the query"),
    ("x (truce OR war", 16, "expected ')' to close '(' opened at column 3, found the end of the query"),
    ("(truce OR (war)", 16, "expected ')' to close '(' opened at column 1, found the end of the query"),
    ("truce)", 6, "unexpected ')' with no matching '('"),
    ("()", 2, "empty parentheses: put a term between '(' and ')'"),
    ('war "truce', 11, "expected '\"' to close the phrase opened at column 5"),
    ('""', 1, "empty phrase: put words between the quotes"),
    ("tru*ce", 4, "wildcard '*' is only allowed at the end of a word"),
    ("ab*", 1, "wildcard needs at least 3 letters before '*' (found 'ab*')"),
    ("---", 1, "'---' contains no letters or digits to search for"),
    (
        "truce and war",
        7,
        "'and' is not an operator: write AND in capitals, or quote it (\"and\") to search for the word",
    ),
    ("truce NEAR war", 7, "expected NEAR/n with a number of words (e.g. NEAR/10), found 'NEAR'"),
    ("truce NEAR/0 war", 7, "NEAR/n needs a distance of at least 1 word"),
    ("truce NEAR/3 (NOT war)", 15, "NEAR/3 needs words on both sides, not a NOT expression"),
    ("titel:truce", 1, "unknown field 'titel:' (fields are title, summary, content); did you mean 'title:'?"),
    ("title:(summary:x)", 8, "field scope 'summary:' inside 'title:' can never match"),
    ("@", 2, "expected an entity name after '@'"),
    (
        "truce OR NOT war",
        10,
        "this NOT would match items by absence alone: add a word, phrase, @entity or #topic that the item "
        "must contain (e.g. 'truce NOT trade')",
    ),
]


@pytest.mark.parametrize(
    ("query", "column", "message"), SYNTAX_ERRORS, ids=[q or "<empty>" for q, _, _ in SYNTAX_ERRORS]
)
def test_syntax_error_column_and_message(query: str, column: int, message: str) -> None:
    """Each malformed query raises QueryError pointing at the exact column with a message saying what was expected."""
    with pytest.raises(QueryError) as info:
        parse(query)
    assert (info.value.column, info.value.message) == (column, message)
    assert info.value.query == query


def test_unknown_entity_suggests_the_closest_name() -> None:
    """A misspelt @entity is an error at its column with a did-you-mean."""
    with pytest.raises(QueryError) as info:
        parse("truce AND @armenai", entities={"armenia", "azerbaijan"}, topics=set())
    assert info.value.column == 11
    assert info.value.message == "unknown entity '@armenai'; did you mean '@armenia'?"


def test_unknown_topic_suggests_the_closest_name() -> None:
    """A misspelt #topic is an error at its column with a did-you-mean."""
    with pytest.raises(QueryError) as info:
        parse("#cesefire", entities=set(), topics={"ceasefire", "escalation"})
    assert (info.value.column, info.value.message) == (
        1,
        "unknown topic '#cesefire'; did you mean '#ceasefire'?",
    )


def test_unknown_name_without_a_close_match_lists_the_known_ones() -> None:
    """With nothing close, the error lists the names that do exist."""
    with pytest.raises(QueryError) as info:
        parse("@zzz", entities={"armenia", "azerbaijan"}, topics=set())
    assert info.value.message == "unknown entity '@zzz' (known: armenia, azerbaijan)"


def _pack(**topics: str) -> RulePack:
    return RulePack(
        entities={"armenia": EntitySpec(aliases=["Armenia"])},
        topics={name: TopicSpec(query=q) for name, q in topics.items()},
        watches=[
            WatchSpec(name="ok", query="@armenia"),
            WatchSpec(name="bad", query="@armenai AND", topics=["a"]),
        ],
    )


def test_check_rules_reports_every_bad_query_with_its_key() -> None:
    """check_rules returns one (key, error) per bad query, topics and watches alike, in pack order."""
    errors = check_rules(_pack(a="truce", b="(war", c="truce OR"))
    assert [(key, e.column) for key, e in errors] == [
        ("topics.b.query", 5),
        ("topics.c.query", 9),
        ("watches.1.query", 1),
    ]
    assert errors[2][1].message == "unknown entity '@armenai'; did you mean '@armenia'?"


def test_check_rules_is_empty_for_a_good_pack() -> None:
    """A pack whose queries all parse yields no problems."""
    pack = RulePack(topics={"a": TopicSpec(query="truce")}, watches=[WatchSpec(name="w", query="#a")])
    assert check_rules(pack) == []


def test_compile_raises_the_first_error() -> None:
    """Matcher.compile refuses a pack with a bad query rather than skipping the rule."""
    with pytest.raises(QueryError) as info:
        Matcher.compile(_pack(a="truce", b="(war"))
    assert info.value.message == "expected ')' to close '(' opened at column 1, found the end of the query"


def test_topic_cycle_is_an_error() -> None:
    """Topics that include each other through #refs are rejected at the reference that closes the cycle."""
    pack = RulePack(topics={"a": TopicSpec(query="truce OR #b"), "b": TopicSpec(query="war OR #a")})
    errors = check_rules(pack)
    assert [(key, e.column) for key, e in errors] == [("topics.b.query", 8)]
    assert (
        errors[0][1].message
        == "topic reference '#a' makes a cycle (a → b → a); a topic cannot include itself"
    )


def test_disabled_watch_is_still_checked() -> None:
    """A disabled watch never fires but its query must still be valid."""
    pack = RulePack(watches=[WatchSpec(name="w", query="truce AND", enabled=False)])
    assert [key for key, _ in check_rules(pack)] == ["watches.0.query"]
