"""Explanations: the satisfied branch of each query (`why`) and the highlighted quotes of --explain."""

from __future__ import annotations

import pytest

from monitor.match import Matcher
from monitor.match.explain import highlight, render
from monitor.match.rules import EntitySpec, RulePack, TopicSpec, WatchSpec

ENTITIES = {"armenia": EntitySpec(aliases=["Armenia", "Armenian"]), "baku": EntitySpec(aliases=["Baku"])}

WHY = [
    ('truce OR armistice OR "martial law"', "Martial law and a truce", 'truce OR "martial law"'),
    ("(truce OR armistice) AND NOT trade", "Truce holds", "truce"),
    ("(cease-fire OR truce) NEAR/4 (violat* OR collaps*)", "The truce collapsed", "truce NEAR/4 collaps*"),
    ("@armenia AND (shelling OR artillery)", "Armenian artillery fired", "@armenia AND artillery"),
    ("shelling OR (@armenia AND @baku)", "Armenia and Baku", "@armenia AND @baku"),
    ("shelling OR (@armenia AND @baku)", "Armenia, Baku: shelling", "shelling OR (@armenia AND @baku)"),
    ("title:truce OR summary:talks", "Truce", "title:truce"),
]


@pytest.mark.parametrize(("query", "title", "expected"), WHY)
def test_why_renders_only_the_branch_that_held(query: str, title: str, expected: str) -> None:
    """`why` keeps the OR alternatives that fired, the positive AND conjuncts, and NEAR with its two sides."""
    pack = RulePack(
        entities=ENTITIES, topics={"t": TopicSpec(query=query)}, watches=[WatchSpec(name="w", query=query)]
    )
    result = Matcher.compile(pack).match(title=title)
    assert result.why == {"t": expected, "watch:w": expected}
    assert result.to_json()["why"] == {"t": expected, "watch:w": expected}


def test_highlight_marks_spans_and_cuts_long_text_with_ellipses() -> None:
    """Matched words are marked and only their neighbourhood is quoted, on word boundaries."""
    text = "x " * 100 + "the army had violated the ceasefire and shelled positions" + " y" * 100
    start = text.index("violated")
    spans = [(start, start + 8), (text.index("shelled"), text.index("shelled") + 7)]
    out = highlight(text, spans, color=False, context=20)
    assert out.startswith("…") and out.endswith("…")
    assert "»violated« the ceasefire and »shelled«" in out
    assert "\x1b[1mviolated\x1b[0m" in highlight(text, spans, color=True)


def test_render_lists_topics_with_level_reasons_watches_and_entities() -> None:
    """The readable form names each topic with its level and score, each watch, and the entities."""
    pack = RulePack(
        entities=ENTITIES,
        topics={"escalation": TopicSpec(query="shelling", severity="high")},
        watches=[WatchSpec(name="caucasus", query="@armenia", topics=["escalation"])],
    )
    fields = {"title": "Armenian shelling", "summary": "", "content": ""}
    text = render("n1", fields, Matcher.compile(pack).match(**fields))
    assert text.splitlines()[0] == "── n1  Armenian shelling"
    assert "escalation  high (score 60)" in text
    assert "watch    caucasus  high; topics escalation" in text
    assert "entities Armenia" in text
    assert "title    »Armenian« »shelling«" in text


def test_render_says_commentary_does_not_open_an_alert() -> None:
    """A matched commentary item's explanation names its genre and cue and says it does not alert alone;
    an event report's explanation has no genre line."""
    pack = RulePack(
        entities=ENTITIES,
        topics={"escalation": TopicSpec(query="shelling", severity="high")},
        watches=[WatchSpec(name="caucasus", query="@armenia", topics=["escalation"])],
    )
    matcher = Matcher.compile(pack)
    fields = {"title": "Analysis: Armenian shelling", "summary": "", "content": ""}
    text = render("n2", fields, matcher.match(**fields))
    assert "  genre    analysis (cue: title 'Analysis:'), does not open an alert on its own" in text
    fields = {"title": "Armenian shelling", "summary": "", "content": ""}
    assert "genre" not in render("n3", fields, matcher.match(**fields))
