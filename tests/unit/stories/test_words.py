"""The words of an item: stems of content words, names by case, stop words from the shipped list."""

from __future__ import annotations

from datetime import UTC, datetime

from monitor.match.text import stem, tokenize, words
from monitor.stories.clusterer import StoryClusterer, StoryDoc
from monitor.stories.words import content_words, names, stopwords


def test_names_skip_sentence_starts_and_title_case_headlines() -> None:
    """Capitalised words count as names except at a sentence start and in Title Case headlines."""
    assert names("Missiles hit Kyiv as Zelensky meets Biden", "Officials said. Ukraine held.") == {
        "kyiv",
        "zelenski",
        "biden",
    }
    assert names("Missiles Hit Kyiv As Zelensky Meets Biden") == frozenset()


def test_inflections_of_one_word_share_a_stem() -> None:
    """Snowball stems make erupting/eruption and tax/taxes the same word, which a prefix cut kept apart."""
    assert content_words("Volcano erupting, windfall tax", "") == content_words(
        "Volcano eruption", "Windfall taxes"
    )


def test_stop_words_one_letter_words_and_possessives_are_dropped() -> None:
    """Stop words come from the shipped list; "it's" is the stop word "it", "minister's" is "minister"."""
    assert {"the", "said", "update", "mrs"} <= stopwords()
    assert content_words("It's the minister’s visit, a video update", "") == content_words("Minister visit")


def test_words_fold_as_the_matcher_folds_them() -> None:
    """To the clusterer "Türkiye" and "Turkiye" (and curly or straight apostrophes, accents, full-width
    letters) are one word, in content words and in names, and it is the matcher's folded, stemmed word."""
    accented = ("Talks in Türkiye’s capital", "Officials met in Türkiye.")
    plain = ("Talks in Turkiye's capital", "Officials met in Turkiye.")
    assert content_words(*accented) == content_words(*plain)
    assert names(*accented) == names(*plain) == {stem(word) for word in words("Türkiye")} == {"turkiy"}
    assert content_words("Ｔürkiye", "") == content_words("TURKIYE", "") == {"turkiy"}
    assert {stem(token.surface) for token in tokenize(accented[0])} >= content_words(accented[0])


def test_items_that_differ_only_in_folding_have_the_same_features() -> None:
    """To the clusterer an item that spells "Türkiye" with an accent is a copy of one that does not."""
    clusterer = StoryClusterer()
    published = datetime(2023, 2, 6, 6, 0, tzinfo=UTC)
    text = "Earthquake in Türkiye: rescuers search rubble in Gaziantep after a magnitude 7.8 quake"
    clusterer.assign(StoryDoc("a", text, outlet="wire", published_at=published))
    folded = StoryDoc("b", text.replace("ü", "u"), outlet="daily", published_at=published)
    assert clusterer.pair_features(folded, "a") == clusterer.pair_features(
        StoryDoc("c", text, outlet="daily", published_at=published), "a"
    )
    assert clusterer.assign(folded).copy_of == "a"
