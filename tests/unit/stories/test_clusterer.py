"""Story clustering: same event across outlets joins, reprints are copies, other events stay apart."""

from __future__ import annotations

import math
from datetime import timedelta

from monitor.stories.clusterer import ClusterParams, StoryClusterer, cluster_records, doc_from_record
from monitor.stories.scorer import score
from tests.unit.stories.reports import BUDGET, DRONE, EXCHANGE, RETOLD, SHELLING, TRUCE, doc


def test_same_event_in_other_words_joins_and_a_reprint_is_a_copy() -> None:
    """A retelling by another outlet joins the story; a verbatim reprint joins as a copy of the original."""
    clusterer = StoryClusterer()
    first = clusterer.assign(doc("a", SHELLING, "wire", 0))
    retold = clusterer.assign(doc("b", RETOLD, "daily", 0.5))
    reprint = clusterer.assign(doc("c", SHELLING, "metro", 1))
    assert (first.story, first.created, first.copy_of) == ("a", True, None)
    assert (retold.story, retold.created, retold.copy_of) == ("a", False, None)
    assert (reprint.story, reprint.copy_of) == ("a", "a")


def test_unrelated_news_and_another_strike_next_day_are_new_stories() -> None:
    """Unrelated text founds its own story; a different strike on the same city a day later does too."""
    clusterer = StoryClusterer()
    clusterer.assign(doc("a", SHELLING, "wire", 0))
    clusterer.assign(doc("b", RETOLD, "daily", 0.5))
    assert clusterer.assign(doc("x", BUDGET, "desk", 1)).story == "x"
    assert clusterer.assign(doc("d", DRONE, "desk", 26)).story == "d"


def test_same_link_is_a_copy_and_a_repeated_id_keeps_its_story() -> None:
    """The same canonical link from another feed is the same article; an item seen again is not new."""
    clusterer = StoryClusterer()
    clusterer.assign(doc("a", SHELLING, "wire", 0, link="https://w.example/a"))
    again = clusterer.assign(doc("b", BUDGET, "wire-2", 0.1, link="https://w.example/a"))
    assert (again.story, again.copy_of) == ("a", "a")
    assert clusterer.assign(doc("a", RETOLD, "wire", 0.2)).story == "a"


def test_memory_is_bounded_by_the_window() -> None:
    """Items older than the window (relative to the newest) are evicted and can no longer be joined."""
    clusterer = StoryClusterer(ClusterParams(window=timedelta(hours=48)))
    clusterer.assign(doc("a", SHELLING, "wire", 0))
    for hour in range(1, 100):
        clusterer.assign(doc(f"n{hour}", (f"Unrelated item number {hour} zq{hour}", ""), "desk", hour))
    assert len(clusterer) <= 49
    assert clusterer.assign(doc("late", RETOLD, "daily", 100)).story == "late"


def test_restore_rebuilds_the_window_so_a_restart_clusters_the_same() -> None:
    """Restored items (from the database at start-up) are joined by later items as if never restarted."""
    clusterer = StoryClusterer()
    clusterer.restore(doc("7", SHELLING, "wire", 0), story="7")
    assert clusterer.assign(doc("8", RETOLD, "daily", 1)).story == "7"


def test_records_stream_in_order_with_links_canonicalised() -> None:
    """JSON-style records (as `news-monitor cluster` reads them) are assigned in input order."""
    records = [
        {"id": 1, "title": SHELLING[0], "description": SHELLING[1], "outlet": "w", "date": "2020-09-27 10:00:00+00:00",
         "link": "https://w.example/a?utm_source=x"},
        {"id": 2, "title": SHELLING[0], "summary": SHELLING[1], "outlet": "m", "published": "2020-09-27T11:00:00Z",
         "link": "https://m.example/b"},
    ]  # fmt: skip
    out = [(d.id, d.link, a.story, a.copy_of) for d, a in cluster_records(records, StoryClusterer())]
    assert out == [("1", "https://w.example/a", "1", None), ("2", "https://m.example/b", "1", "1")]


def test_the_learned_score_falls_with_time_so_a_strict_bar_keeps_a_late_retelling_apart() -> None:
    """Time enters the pair score: with a bar above the default, a retelling an hour later still joins
    while the same words a day and a half later do not (at the default bar both join: the labelled pairs
    count a retelling within two days as the same story)."""
    strict = ClusterParams(join_score=3.0, story_score=3.0)
    soon, late = StoryClusterer(strict), StoryClusterer(strict)
    soon.assign(doc("a", SHELLING, "wire", 0))
    late.assign(doc("a", SHELLING, "wire", 0))
    near = soon.assign(doc("b", RETOLD, "daily", 1))
    far = late.assign(doc("b", RETOLD, "daily", 36))
    assert (near.story, far.story) == ("a", "b")
    assert 0 < near.score <= 1  # the reported score is the cosine with the member joined, not the logit


