"""Story clustering: which items, from any outlet, report the same event. Pure: no database, no I/O.

`news-monitor cluster` and the daemon share `StoryClusterer`, so a backtest measures exactly what runs.

How an item joins a story
    Candidates come from an inverted index over the content words (title + summary, stop words dropped,
    light stemming) of the items inside the time window: the item's rarest words fetch the items that share
    them, and only those whose overlap could still reach the joining bar are verified. That keeps each step
    near-constant however long the history. A candidate is verified with an IDF-weighted Jaccard
    similarity (rare words such as place and person names weigh most; IDF is counted over the window),
    *entity evidence* (shared capitalised names) and *time evidence* (the bar rises with the time between
    the two reports, so two strikes on the same city on different days stay apart while the same event
    told in different words on the same day joins). A story is also compared as a whole: the centroid of
    its first independent members (each word weighted by the share of members using it) must clear the
    same bar. The item joins the best verified story, else founds a new story named after its own id.

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
    similarity: float = 0.08  # IDF-weighted Jaccard needed to join a story (same hour, shared name)
    time_penalty: float = 0.4  # added to `similarity` at a distance of one full window
    alone_similarity: float = 0.25  # needed when the two reports share no capitalised name
    copy_similarity: float = 0.75  # plain Jaccard from which an item is a syndicated copy
    idf_floor: int = 1000  # IDF is computed as if the window held at least this many items
    seed_similarity: float = 0.08  # also needed with the story's first item, so stories cannot drift
    common_share: float = 0.02  # words in more than this share of the window do not fetch candidates
    probe_words: int = 8  # at most this many of an item's rarest words fetch candidates
    profile_members: int = 8  # a story's centroid is built from its first this many independent members
    profile_margin: float = 0.0  # added to the bar when an item is compared with a story's centroid


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


_STEMS: dict[str, str] = {}  # lower-cased word -> stem ("" for a stop word); cleared when large


def content_words(title: str, summary: str = "") -> frozenset[str]:
    """Stemmed, lower-cased words of title and summary, stop words and one-letter words dropped."""
    text = _plain(f"{title}\n{summary}").lower()
    stems = _STEMS
    if len(stems) > 200_000:
        stems.clear()
    found = set()
    for word in _WORD.findall(text):
        stem = stems.get(word)
        if stem is None:
            stem = stems[word] = _stem(word) if len(word) > 1 and word not in _STOP else ""
        found.add(stem)
    found.discard("")
    return frozenset(found)


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


@dataclass(slots=True)
class _Story:
    seed: _Entry  # the first item: every member must resemble it (no drift)
    counts: Counter[str]  # word -> how many of the profile's members contain it
    names: set[str]
    size: int = 0  # members in the profile (the first `profile_members` independent ones)
    mass: float = 0.0  # sum of the profile members' weights
    last_at: datetime | None = None


@dataclass
class StoryClusterer:
    """Incremental story assignment over a sliding time window (see the module docstring)."""

    params: ClusterParams = field(default_factory=ClusterParams)

    def __post_init__(self) -> None:
        self._entries: dict[str, _Entry] = {}
        self._postings: dict[str, set[str]] = {}  # word -> ids of window items containing it
        self._expiry: list[tuple[datetime, int, str]] = []  # min-heap on time
        self._stories: dict[str, _Story] = {}  # story id -> profile, while its first item is in the window
        self._links: dict[str, str] = {}  # canonical link -> id of the first item with it
        self._texts: dict[frozenset[str], str] = {}  # word set -> id of the first item with it
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
        params = self.params
        at = self._time(doc)
        words, found_names = content_words(doc.title, doc.summary), names(doc.title, doc.summary)
        idf = self._idfs(words)
        weight = sum(idf.values())
        copy = self._entries.get(self._links.get(doc.link, "")) if doc.link else None
        if copy is None and words:
            copy = self._entries.get(self._texts.get(words, ""))
        best: tuple[float, str] | None = None
        if copy is None:
            window = params.window
            shared = self._overlaps(words, idf, weight)
            floor = params.similarity
            by_story: dict[str, float] = {}
            for key, inter in shared.items():
                other = self._entries[key]
                if abs(at - other.at) > window:
                    continue
                union = weight + other.weight - inter
                if union > 0 and len(words) + len(other.words) > 0:
                    plain = len(words & other.words) if inter / union >= params.copy_similarity * 0.5 else 0
                    if plain and plain / (len(words) + len(other.words) - plain) >= params.copy_similarity:
                        if copy is None or other.at < copy.at:
                            copy = other
                        continue
                similarity = inter / max(union, 1e-9)
                if similarity >= floor and similarity >= self._bar(at, other.at, found_names, other.names):
                    if similarity > by_story.get(other.story, 0.0):
                        by_story[other.story] = similarity
                elif params.profile_members > 1 and other.story not in by_story:
                    by_story[other.story] = 0.0
            if copy is None:
                for story_id, member_score in by_story.items():
                    story = self._stories.get(story_id)
                    if story is None or abs(at - story.seed.at) > window:
                        continue
                    score = member_score
                    if story.size > 1:
                        score = max(score, self._profile_score(words, idf, weight, found_names, at, story))
                    if score <= 0.0 or (best is not None and score <= best[0]):
                        continue
                    if story.seed is not None and not self._fits_seed(words, idf, weight, story.seed):
                        continue
                    best = (score, story_id)
        if copy is not None:
            story_id, copy_of, score = copy.story, copy.copy_of or copy.id, 1.0
        elif best is not None:
            (score, story_id), copy_of = best, None
        else:
            story_id, copy_of, score = doc.id, None, 0.0
        self._add(doc, at, words, found_names, story_id, copy_of, weight)
        return Assignment(story=story_id, created=story_id == doc.id, copy_of=copy_of, score=round(score, 3))

    def restore(self, doc: StoryDoc, story: str, copy_of: str | None = None) -> None:
        """Put back an item whose story was decided earlier (daemon start-up, another instance's item)."""
        if doc.id in self._entries:
            return
        words = content_words(doc.title, doc.summary)
        weight = sum(self._idfs(words).values())
        self._add(doc, self._time(doc), words, names(doc.title, doc.summary), story, copy_of, weight)

    # --- internals -------------------------------------------------------------------------------

    def _time(self, doc: StoryDoc) -> datetime:
        if doc.published_at is not None:
            return _aware(doc.published_at)
        return self._newest or datetime.now(UTC)

    def _idfs(self, words: frozenset[str]) -> dict[str, float]:
        """Inverse document frequency over the window (this item counted in), as if the window held at
        least `idf_floor` items: a young or quiet window must not make every shared word look common."""
        postings = self._postings
        items = max(len(self._entries), self.params.idf_floor) + 2
        log = math.log
        return {w: log(items / (len(postings.get(w, ())) + 2)) + 0.5 for w in words}

    def _overlaps(self, words: frozenset[str], idf: dict[str, float], weight: float) -> dict[str, float]:
        """Window items that could clear the lowest bar -> the IDF-weighted size of their overlap.

        An inverted index on words instead of MinHash-LSH: exact, and for one-paragraph items cheaper.
        Only the item's rarest words (at most `probe_words`, each in at most `common_share` of the
        window) fetch candidates; a candidate is then kept only if its overlap could still reach the
        lowest joining bar, and only then are the two word sets intersected."""
        params = self.params
        postings = self._postings
        limit = max(len(self._entries), params.idf_floor) * params.common_share
        probes = sorted((w for w in words if w in postings), key=idf.__getitem__, reverse=True)
        probes = [w for w in probes[: params.probe_words] if len(postings[w]) <= limit]
        if not probes:
            return {}
        acc: dict[str, float] = {}
        get = acc.get
        for word in probes:
            value = idf[word]
            for key in postings[word]:
                acc[key] = get(key, 0.0) + value
        rest = weight - sum(idf[w] for w in probes)  # the most the unprobed words can add
        lowest = min(params.similarity, params.seed_similarity)
        factor = lowest / (1 + lowest)  # J >= b  <=>  overlap >= b / (1 + b) * (weight_a + weight_b)
        entries = self._entries
        found: dict[str, float] = {}
        for key, probed in acc.items():
            other = entries[key]
            if probed + rest < factor * (weight + other.weight):
                continue
            found[key] = sum(idf[w] for w in words & other.words)
        return found

    def _bar(self, at: datetime, other_at: datetime, found: frozenset[str], other_names: Any) -> float:
        """The similarity needed to join: higher with the time between the reports, and without a shared
        capitalised name."""
        params = self.params
        distance = abs((at - other_at).total_seconds()) / params.window.total_seconds()
        bar = params.similarity + params.time_penalty * min(distance, 1.0)
        if found.isdisjoint(other_names):
            bar = max(bar, params.alone_similarity)
        return bar

    def _profile_score(
        self,
        words: frozenset[str],
        idf: dict[str, float],
        weight: float,
        found: frozenset[str],
        at: datetime,
        story: _Story,
    ) -> float:
        """Weighted Jaccard between the item and the story's centroid (each word weighs its IDF times the
        share of the profile's members that contain it), if it clears the bar, else 0. A story told by
        several outlets has more words for a new report to meet than any one of its members."""
        counts, size = story.counts, story.size
        inter = sum(idf[w] * counts[w] for w in words if w in counts) / size
        similarity = inter / max(weight + story.mass / size - inter, 1e-9)
        assert story.last_at is not None
        bar = self._bar(at, story.last_at, found, story.names) + self.params.profile_margin
        return similarity if similarity >= bar else 0.0

    def _fits_seed(self, words: frozenset[str], idf: dict[str, float], weight: float, seed: _Entry) -> bool:
        """Single-link chains drift (A like B, B like C, C nothing like A); every member must also resemble
        the story's first item, which must still be inside the window."""
        inter = sum(idf[w] for w in words & seed.words)
        return inter / max(weight + seed.weight - inter, 1e-9) >= self.params.seed_similarity

    def _add(
        self,
        doc: StoryDoc,
        at: datetime,
        words: frozenset[str],
        found_names: frozenset[str],
        story_id: str,
        copy_of: str | None,
        weight: float,
    ) -> None:
        entry = _Entry(doc.id, story_id, doc.outlet, doc.link, at, words, found_names, copy_of, weight)
        self._entries[doc.id] = entry
        if doc.link:
            self._links.setdefault(doc.link, doc.id)
        if words:
            self._texts.setdefault(words, doc.id)
        story = self._stories.get(story_id)
        if story is None and story_id == doc.id:
            story = self._stories[story_id] = _Story(entry, Counter(), set())
        if story is not None:
            if story.last_at is None or at > story.last_at:
                story.last_at = at
            if copy_of is None and story.size < self.params.profile_members:
                story.counts.update(words)
                story.names.update(found_names)
                story.size += 1
                story.mass += weight
        postings = self._postings
        for word in words:
            members = postings.get(word)
            if members is None:
                postings[word] = {doc.id}
            else:
                members.add(doc.id)
        self._seq += 1
        heapq.heappush(self._expiry, (at, self._seq, doc.id))
        if self._newest is None or at > self._newest:
            self._newest = at
        self._evict()

    def _evict(self) -> None:
        assert self._newest is not None
        horizon = self._newest - self.params.window
        postings = self._postings
        while self._expiry and self._expiry[0][0] < horizon:
            _at, _seq, key = heapq.heappop(self._expiry)
            entry = self._entries.pop(key, None)
            if entry is None:
                continue
            story = self._stories.get(entry.story)
            if story is not None and story.seed is entry:
                del self._stories[entry.story]
            if entry.link and self._links.get(entry.link) == key:
                del self._links[entry.link]
            if entry.words and self._texts.get(entry.words) == key:
                del self._texts[entry.words]
            for word in entry.words:
                members = postings[word]
                members.discard(key)
                if not members:
                    del postings[word]


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
