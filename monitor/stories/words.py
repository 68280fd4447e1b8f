"""The words of an item as story clustering sees them: content words, names, title words and numbers.

An item's plain text is folded and split into words exactly as the matcher does it (`monitor.match.text`:
case, accents, compatibility forms, curly apostrophes, the hyphen family), so "Türkiye" and "Turkiye" are
one word to both. Words are the matcher's Snowball stems ("taxes" = "tax", "erupting" = "eruption" =
"erupt"), with stop words, one-letter words and a trailing possessive dropped.

A name is a capitalised word inside a sentence: a cheap stand-in for named entities (places, people,
organisations) that works whatever the rule pack. It is found in the text before folding, which alone
has the case, and then folded and stemmed like every other word.
"""

from __future__ import annotations

import re
from functools import cache
from itertools import chain
from pathlib import Path
from typing import NamedTuple

from monitor.match.text import fold, split_words
from monitor.match.text import stem as snowball_stem

__all__ = ["STOPWORDS_FILE", "ItemWords", "content_words", "item_words", "names", "stopwords"]

STOPWORDS_FILE = Path(__file__).parent / "data" / "stopwords.txt"


@cache
def stopwords() -> frozenset[str]:
    """The stop words shipped in `STOPWORDS_FILE` (read on first use)."""
    text = STOPWORDS_FILE.read_text(encoding="utf-8")
    return frozenset(word for word in map(str.strip, text.splitlines()) if word and not word.startswith("#"))


class _StemCache(dict[str, str]):
    """Folded word -> its stem, possessive dropped ("" for a stop word, a one-letter word or a word that
    starts with a digit). A miss stems the word, so `item_words` looks up a whole word list in C. Cleared
    when large."""

    __slots__ = ()

    def __missing__(self, word: str) -> str:
        if len(self) > 200_000:
            self.clear()
        plain = word[:-2] if word.endswith("'s") else word
        keep = len(plain) > 1 and plain[0].isalpha() and plain not in stopwords()
        stem = self[word] = snowball_stem(plain) if keep else ""
        return stem


_STEMS = _StemCache()


class _NameCache(dict[str, tuple[str, ...]]):
    """Capitalised word as written -> the stems of its folded words (one, but for odd spellings). Cleared
    when large."""

    __slots__ = ()

    def __missing__(self, name: str) -> tuple[str, ...]:
        if len(self) > 100_000:
            self.clear()
        stems = self[name] = tuple(filter(None, map(_STEMS.__getitem__, split_words(_fold(name)))))
        return stems


_NAMES = _NameCache()

# A capitalised word right after another word (or a comma): not at the start of a sentence or quote. The
# capital comes first and the look-behind after it, so the search skips to capitals in C.
_NAME = re.compile(r"[A-ZÀ-ÖØ-ÞĀ-Ž](?<=[\w,]\s.)[\w'’]+")


def _fold(text: str) -> str:
    """`fold(text)[0]`; pure ASCII without a backtick (most news text) is only lower-cased, in C."""
    if text.isascii() and "`" not in text:
        return text.lower()
    return fold(text)[0]


class ItemWords(NamedTuple):
    """What clustering compares of an item's text."""

    words: frozenset[str]  # stems of title and summary: see `content_words`
    names: frozenset[str]  # stems of its names: see `names`
    title: frozenset[str]  # stems of the title alone
    numbers: frozenset[str]  # folded words that start with a digit


def item_words(title: str, summary: str = "") -> ItemWords:
    """The words, names, title words and numbers of an item's plain text."""
    # Sets are filled in word order: the clusterer's float sums follow their iteration order.
    stem = _STEMS.__getitem__
    title_tokens = split_words(_fold(title))
    summary_tokens = split_words(_fold(summary))
    title_words = set(map(stem, title_tokens))
    title_words.discard("")
    words = set(title_words)
    words.update(map(stem, summary_tokens))
    words.discard("")
    numbers = frozenset(w for w in title_tokens + summary_tokens if w[0].isdigit())
    capitalised = _NAME.findall(summary)
    title_names = _NAME.findall(title)
    if len(title_names) <= 0.5 * len(title_tokens):  # a Title Case headline is no evidence
        capitalised += title_names
    found = frozenset(chain.from_iterable(map(_NAMES.__getitem__, capitalised)))
    return ItemWords(frozenset(words), found, frozenset(title_words), numbers)


def content_words(title: str, summary: str = "") -> frozenset[str]:
    """Stems of the words of title and summary, stop words and one-letter words dropped."""
    return item_words(title, summary).words


def names(title: str, summary: str = "") -> frozenset[str]:
    """Stems of capitalised words that do not start a sentence. A Title Case headline gives no evidence
    (every word is capitalised there), so only its summary's names count."""
    return item_words(title, summary).names