def test_a_story_stays_open_while_a_member_is_inside_the_window() -> None:
    """A long event keeps one story after its first report leaves the window, as long as reports continue."""
    clusterer = StoryClusterer(ClusterParams(window=timedelta(hours=12)))
    first = clusterer.assign(doc("a", SHELLING, "wire", 0))
    second = clusterer.assign(doc("b", RETOLD, "daily", 10))
    clusterer.assign(doc("x", BUDGET, "desk", 15))  # moves the window on: the first report is evicted
    assert len(clusterer) == 2
    third = clusterer.assign(doc("c", (RETOLD[0], "Residents of Stepanakert sheltered again."), "desk", 20))
    assert (first.story, second.story, third.story) == ("a", "a", "a")


def test_several_reports_that_each_resemble_a_follow_up_somewhat_outweigh_one() -> None:
    """The story score sums the odds of the story's likeliest reports: with bars set just above what any
    single report gives, the follow-up joins on the evidence of three, and not when only one counts."""

    def truce_story(params: ClusterParams) -> StoryClusterer:
        clusterer = StoryClusterer(params)
        for number, text in enumerate(TRUCE):
            clusterer.restore(doc(f"t{number}", text, f"outlet{number}", number), story="t0")
        return clusterer

    follow_up = doc("f", EXCHANGE, "desk", 4)
    probe = truce_story(ClusterParams())
    logits = []
    for number in range(len(TRUCE)):
        features = probe.pair_features(follow_up, f"t{number}")
        assert features is not None
        logits.append(score(features))
    best = max(logits)
    summed = math.log(sum(math.exp(logit) for logit in logits))
    assert min(logits) > 0 and summed > best + 0.5  # each member is some evidence, together far more
    bars = {"join_score": best + 0.01, "story_score": summed - 0.01}  # no single member clears either
    for story_members, expected in ((3, "t0"), (1, "f")):
        clusterer = truce_story(ClusterParams(**bars, story_members=story_members))
        assert clusterer.assign(follow_up).story == expected


def test_reprints_of_one_report_count_once_in_the_story_score() -> None:
    """Two verbatim reprints of the wire text add no evidence: a reaction the original alone would not
    carry into the story is not carried by the original and its copies either."""
    accuses = (
        "Armenia accuses Azerbaijan over Stepanakert",
        "Yerevan said Azerbaijani artillery targeted civilians in Nagorno-Karabakh.",
    )
    for reprints in (0, 2):
        clusterer = StoryClusterer()
        clusterer.assign(doc("a", SHELLING, "wire", 0))
        for number in range(reprints):
            assert (
                clusterer.assign(doc(f"c{number}", SHELLING, f"metro{number}", 0.2 + number)).copy_of == "a"
            )
        assert clusterer.assign(doc("f", accuses, "desk", 20)).story == "f"


def test_one_report_that_clears_the_pair_bar_carries_the_item_whatever_the_story_bar() -> None:
    """`join_score` alone suffices: a single strong match joins even when the story bar is out of reach."""
    probe = StoryClusterer()
    probe.assign(doc("a", SHELLING, "wire", 0))
    features = probe.pair_features(doc("b", RETOLD, "daily", 0.5), "a")
    assert features is not None
    logit = score(features)
    for join_score, expected in ((logit - 0.01, "a"), (logit + 0.01, "b")):
        clusterer = StoryClusterer(ClusterParams(join_score=join_score, story_score=logit + 0.01))
        clusterer.assign(doc("a", SHELLING, "wire", 0))
        assert clusterer.assign(doc("b", RETOLD, "daily", 0.5)).story == expected


def test_records_are_made_plain_text_as_the_parser_makes_feed_items() -> None:
    """Input records go through the one HTML-to-text: tags dropped, entities decoded, whitespace collapsed."""
    record = {"id": 7, "title": "Talks on <b>Karabakh</b> &amp; the  corridor", "description": "<p>Held.</p>"}
    assert (doc_from_record(record).title, doc_from_record(record).summary) == (
        "Talks on Karabakh & the corridor",
        "Held.",
    )
