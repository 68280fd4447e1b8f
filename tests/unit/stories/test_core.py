"""The core rule of story clustering: an item joins a story only when it is close to the centroid of the
story's first reports (its core) and, with `core_span`, not too long after its first report; a chain of
items each resembling only the previous one does not make one story."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from monitor.stories.clusterer import ClusterParams, StoryClusterer
from tests.unit.stories.reports import T0, doc

# The pair bars are switched off (any pair at cosine >= `similarity` would join), so only the core rule
# keeps stories apart. Each text shares two of its four made-up words with the one before it.
LOOSE = ClusterParams(join_score=-50.0, story_score=-50.0, similarity=0.05, core_span=None)
A = ("zorblat quenvik marovel trastine", "")
B = ("marovel trastine pellunor gradvik", "")
C = ("pellunor gradvik sorbenta wyllic", "")
D = ("sorbenta wyllic hundarel fostrig", "")
# Close to A and to each other, but no copy of A or of each other (plain Jaccard 0.6).
AB = ("zorblat quenvik marovel pellunor", "")
AC = ("zorblat quenvik trastine pellunor", "")

CASES = [
    # (what it shows, params, items as (id, text, hours, link), expected story per item)
    (
        "without the core check a chain makes one story (the old behaviour)",
        replace(LOOSE, core_similarity=0.0),
        [("a", A, 0), ("b", B, 1), ("c", C, 2), ("d", D, 3)],
        ["a", "a", "a", "a"],
    ),
    (
        "a core of one report: the third link of the chain shares nothing with it and starts a story",
        replace(LOOSE, core_reports=1),
        [("a", A, 0), ("b", B, 1), ("c", C, 2), ("d", D, 3)],
        ["a", "a", "c", "c"],
    ),
    (
        "a core of two reports: the third resembles the second report of the core, the fourth none",
        replace(LOOSE, core_reports=2),
        [("a", A, 0), ("b", B, 1), ("c", C, 2), ("d", D, 3)],
        ["a", "a", "a", "d"],
    ),
    (
        "a reprint joins whatever the core, and also after core_span",
        replace(LOOSE, core_reports=1, core_similarity=0.9, core_span=timedelta(hours=1)),
        [("a", A, 0), ("a2", A, 5)],
        ["a", "a"],
    ),
    (
        "a reprint takes no place in the core: the core is still the first two reports",
        replace(LOOSE, core_reports=2),
        [("a", A, 0), ("a2", A, 0.5), ("b", B, 1), ("c", C, 2)],
        ["a", "a", "a", "a"],
    ),
    (
        "a higher core bar keeps every link of the chain out",
        replace(LOOSE, core_reports=2, core_similarity=0.6),
        [("a", A, 0), ("b", B, 1), ("c", C, 2)],
        ["a", "b", "c"],
    ),
    (
        "core_span: a close report 40 h after the first joins, one 50 h after starts a story",
        replace(LOOSE, core_span=timedelta(hours=48)),
        [("a", A, 0), ("b", AB, 40), ("c", AC, 50)],
        ["a", "a", "c"],
    ),
    (
        "without core_span the story stays open while a member is inside the window",
        LOOSE,
        [("a", A, 0), ("b", AB, 40), ("c", AC, 50)],
        ["a", "a", "a"],
    ),
]


@pytest.mark.parametrize(("params", "items", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_core_rule(params: ClusterParams, items: list[tuple], expected: list[str]) -> None:
    """Each item gets the story the core rule gives it (see the case's id)."""
    clusterer = StoryClusterer(params)
    stories = [clusterer.assign(doc(id_, text, "outlet-" + id_, hours)).story for id_, text, hours in items]
    assert stories == expected


def test_a_story_core_is_dropped_with_its_last_member() -> None:
    """Cores are kept only for stories with a member inside the window: memory stays bounded."""
    clusterer = StoryClusterer(ClusterParams(window=timedelta(hours=48)))
    for hour in range(200):
        clusterer.assign(doc(f"n{hour}", (f"Unrelated item number {hour} zq{hour}", ""), "desk", hour))
    assert len(clusterer._cores) == len(clusterer) <= 49


@pytest.mark.parametrize(
    ("field", "value"), [("core_reports", 0), ("core_similarity", 1.5), ("core_span", timedelta(0))]
)
def test_bad_core_params_are_refused(field: str, value: object) -> None:
    """A core setting that cannot work is an error, not a silent default."""
    with pytest.raises(ValueError, match=field):
        ClusterParams(**{field: value})


def test_a_restored_story_keeps_its_start_so_core_span_counts_from_its_first_report() -> None:
    """After a restart the founding report may be outside the window: `started` keeps the span's origin."""
    params = replace(LOOSE, core_span=timedelta(hours=36))
    restarted = StoryClusterer(params)
    restarted.restore(doc("b", AB, "daily", 20), story="a", started=T0)
    assert restarted.assign(doc("c", AC, "desk", 40)).story == "c"
    unknown_start = StoryClusterer(params)
    unknown_start.restore(doc("b", AB, "daily", 20), story="a")
    assert unknown_start.assign(doc("c", AC, "desk", 40)).story == "a"
