"""The pair scorer: general evidence of one event, a staged early exit, weights from the shipped file."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from monitor.stories.clusterer import StoryClusterer
from monitor.stories.scorer import FEATURES, Weights, load_weights, score, trained_weights
from tests.unit.stories.reports import BUDGET, DRONE, EXCHANGE, RETOLD, SHELLING, TRUCE, doc


def test_a_name_that_opens_one_headline_is_still_shared_evidence() -> None:
    """A name capitalised mid-sentence in one item counts as shared when the other item has the word anywhere."""
    clusterer = StoryClusterer()
    clusterer.assign(doc("a", ("Ardmore posts record profit as windfall levy looms", ""), "wire", 0))
    shared = FEATURES.index("shared_names")
    joined = clusterer.pair_features(
        doc("b", ("Shareholders cheer as Ardmore posts record profit", ""), "daily", 1), "a"
    )
    alone = clusterer.pair_features(
        doc("c", ("Record profit for a rival as investors cheer", ""), "desk", 2), "a"
    )
    assert joined is not None and alone is not None
    assert (joined[shared] > 0, alone[shared]) == (True, 0.0)


def test_the_early_exit_of_the_pair_score_never_drops_a_pair_that_reaches_the_floor() -> None:
    """`pair_features` may stop early only when the full logit is provably below the floor, and otherwise
    gives exactly the full features."""
    texts = [SHELLING, RETOLD, DRONE, BUDGET, *TRUCE, EXCHANGE]
    docs = [doc(f"i{number}", text, f"outlet{number % 3}", number * 5.0) for number, text in enumerate(texts)]
    clusterer = StoryClusterer()
    for item in docs:
        clusterer.restore(item, story=item.id)
    checked = 0
    for a in docs:
        for b in docs:
            if a is b:
                continue
            full = clusterer.pair_features(a, b.id)
            assert full is not None
            logit = score(full)
            for floor in (-4.0, -1.0, 0.0, logit - 1e-3, logit, logit + 1e-3, 2.0, 4.0):
                early = clusterer.pair_features(a, b.id, floor)
                assert early == full if logit >= floor else early in (None, full)
                checked += early is None
    assert checked > 0  # some pairs did stop early


def test_headroom_bounds_what_features_not_yet_computed_can_add() -> None:
    """A bounded feature adds at most its weight, an unbounded one of positive weight anything, and a
    feature of negative weight nothing (every feature is >= 0)."""
    weights = Weights(0.0, (2.0, 1.0, 0.5, 1.0, -1.0, -1.0, -1.0, -0.5, 3.0))
    assert weights.headroom("cosine", "title_contained", "hours", "same_outlet") == 5.0
    assert weights.headroom("shared_names") == math.inf
    with pytest.raises(ValueError, match="not features"):
        weights.headroom("cosine", "colour")


def test_the_shipped_weights_cover_every_feature_and_say_where_they_come_from(tmp_path: Path) -> None:
    """The weights file names each feature, in order, and its provenance; it survives a write and a read;
    a file for other features is refused with the way to refit it."""
    shipped = trained_weights()
    assert len(shipped.coefficients) == len(FEATURES)
    assert {"trained_by", "trained_on", "date"} <= set(shipped.provenance)
    path = tmp_path / "weights.json"
    path.write_text(json.dumps(shipped.as_json()), encoding="utf-8")
    assert load_weights(path) == shipped
    stale = shipped.as_json()
    del stale["weights"]["title_contained"]
    path.write_text(json.dumps(stale), encoding="utf-8")
    with pytest.raises(ValueError, match=r"train_story_scorer\.py --write"):
        load_weights(path)
