"""Story clustering: which items, from any outlet, report the same event. Pure: no database, no I/O.

`news-monitor cluster` and the daemon share `StoryClusterer`, so a backtest measures exactly what runs.

How an item joins a story
    Candidates come from MinHash-LSH (datasketch) over the item's content words (title + summary, stop
    words dropped, light stemming), restricted to items inside the time window; that keeps each step
    near-constant however long the history. A candidate is verified with an IDF-weighted Jaccard
    similarity (rare words such as place and person names weigh most; IDF is counted over the window),
    *entity evidence* (shared capitalised names) and *time evidence* (the bar rises with the time between
    the two reports, so two strikes on the same city on different days stay apart while the same event
    told in different words on the same day joins). The item joins the story of its best verified
    candidate, else founds a new story named after its own id.

Syndication
    An item whose words nearly equal (plain Jaccard ≥ `copy_similarity`) an earlier member's, or whose
    canonical link is the same, is a copy of it: it is listed as an outlet carrying the story but does not
    count as an independent source.

Memory
    Everything older than the window (relative to the newest item seen) is evicted, so memory is bounded by
    the window, not by history. Items may arrive somewhat out of order (feeds are polled separately).
"""

from __future__ import annotations

import heapq
import html
import math
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from datasketch import MinHash

__all__ = [
    "Assignment",
    "ClusterParams",
    "StoryClusterer",
    "StoryDoc",
    "cluster_records",
    "content_words",
    "doc_from_record",
    "names",
]


@dataclass(frozen=True)
class ClusterParams:
    """Knobs of the story clustering; `settings.StorySettings` fills them from `stories:` in the config."""

    window: timedelta = timedelta(hours=48)  # how far apart two reports of one event may be
    similarity: float = 0.1  # IDF-weighted Jaccard needed to join a story (same hour, shared name)
    time_penalty: float = 0.3  # added to `similarity` at a distance of one full window
    alone_similarity: float = 0.25  # needed when the two reports share no capitalised name
    copy_similarity: float = 0.75  # plain Jaccard from which an item is a syndicated copy
    idf_floor: int = 1000  # IDF is computed as if the window held at least this many items
    seed_similarity: float = 0.08  # also needed with the story's first item, so stories cannot drift
    bands: int = 64  # LSH bands of `rows` MinHash values each: a pair with word Jaccard J becomes a
    rows: int = 2  # candidate with probability 1 - (1 - J**rows)**bands (0.93 at J = 0.2 with 64 x 2)


@dataclass(frozen=True, slots=True)
class StoryDoc:
    """What clustering needs of an item; `id` is unique in the stream (feed+key in the daemon)."""

    id: str
    title: str
    summary: str = ""
    outlet: str = ""
    link: str | None = None  # canonical link
    published_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Assignment:
    story: str  # story id: the id of the item that founded the story
    created: bool  # this item founded the story
    copy_of: str | None  # id of the earlier member this item reprints (not an independent source)
    score: float  # verified similarity with the best member (1.0 for a copy, 0.0 for a new story)


@dataclass(slots=True)
class _Entry:
    id: str
    story: str
    outlet: str
    link: str | None
    at: datetime
    words: frozenset[str]
    names: frozenset[str]
    copy_of: str | None
    bands: list[bytes]
    weight: float  # sum of the words' IDF when the item arrived (IDF drifts little within a window)


# --- text ----------------------------------------------------------------------------------------

_TAG = re.compile(r"<[^>]*>")
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
_STOP = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "against",
        "ago",
        "all",
        "also",
        "am",
        "amid",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "down",
        "during",
        "each",
        "few",
        "for",
        "from",
        "further",
        "get",
        "gets",
        "got",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "him",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "latest",
        "least",
        "live",
        "make",
        "makes",
        "many",
        "may",
        "me",
        "more",
        "most",
        "much",
        "my",
        "new",
        "news",
        "no",
        "nor",
        "not",
        "now",
        "of",
        "off",
        "on",
        "once",
        "one",
        "only",
        "or",
        "other",
        "our",
        "ours",
        "out",
        "over",
        "own",
        "per",
        "said",
        "same",
        "say",
        "says",
        "she",
        "should",
        "since",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "two",
        "under",
        "until",
        "up",
        "update",
        "updates",
        "upon",
        "us",
        "very",
        "via",
        "video",
        "was",
        "watch",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "within",
        "would",
        "year",
        "years",
        "yet",
        "you",
        "your",
        "s",
        "t",
        "mr",
        "ms",
        "mrs",
    ]
)


def _plain(text: str) -> str:
    if "<" in text or "&" in text:
        text = html.unescape(_TAG.sub(" ", text))
    return text


def _stem(word: str) -> str:
    """Crude but fast: plural and possessive endings off, then the first seven letters."""
    if word.endswith("'s") or word.endswith("’s"):
        word = word[:-2]
    elif len(word) > 4 and word.endswith("s") and not word.endswith("ss"):
        word = word[:-1]
    return word[:7]


