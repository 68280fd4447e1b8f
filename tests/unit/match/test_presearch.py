"""The presearch only skips work: results with it are identical to evaluating every rule on every item."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from monitor.config import load_config
from monitor.core.errors import QueryError
from monitor.match import Matcher
from monitor.match.query import parse
from monitor.match.rules import EntitySpec, RulePack, TopicSpec, WatchSpec

CONFIG = Path(__file__).resolve().parents[3] / "config" / "monitor.yaml"
ENTITIES = {
    "armenia": EntitySpec(aliases=["Armenia", "Armenian"]),
    "karabakh": EntitySpec(label="Nagorno-Karabakh", aliases=["Nagorno-Karabakh", "Karabakh"]),
    "un": EntitySpec(label="United Nations", aliases=["United Nations", "U.N."]),
}
LEAVES = [
    "truce",
    "cease-fire",
    "shelling",
    "=attacks",
    "attack",
    "shel*",
    "mobili*",
    "talks",
    '"martial law"',
    '"cessation of hostilities"',
    '"air strike*"',
    "@armenia",
    "@karabakh",
    "@un",
    "#base",
    "title:truce",
    "summary:@armenia",
]
WORDS = [
    "truce",
    "truces",
    "ceasefire",
    "cease",
    "fire",
    "shelling",
    "shelled",
    "shell",
    "attack",
    "attacks",
    "attacked",
    "talks",
    "martial",
    "law",
    "cessation",
    "of",
    "hostilities",
    "air",
    "strikes",
    "strike",
    "mobilised",
    "mobilization",
    "Armenia",
    "Armenian",
    "Nagorno-Karabakh",
    "Karabakh",
    "United",
    "Nations",
    "U.N.",
    "the",
    "a",
    "in",
    "and",
    "army",
    "said",
    "on",
]


def random_query(rng: random.Random, depth: int = 0) -> str:
    if depth > 2 or rng.random() < 0.35:
        return rng.choice(LEAVES)
    left, right = random_query(rng, depth + 1), random_query(rng, depth + 1)
    shape = rng.randrange(5)
    if shape == 0:
        return f"({left} AND {right})"
    if shape == 1:
        return f"({left} OR {right})"
    if shape == 2:
        return f"({left} NOT {right})"
    if shape == 3:
        return f"{rng.choice(LEAVES)} NEAR/{rng.randint(1, 4)} {rng.choice(LEAVES)}"
    return f"({left} {right})"


def random_pack(rng: random.Random) -> RulePack:
    names = set(ENTITIES) | {"base", "t1", "t2"}
    queries: list[str] = []
    while len(queries) < 12:
        query = random_query(rng)
        try:
            parse(query, entities=names, topics=names)
        except QueryError:
            continue  # e.g. NOT on a NEAR side: the language rejects it, nothing to compare
        queries.append(query)
    topics = {
        "base": TopicSpec(query="truce OR shelling OR attack"),
        "t1": TopicSpec(query=queries[0].replace("#base", "truce")),
        "t2": TopicSpec(query=queries[1]),
    }
    watches = [
        WatchSpec(name=f"w{i}", query=q, topics=rng.choice([[], ["t1"], ["base", "t2"]]))
        for i, q in enumerate(queries[2:])
    ]
    return RulePack(entities=ENTITIES, topics=topics, watches=watches)


def random_item(rng: random.Random) -> dict[str, str]:
    def text(n: int) -> str:
        return " ".join(rng.choice(WORDS) for _ in range(rng.randint(0, n)))

    return {"title": text(8), "summary": text(25), "content": text(40) if rng.random() < 0.3 else ""}


@pytest.mark.parametrize("seed", range(40))
def test_presearch_equals_full_evaluation_on_generated_queries_and_texts(seed: int) -> None:
    """For random packs (AND/OR/NOT/NEAR, phrases, wildcards, entities, topics, scopes) and random items, the
    presearch matcher returns exactly what evaluating every rule returns."""
    rng = random.Random(seed)
    pack = random_pack(rng)
    fast, full = Matcher.compile(pack), Matcher.compile(pack, presearch=False)
    for _ in range(30):
        item = random_item(rng)
        assert fast.match(**item).to_json() == full.match(**item).to_json(), (pack, item)


ITEMS = [
    {"title": "Armenia declares martial law as shelling of Stepanakert resumes"},
    {"title": "Truce holds in Nagorno-Karabakh", "summary": "Baku and Yerevan agreed a humanitarian pause."},
    {"title": "Price war: supermarkets call a truce", "summary": "Retailers agree to stop cutting prices."},
    {"title": "Missiles struck the port overnight, killing three civilians", "summary": ""},
    {"title": "Bakery wins regional bread award", "summary": "Crusty."},
    {"title": "", "summary": "", "content": "Troops advanced into the town after heavy fighting."},
]


@pytest.mark.skipif(not CONFIG.is_file(), reason="the shipped config is absent")
def test_presearch_equals_full_evaluation_on_the_shipped_pack() -> None:
    """On the shipped rule pack and hand-written items, the presearch changes nothing in the output."""
    pack = load_config(CONFIG).rules
    fast, full = Matcher.compile(pack), Matcher.compile(pack, presearch=False)
    for item in ITEMS:
        assert fast.match(**item).to_json() == full.match(**item).to_json(), item


def test_presearch_skips_watches_whose_words_do_not_occur() -> None:
    """Only rules whose required words occur in the item are candidates; the others are never evaluated."""
    pack = RulePack(
        entities=ENTITIES,
        watches=[
            WatchSpec(name="a", query="@armenia AND truce"),
            WatchSpec(name="b", query='"martial law" OR mobili*'),
            WatchSpec(name="c", query="(@karabakh OR @un) NEAR/5 shelling"),
        ],
    )
    matcher = Matcher.compile(pack)

    def candidates(title: str) -> list[str]:
        return matcher.candidate_watches(title=title)

    assert candidates("Armenian truce talks") == ["a"]
    assert candidates("Armenia mobilises reservists") == ["b"]
    assert candidates("Shelling near the river") == []  # c needs an entity too
    assert candidates("U.N. condemns shelling") == ["c"]
    assert candidates("Bakery wins award") == []
