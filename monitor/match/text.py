"""Text normalisation and tokenisation shared by queries and item text.

Both sides go through the same folding, so a rule written once matches every spelling that folds alike:

- Unicode compatibility forms (NFKC/NFKD: full-width letters, ligatures), case (casefold), accents
  (``Türkiye`` = ``Turkiye``), curly quotes and apostrophes.
- The hyphen family (hyphen, non-breaking hyphen, en/em dash, minus sign) separates words like any other
  punctuation; soft hyphens and zero-width joiners vanish. ``cease-fire`` and ``cease fire`` are therefore
  the same two tokens; the query side additionally treats a hyphenated word as the joined word
  (``ceasefire``), see :mod:`monitor.match.query`.

Tokens keep character offsets into the *original* field text so that evidence can quote the source. This is
the only module that imports snowballstemmer (which runs PyStemmer's C implementation of the same Snowball
algorithm when it is installed, as the package requires: ~20x faster on words not seen before).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import NamedTuple

import snowballstemmer

# Characters that are deleted outright: soft hyphen, zero-width non-joiner/joiner, word joiner, BOM.
_DELETE = {"\u00ad", "\u200c", "\u200d", "\u2060", "\ufeff"}
# Characters with a fixed folding (applied before the generic Unicode folding).
_SPECIAL = {
    # apostrophes and single quotes → ASCII apostrophe (kept inside words: "Armenia's")
    "\u2019": "'",
    "\u2018": "'",
    "\u02bc": "'",
    "\u2032": "'",
    "\u00b4": "'",
    "`": "'",
    # double quotes → ASCII
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u00ab": '"',
    "\u00bb": '"',
    # the hyphen family → ASCII hyphen
    "\u2010": "-",
    "\u2011": "-",
    "\u2012": "-",
    "\u2013": "-",
    "\u2014": "-",
    "\u2015": "-",
    "\u2212": "-",
    "\ufe63": "-",
    "\uff0d": "-",
    # zero-width space is a word break
    "\u200b": " ",
}

# A word: letters/digits, optionally joined by apostrophes ("don't", "armenia's"). Underscore is not a letter.
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")

_STEMMER = snowballstemmer.stemmer("english")
_STEM_CACHE: dict[str, str] = {}
_STEM_CACHE_MAX = 200_000


@lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    if char in _DELETE:
        return ""
    if char in _SPECIAL:
        return _SPECIAL[char]
    decomposed = unicodedata.normalize("NFKD", char)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    folded = unicodedata.normalize("NFKC", stripped).casefold()
    return "".join(_SPECIAL.get(c, c) for c in folded if c not in _DELETE)


# One-to-one replacements that keep offsets: with them applied, most English news text is pure ASCII.
_ONE_TO_ONE = (*_SPECIAL.items(), ("\u00a0", " "), ("\u202f", " "), ("\u2009", " "), ("\u2026", "."))
_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def fold(text: str) -> tuple[str, list[int] | None]:
    """Fold `text` for matching; return the folded text and a map folded index → original index.

    The map is None when folding kept every character in place: ASCII once quotes, dashes and non-breaking
    spaces are replaced (str.replace per character present: far cheaper than str.translate on non-ASCII
    text), and text whose other characters each fold to one character (``é`` → ``e``, ``£``).
    """
    if text.isascii():
        return (text.replace("`", "'") if "`" in text else text).lower(), None
    for char, replacement in _ONE_TO_ONE:
        if char in text:
            text = text.replace(char, replacement)
    if text.isascii():
        return text.lower(), None
    singles: dict[str, str] = {}
    for char in set(_NON_ASCII.findall(text)):
        folded_char = _fold_char(char)
        if len(folded_char) != 1 or folded_char.lower() != folded_char:
            break
        singles[char] = folded_char
    else:
        return _NON_ASCII.sub(lambda m: singles[m.group()], text).lower(), None
    out: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        folded = _fold_char(char)
        if folded:
            out.append(folded)
            origin.extend([index] * len(folded))
    return "".join(out), origin


# British -ise/-isation spellings stem apart from American -ize/-ization in Snowball ("mobilis" vs
# "mobil"); rewriting them first lets one rule word find both. Four letters before "is" keep short words
# such as rise, raise and prise out of it.
_BRITISH_IS = re.compile(r"^([a-z]{4,})is(e|es|ed|ing|ation|ations)$")


def stem(word: str) -> str:
    """English Snowball stem of one folded word (cached), British and American spellings alike."""
    cached = _STEM_CACHE.get(word)
    if cached is None:
        if len(_STEM_CACHE) >= _STEM_CACHE_MAX:
            _STEM_CACHE.clear()
        cached = _STEM_CACHE[word] = _STEMMER.stemWord(_BRITISH_IS.sub(r"\1iz\2", word))
    return cached


class Token(NamedTuple):
    """One word of a field: `surface` is the folded word, `stem` its stem, offsets index the original text."""

    surface: str
    stem: str
    start: int
    end: int


def tokenize(text: str) -> list[Token]:
    """Split `text` into folded, stemmed words with offsets into the original string."""
    folded, origin = fold(text)
    tokens: list[Token] = []
    for m in _WORD.finditer(folded):
        word = m.group()
        if origin is None:
            start, end = m.start(), m.end()
        else:
            start, end = origin[m.start()], origin[m.end() - 1] + 1
        tokens.append(Token(word, stem(word), start, end))
    return tokens


def word_spans(folded: str, origin: list[int] | None) -> list[tuple[int, int]]:
    """Offsets in the original text of each word of `folded` (the same words, in order, as `split_words`)."""
    if origin is None:
        return [m.span() for m in _WORD.finditer(folded)]
    return [(origin[m.start()], origin[m.end() - 1] + 1) for m in _WORD.finditer(folded)]


# Without an underscore in the text, \w matches exactly what [^\W_] does, and re tests it faster.
_WORD_NO_UNDERSCORE = re.compile(r"\w+(?:'\w+)*")


def split_words(folded: str) -> list[str]:
    """The words of already folded text, without offsets: the cheap path used per item by the matcher."""
    return (_WORD if "_" in folded else _WORD_NO_UNDERSCORE).findall(folded)


def words(text: str) -> list[str]:
    """The folded words of `text`, without offsets (used to compile query terms and entity aliases)."""
    folded, _ = fold(text)
    return _WORD.findall(folded)