def content_words(title: str, summary: str = "") -> frozenset[str]:
    """Stemmed, lower-cased words of title and summary, stop words and one-letter words dropped."""
    text = _plain(f"{title}\n{summary}").lower()
    return frozenset(_stem(w) for w in _WORD.findall(text) if len(w) > 1 and w not in _STOP)


_SENTENCE = re.compile(r"[.!?:;\"“”‘’(\[]+\s*|\s[-–—|]\s|\n")
_CAPITALISED = re.compile(r"(?<=[\s'’])[A-ZÀ-ÖØ-ÞĀ-Ž][^\W\d_]+")


def names(title: str, summary: str = "") -> frozenset[str]:
    """Capitalised words that do not start a sentence: a cheap stand-in for named entities (places,
    people, organisations) that works the same whatever the rule pack. A Title Case headline gives no
    evidence (every word is capitalised there), so only its summary's names count."""
    found: set[str] = set()
    for text in (title, summary):
        if not text:
            continue
        text = _plain(text)
        capitalised: list[str] = []
        for sentence in _SENTENCE.split(text):
            capitalised += _CAPITALISED.findall(" " + sentence.strip()[1:] if sentence else "")
        if text is title and len(capitalised) > 0.5 * len(_WORD.findall(text)):
            continue
        found.update(_stem(w.lower()) for w in capitalised if w.lower() not in _STOP)
    return frozenset(found)


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


# --- clustering ----------------------------------------------------------------------------------


