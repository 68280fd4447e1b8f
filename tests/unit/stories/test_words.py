"""The words of an item: stems of content words, names by case, stop words from the shipped list."""

from __future__ import annotations

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
