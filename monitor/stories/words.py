"""The words of an item as story clustering sees them: content words, names, title words and numbers.

Words are Snowball stems ("taxes" = "tax", "erupting" = "eruption" = "erupt", which a prefix cut or a
plural strip alone would keep apart), with stop words, one-letter words and a trailing possessive dropped.
A name is a word capitalised inside a sentence: a cheap stand-in for named entities (places, people,
organisations) that works whatever the rule pack. It is found in the original text, since only it has
the case.
"""

from __future__ import annotations

import re
from functools import cache
from importlib.resources import files
from typing import NamedTuple

from monitor.match.text import stem as snowball_stem

__all__ = ["ItemWords", "content_words", "item_words", "names", "stopwords"]


@cache
def stopwords() -> frozenset[str]:
    """The stop words shipped in `data/stopwords.txt` (read on first use)."""
    text = (files("monitor.stories") / "data" / "stopwords.txt").read_text(encoding="utf-8")
    return frozenset(word for word in map(str.strip, text.splitlines()) if word and not word.startswith("#"))


_WORD = re.compile(r"\w+(?:['’]\w+)*")  # then only those starting with a letter count (see _StemCache)


class _StemCache(dict[str, str]):
    """Lower-cased word -> its stem, possessive dropped ("" for a stop word or a one-letter word). A miss
    stems the word, so `item_words` looks up a whole token list in C. Cleared when large."""

    __slots__ = ()

    def __missing__(self, word: str) -> str:
        if len(self) > 200_000:
            self.clear()
        plain = word.replace("’", "'")
        if plain.endswith("'s"):
            plain = plain[:-2]
        keep = len(plain) > 1 and plain[0].isalpha() and plain not in stopwords()
        stem = self[word] = snowball_stem(plain) if keep else ""
        return stem


_STEMS = _StemCache()

# A capitalised word right after another word (or a comma): not at the start of a sentence or quote.
_NAME = re.compile(r"(?<=[\w,]\s)[A-ZÀ-ÖØ-ÞĀ-Ž][\w'’]+")


class ItemWords(NamedTuple):
    """What clustering compares of an item's text."""

    words: frozenset[str]  # stems of title and summary: see `content_words`
    names: frozenset[str]  # stems of its names: see `names`
    title: frozenset[str]  # stems of the title alone
    numbers: frozenset[str]  # words that start with a digit, as written (lower-cased)


def item_words(title: str, summary: str = "") -> ItemWords:
    """The words, names, title words and numbers of an item's plain text."""
    # Sets are filled in token order: the clusterer's float sums follow their iteration order.
    stem = _STEMS.__getitem__
    title_tokens = _WORD.findall(title.lower())
    summary_tokens = _WORD.findall(summary.lower())
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
    found = set(map(stem, map(str.lower, capitalised)))
    found.discard("")
    return ItemWords(frozenset(words), frozenset(found), frozenset(title_words), numbers)


def content_words(title: str, summary: str = "") -> frozenset[str]:
    """Stems of the words of title and summary, stop words and one-letter words dropped."""
    return item_words(title, summary).words


def names(title: str, summary: str = "") -> frozenset[str]:
    """Stems of capitalised words that do not start a sentence. A Title Case headline gives no evidence
    (every word is capitalised there), so only its summary's names count."""
    return item_words(title, summary).names