@dataclass
class StoryClusterer:
    """Incremental story assignment over a sliding time window (see the module docstring)."""

    params: ClusterParams = field(default_factory=ClusterParams)

    def __post_init__(self) -> None:
        self._buckets: list[dict[bytes, set[str]]] = [{} for _ in range(self.params.bands)]
        seed = MinHash(num_perm=self.params.bands * self.params.rows)
        self._permutations = seed.permutations
        self._scheme = seed.scheme
        self._entries: dict[str, _Entry] = {}
        self._expiry: list[tuple[datetime, int, str]] = []  # min-heap on time
        self._seeds: dict[str, _Entry] = {}  # story id -> its first item, while inside the window
        self._links: dict[str, str] = {}  # canonical link -> id of the first item with it
        self._df: Counter[str] = Counter()
        self._newest: datetime | None = None
        self._seq = 0

    def __len__(self) -> int:
        """Items currently inside the window."""
        return len(self._entries)

    def assign(self, doc: StoryDoc) -> Assignment:
        """Put one item into a story (an existing one, or a new one named after the item)."""
        known = self._entries.get(doc.id)
        if known is not None:  # the same item again (edited or re-sent): same story, not a new source
            return Assignment(story=known.story, created=False, copy_of=known.copy_of or known.id, score=1.0)
        at = self._time(doc)
        words, found_names = content_words(doc.title, doc.summary), names(doc.title, doc.summary)
        bands = self._bands(words)
        self._count(words, +1)
        idf = {w: self._idf(w) for w in words}
        best: tuple[float, _Entry] | None = None
        copy: _Entry | None = self._entries.get(self._links.get(doc.link, "")) if doc.link else None
        for key in self._candidates(bands):
            other = self._entries.get(key)
            if other is None or abs(at - other.at) > self.params.window:
                continue
            if self._is_copy(doc, words, other):
                if copy is None or other.at < copy.at:
                    copy = other
                continue
            score = self._score(words, idf, found_names, at, other)
            if (
                score is not None
                and (best is None or score > best[0])
                and self._fits_seed(words, idf, at, other)
            ):
                best = (score, other)
        if copy is not None:
            story, copy_of, score = copy.story, copy.copy_of or copy.id, 1.0
        elif best is not None:
            story, copy_of, score = best[1].story, None, best[0]
        else:
            story, copy_of, score = doc.id, None, 0.0
        self._add(doc, at, words, found_names, bands, story, copy_of, sum(idf.values()))
        return Assignment(story=story, created=story == doc.id, copy_of=copy_of, score=round(score, 3))

    def restore(self, doc: StoryDoc, story: str, copy_of: str | None = None) -> None:
        """Put back an item whose story was decided earlier (daemon start-up, another instance's item)."""
        if doc.id in self._entries:
            return
        words = content_words(doc.title, doc.summary)
        self._count(words, +1)
        found, weight = names(doc.title, doc.summary), sum(self._idf(w) for w in words)
        self._add(doc, self._time(doc), words, found, self._bands(words), story, copy_of, weight)

    # --- internals -------------------------------------------------------------------------------

    def _time(self, doc: StoryDoc) -> datetime:
        if doc.published_at is not None:
            return _aware(doc.published_at)
        return self._newest or datetime.now(UTC)

    def _bands(self, words: frozenset[str]) -> list[bytes]:
        """The item's LSH bucket keys: its MinHash signature cut into bands of `rows` values."""
        if not words:
            return []
        params = self.params
        minhash = MinHash(
            num_perm=params.bands * params.rows, permutations=self._permutations, scheme=self._scheme
        )
        minhash.update_batch([w.encode() for w in words])
        signature = minhash.hashvalues.reshape(params.bands, params.rows)
        return [row.tobytes() for row in signature]

    def _candidates(self, bands: list[bytes]) -> set[str]:
        found: set[str] = set()
        for buckets, key in zip(self._buckets, bands, strict=False):
            members = buckets.get(key)
            if members:
                found |= members
        return found

    def _count(self, words: frozenset[str], delta: int) -> None:
        df = self._df
        for word in words:
            df[word] += delta
            if df[word] <= 0:
                del df[word]

    def _idf(self, word: str) -> float:
        """Inverse document frequency over the window, as if it held at least `idf_floor` items: a young
        or quiet window (a fresh daemon, one feed) must not make every shared word look common."""
        items = max(len(self._entries), self.params.idf_floor)
        return math.log((items + 2) / (self._df.get(word, 0) + 1)) + 0.5

    def _is_copy(self, doc: StoryDoc, words: frozenset[str], other: _Entry) -> bool:
        if doc.link and doc.link == other.link:
            return True
        if not words or not other.words:
            return False
        overlap = len(words & other.words)
        return overlap / (len(words) + len(other.words) - overlap) >= self.params.copy_similarity

    def _fits_seed(self, words: frozenset[str], idf: dict[str, float], at: datetime, other: _Entry) -> bool:
        """Single-link chains drift (A like B, B like C, C nothing like A); every member must also resemble
        the story's first item, which must still be inside the window."""
        seed = self._seeds.get(other.story)
        if seed is None or abs(at - seed.at) > self.params.window:
            return False
        if seed is other:
            return True
        inter = sum(idf[w] for w in words & seed.words)
        return inter / max(sum(idf.values()) + seed.weight - inter, 1e-9) >= self.params.seed_similarity

    def _score(
        self, words: frozenset[str], idf: dict[str, float], found: frozenset[str], at: datetime, other: _Entry
    ) -> float | None:
        """IDF-weighted Jaccard if it clears the bar set by time and entity evidence, else None."""
        shared = words & other.words
        if not shared:
            return None
        inter = sum(idf[w] for w in shared)
        similarity = inter / max(sum(idf.values()) + other.weight - inter, inter)
        hours = abs((at - other.at).total_seconds()) / 3600
        window_hours = self.params.window.total_seconds() / 3600
        bar = self.params.similarity + self.params.time_penalty * min(hours / window_hours, 1.0)
        if not (found & other.names):
            bar = max(bar, self.params.alone_similarity)
        if similarity < bar:
            return None
        return similarity

    def _add(
        self,
        doc: StoryDoc,
        at: datetime,
        words: frozenset[str],
        found_names: frozenset[str],
        bands: list[bytes],
        story: str,
        copy_of: str | None,
        weight: float,
    ) -> None:
        entry = _Entry(doc.id, story, doc.outlet, doc.link, at, words, found_names, copy_of, bands, weight)
        self._entries[doc.id] = entry
        if doc.link:
            self._links.setdefault(doc.link, doc.id)
        if story == doc.id or story not in self._seeds:
            self._seeds.setdefault(story, entry)
        for buckets, key in zip(self._buckets, bands, strict=False):
            buckets.setdefault(key, set()).add(doc.id)
        self._seq += 1
        heapq.heappush(self._expiry, (at, self._seq, doc.id))
        if self._newest is None or at > self._newest:
            self._newest = at
        self._evict()

    def _evict(self) -> None:
        assert self._newest is not None
        horizon = self._newest - self.params.window
        while self._expiry and self._expiry[0][0] < horizon:
            _at, _seq, key = heapq.heappop(self._expiry)
            entry = self._entries.pop(key, None)
            if entry is None:
                continue
            if self._seeds.get(entry.story) is entry:
                del self._seeds[entry.story]
            if entry.link and self._links.get(entry.link) == key:
                del self._links[entry.link]
            for buckets, band in zip(self._buckets, entry.bands, strict=False):
                members = buckets[band]
                members.discard(key)
                if not members:
                    del buckets[band]
            self._count(entry.words, -1)


# --- JSON Lines records (news-monitor cluster, bench/stories.py) --------------------------------


def _parse_time(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return _aware(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str) and value.strip():
        try:
            return _aware(datetime.fromisoformat(value.strip().replace("Z", "+00:00")))
        except ValueError:
            return None
    return None


def doc_from_record(record: Mapping[str, Any]) -> StoryDoc:
    """An input record (`id, title, summary|description, link, published|date, outlet`) as a StoryDoc."""
    from monitor.stories import canonical_url

    link = record.get("link")
    return StoryDoc(
        id=str(record.get("id")),
        title=str(record.get("title") or ""),
        summary=str(record.get("summary") or record.get("description") or ""),
        outlet=str(record.get("outlet") or ""),
        link=canonical_url(link) if isinstance(link, str) and link.strip() else None,
        published_at=_parse_time(record.get("published") or record.get("date")),
    )


def cluster_records(
    records: Iterable[Mapping[str, Any]], clusterer: StoryClusterer
) -> Iterator[tuple[StoryDoc, Assignment]]:
    """Assign each record, in input order, streaming: the code path of `news-monitor cluster`."""
    for record in records:
        doc = doc_from_record(record)
        yield doc, clusterer.assign(doc)
