"""Story clustering: which items, from any outlet, report the same event. Pure: no database, and no I/O
beyond reading the shipped scorer weights once.

`news-monitor cluster` and the daemon share `StoryClusterer`, so a backtest measures exactly what runs.

How an item joins a story
    Each item is a TF-IDF vector over its content words (`monitor.stories.words`), IDF counted over the
    items inside the time window, so a word that is everywhere this week, such as the name of an ongoing
    war, weighs little while the place and people of one event weigh much. The item is compared, by cosine,
    with every window item that shares a rare word with it (an inverted index); each one at cosine >=
    `similarity` is scored by the pair scorer (`monitor.stories.scorer`). A story's score is the log of the
    summed odds of its `story_members` likeliest reports, counting only those at least as likely the same
    event as not, and a report with its reprints once: a follow-up that resembles three reports of a story
    somewhat is better evidence than one that resembles one report. The item joins the best-scoring story
    whose score reaches `story_score`, or in which one report alone reaches `join_score`, and whose core
    admits it; else it founds a new story named after its own id. How the bars were chosen, and what
    limits recall, is measured by `bench/stories.py` (see its docstring).

The core: stories do not chain
    Resembling one member is not enough. A story's core is the centroid (sum of unit TF-IDF vectors) of
    its first `core_reports` reports (a report and its reprints once); an item joins only a story whose
    core it resembles at cosine >= `core_similarity`, and, with `core_span`, only within that long of the
    story's first report. Without it a story grew from one incident to the next through items that each
    resemble only the latest (the largest 2022 story held 228 items: a month of missile launches); with it
    another strike, another launch or a new phase starts a new story. A reprint joins its original's story
    whatever the core says.

    A story stays open while any of its members is inside the window (with `core_span`, at most that long);
    each item is only ever compared with reports inside the window.

Why an exact inverted index, not MinHash-LSH or SimHash
    They estimate plain Jaccard over shingles: made for near-duplicates and blind to rare-word weighting,
    which is what tells the same event told in other words from another event told in similar words. For
    one-paragraph items an exact inverted index over the window's rare words is also cheap (a few hundred
    postings per item) and gives the exact weighted similarity instead of an estimate.

Syndication
    An item whose words nearly equal (plain Jaccard >= `copy_similarity`) an earlier member's, or whose
    canonical link is the same, is a copy of it. A report and its copies count as one source; the store
    lists the one published first as the original and the others as reprints, whatever order they arrived in.

Memory
    Everything older than the window (relative to the newest item seen) is evicted, so memory is bounded by
    the window, not by history. Items may arrive somewhat out of order (feeds are polled separately).
"""

from __future__ import annotations

import heapq
import math
import operator
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import repeat
from typing import Any

from monitor.core.clock import as_utc
from monitor.feeds.identity import canonical_url
from monitor.feeds.text import html_to_text
from monitor.stories.scorer import Weights, pair_features, score, trained_weights
from monitor.stories.words import item_words

__all__ = [
    "Assignment",
    "ClusterParams",
    "StoryClusterer",
    "StoryDoc",
    "cluster_records",
    "doc_from_record",
]


@dataclass(frozen=True)
class ClusterParams:
    """Knobs of the story clustering; `stories:` in the config fills them."""

    window: timedelta = timedelta(hours=48)  # how far apart two reports of one event may be
    similarity: float = 0.1  # cosine below which two reports are never joined (nor scored)
    join_score: float = 2.0  # logit of the pair score (monitor.stories.scorer) with which one member carries
    copy_similarity: float = 0.75  # plain Jaccard from which an item is a syndicated copy
    story_score: float = 2.5  # log of the summed odds of a story's likeliest reports that also carries
    story_members: int = 3  # how many of a story's likeliest reports that sum counts
    idf_floor: int = 1000  # IDF is computed as if the window held at least this many items
    common_share: float = 0.02  # words in more than this share of the window do not fetch candidates
    core_reports: int = 8  # a story's first this many reports (a report with its reprints once) are its core
    core_similarity: float = 0.15  # cosine with the centroid of a story's core below which no item joins it
    core_span: timedelta | None = timedelta(
        hours=36
    )  # no item joins a story this long after its first report

    def __post_init__(self) -> None:
        if self.story_members < 1:
            raise ValueError(f"story_members must be at least 1, not {self.story_members}")
        if self.core_reports < 1:
            raise ValueError(f"core_reports must be at least 1, not {self.core_reports}")
        if not 0 <= self.core_similarity <= 1:
            raise ValueError(f"core_similarity must be between 0 and 1, not {self.core_similarity}")
        if self.core_span is not None and self.core_span <= timedelta(0):
            raise ValueError(f"core_span must be positive, not {self.core_span}")


@dataclass(frozen=True, slots=True)
class StoryDoc:
    """What clustering needs of an item; `id` is unique in the stream (feed+key in the daemon)."""

    id: str
    title: str  # plain text, as `monitor.feeds.text.html_to_text` gives it (the parser, `doc_from_record`)
    summary: str = ""
    outlet: str = ""
    link: str | None = None  # canonical link
    published_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Assignment:
    story: str  # story id: the id of the item that founded the story
    created: bool  # this item founded the story
    copy_of: str | None  # id of the earlier-arrived member whose text or link this item repeats
    score: float  # cosine with the best member (1.0 for a copy, 0.0 for a new story)


@dataclass(slots=True, eq=False)  # hashed by identity: postings and candidate sums key on entries
class _Entry:
    """A window item: what the scorer reads of it (see `monitor.stories.scorer.ScoredItem`) and its story."""

    id: str
    story: str
    link: str | None
    ts: float  # publication time, POSIX seconds (float arithmetic is far cheaper than datetime's)
    words: frozenset[str]
    names: frozenset[str]
    copy_of: str | None
    vector: dict[str, float]  # word -> IDF when the item arrived (IDF drifts little within a window)
    norm: float
    title: frozenset[str] = frozenset()
    numbers: frozenset[str] = frozenset()
    outlet: str = ""
    title_norm: float = 1.0
    title_mass: float = 1.0  # sum of the title words' weights


@dataclass(slots=True, eq=False)
class _Core:
    """What a story's new members are checked against: the centroid of its first reports."""

    first: float  # publication time of its earliest member, POSIX seconds
    vector: dict[str, float] = field(default_factory=dict)  # sum of the core reports' unit vectors
    square: float = 0.0  # squared norm of `vector`
    reports: int = 0  # reports in the core (a copy adds nothing)
    members: int = 0  # members inside the window: the core is dropped with the story's last one

    def add(self, vector: dict[str, float], norm: float) -> None:
        """Add one report's unit vector to the centroid."""
        core, square = self.vector, self.square
        scale = 1.0 / norm
        for word, weight in vector.items():
            unit = weight * scale
            old = core.get(word, 0.0)
            core[word] = old + unit
            square += unit * (2.0 * old + unit)
        self.square, self.reports = square, self.reports + 1

    def cosine(self, vector: dict[str, float], norm: float) -> float:
        """Cosine of an item's vector with the centroid."""
        core = self.vector
        get = core.get
        dot = 0.0
        for word, weight in vector.items():
            other = get(word)
            if other is not None:
                dot += weight * other
        return dot / (norm * math.sqrt(self.square)) if self.square > 0 else 0.0


def _cosine(a: _Entry, b: _Entry) -> float:
    small, large = (a.vector, b.vector) if len(a.vector) <= len(b.vector) else (b.vector, a.vector)
    dot = 0.0
    for word, weight in small.items():
        other = large.get(word)
        if other is not None:
            dot += weight * other
    return dot / (a.norm * b.norm)


class _LogSize(dict[int, float]):
    """Posting size -> log(size + 2): an item's IDF weights are one subtraction each from a cached
    logarithm (see `_vector`), whatever the window's size, which changes with almost every item."""

    __slots__ = ()

    def __missing__(self, size: int) -> float:
        value = self[size] = math.log(size + 2)
        return value


_LOG_SIZE = _LogSize()


@dataclass
class StoryClusterer:
    """Incremental story assignment over a sliding time window (see the module docstring)."""

    params: ClusterParams = field(default_factory=ClusterParams)
    weights: Weights = field(default_factory=trained_weights)  # of the pair scorer

    def __post_init__(self) -> None:
        self._entries: dict[str, _Entry] = {}
        # word -> {window item: its weight / its norm}: a sum over postings is cosine x this item's norm
        self._postings: dict[str, dict[_Entry, float]] = {}
        self._expiry: list[tuple[float, int, str]] = []  # min-heap on time
        self._links: dict[str, str] = {}  # canonical link -> id of the first item with it
        self._texts: dict[frozenset[str], str] = {}  # word set -> id of the first item with it
        self._cores: dict[str, _Core] = {}  # story id -> its core, while a member is inside the window
        self._core_span = None if self.params.core_span is None else self.params.core_span.total_seconds()
        self._newest: float | None = None
        self._seq = 0
        self._window = self.params.window.total_seconds()

    def __len__(self) -> int:
        """Items currently inside the window."""
        return len(self._entries)

    def assign(self, doc: StoryDoc) -> Assignment:
        """Put one item into a story (an existing one, or a new one named after the item)."""
        known = self._entries.get(doc.id)
        if known is not None:  # the same item again (edited or re-sent): same story, not a new source
            return Assignment(story=known.story, created=False, copy_of=known.copy_of or known.id, score=1.0)
        entry = self._entry(doc, self._time(doc))
        words = entry.words
        copy = self._entries.get(self._links.get(doc.link, "")) if doc.link else None
        if copy is None and words:
            copy = self._entries.get(self._texts.get(words, ""))
        story_id, score = doc.id, 0.0
        if copy is None and words:
            copy, story_id, score = self._search(entry)
        copy_of = None
        if copy is not None:
            story_id, copy_of, score = copy.story, copy.copy_of or copy.id, 1.0
        entry.story, entry.copy_of = story_id, copy_of
        self._add(entry)
        return Assignment(story=story_id, created=story_id == doc.id, copy_of=copy_of, score=round(score, 3))

    def restore(
        self, doc: StoryDoc, story: str, copy_of: str | None = None, started: datetime | None = None
    ) -> None:
        """Put back an item whose story was decided earlier (daemon start-up, another instance's item).
        `started`: when the story's founding item was published, which may be outside the window by now,
        so that `core_span` counts from the same moment after a restart."""
        if doc.id in self._entries:
            return
        entry = self._entry(doc, self._time(doc))
        entry.story, entry.copy_of = story, copy_of
        self._add(entry)
        started_at = as_utc(started)
        if started_at is not None:
            core = self._cores.get(story)
            if core is not None:
                core.first = min(core.first, started_at.timestamp())

    def pair_features(self, doc: StoryDoc, other_id: str, floor: float = -math.inf) -> list[float] | None:
        """The scorer's features of an item, as if it arrived now, against a window item (None when that
        item is not in the window, or when the pair's logit provably stays below `floor`): what
        `bench/train_story_scorer.py` fits the weights on."""
        other = self._entries.get(other_id)
        if other is None:
            return None
        entry = self._entry(doc, self._time(doc))
        return pair_features(entry, other, _cosine(entry, other), floor, self.weights)

    def _entry(self, doc: StoryDoc, ts: float) -> _Entry:
        words, found_names, title, numbers = item_words(doc.title, doc.summary)
        vector, norm = self._vector(words)
        title_weights = list(map(vector.__getitem__, title))
        title_norm = math.sqrt(sum(map(operator.mul, title_weights, title_weights))) or 1.0
        return _Entry(
            doc.id, doc.id, doc.link, ts, words, found_names, None, vector, norm, title, numbers,
            doc.outlet, title_norm, sum(title_weights) or 1.0,
        )  # fmt: skip

    # --- internals -------------------------------------------------------------------------------

    def _time(self, doc: StoryDoc) -> float:
        published = as_utc(doc.published_at)
        if published is not None:
            return published.timestamp()
        return self._newest if self._newest is not None else datetime.now(UTC).timestamp()

    def _vector(self, words: frozenset[str]) -> tuple[dict[str, float], float]:
        """IDF weights over the window (this item counted in), as if the window held at least `idf_floor`
        items: a young or quiet window must not make every shared word look rare."""
        # weight = log((max(window size, idf_floor) + 2) / (posting size + 2)) + 0.5, built in C, in the
        # order of `words`
        top = math.log(max(len(self._entries), self.params.idf_floor) + 2) + 0.5
        sizes = map(len, map(self._postings.get, words, repeat(())))
        vector = dict(zip(words, map(top.__sub__, map(_LOG_SIZE.__getitem__, sizes)), strict=True))
        weights = list(vector.values())
        return vector, math.sqrt(sum(map(operator.mul, weights, weights))) or 1.0

    def _search(self, entry: _Entry) -> tuple[_Entry | None, str, float]:
        """(earlier item this one copies, or None; story to join; cosine with its best member).

        Candidates are the window items sharing a rare word (one in at most `common_share` of the window).
        Their dot products (over the candidate's norm) are summed from the postings, rare words first, then
        the common words for those candidates only (a set intersection per common word, in C); candidates at
        cosine >= `similarity` are scored, and the item joins the story that scores best among those that
        clear `story_score` or `join_score`."""
        params = self.params
        ts, words, vector, norm = entry.ts, entry.words, entry.vector, entry.norm
        postings = self._postings
        limit = max(len(self._entries), params.idf_floor) * params.common_share
        dots: dict[_Entry, float] = {}
        get = dots.get
        common: list[tuple[dict[_Entry, float], float]] = []
        for word, weight in vector.items():
            posting = postings.get(word)
            if posting is None:
                continue
            if len(posting) > limit:
                common.append((posting, weight))
                continue
            for other, other_weight in posting.items():
                dots[other] = get(other, 0.0) + weight * other_weight
        candidates = dots.keys()
        for posting, weight in common:
            for other in posting.keys() & candidates:
                dots[other] += weight * posting[other]
        window, copy_floor, join, weights = self._window, self._copy_floor, params.join_score, self.weights
        bar = min(params.similarity, copy_floor) * norm
        passing = [(other, dot) for other, dot in dots.items() if dot >= bar]
        evidence = min(0.0, join)  # a member scored below even odds says nothing for its story
        copy: _Entry | None = None
        # story -> report (an original with its copies counts once) -> (logit, cosine) of its best member
        reports: dict[str, dict[str, tuple[float, float]]] = {}
        for other, dot in passing:
            if abs(ts - other.ts) > window:
                continue
            similarity = dot / norm
            if similarity >= copy_floor and self._is_copy(words, other.words):
                if copy is None or (other.ts, other.id) < (copy.ts, copy.id):
                    copy = other
                continue
            if similarity < params.similarity:
                continue
            features = pair_features(entry, other, similarity, evidence, weights)
            if features is None:
                continue
            logit = score(features, weights)
            if logit < evidence:
                continue
            story = reports.get(other.story)
            if story is None:
                story = reports[other.story] = {}
            report = other.copy_of or other.id
            known = story.get(report)
            if known is None or (logit, similarity) > known:
                story[report] = (logit, similarity)
        if copy is not None:
            return copy, copy.story, 1.0
        ranked: list[tuple[float, str, float]] = []
        top, story_score = params.story_members, params.story_score
        for story_id, story in reports.items():
            scored = sorted(story.values(), reverse=True)
            best, similarity = scored[0]
            # log of the summed odds of its `top` likeliest reports: several reports that each resemble
            # the item somewhat are better evidence than one that does
            logit = best + math.log(sum(math.exp(member - best) for member, _ in scored[:top]))
            if best >= join or logit >= story_score:
                ranked.append((-logit, story_id, similarity))
        ranked.sort()
        for _logit, story_id, similarity in ranked:
            if self._near_core(entry, story_id):
                return None, story_id, similarity
        return None, entry.id, 0.0

    def _near_core(self, entry: _Entry, story_id: str) -> bool:
        """Whether an item may join a story: close enough to the centroid of the story's core (its first
        `core_reports` reports) and, with `core_span`, not too long after its first report. Without it, a
        story would chain: each item resembling only the latest, from one incident to the next."""
        core = self._cores.get(story_id)
        if core is None:
            return True
        span = self._core_span
        if span is not None and entry.ts - core.first > span:
            return False
        threshold = self.params.core_similarity
        return threshold <= 0 or core.cosine(entry.vector, entry.norm) >= threshold

    @property
    def _copy_floor(self) -> float:
        """Cosine below which two items cannot be copies: plain Jaccard J >= c implies cosine >= c (and
        IDF weighting moves it little), so verifying the word sets is needed only above it."""
        return min(self.params.copy_similarity, 1.0) * 0.7

    def _is_copy(self, words: frozenset[str], other: frozenset[str]) -> bool:
        shared = len(words & other)
        return shared / (len(words) + len(other) - shared) >= self.params.copy_similarity

    def _add(self, entry: _Entry) -> None:
        doc_id, ts, words, vector = entry.id, entry.ts, entry.words, entry.vector
        self._entries[doc_id] = entry
        if entry.link:
            self._links.setdefault(entry.link, doc_id)
        if words:
            self._texts.setdefault(words, doc_id)
        core = self._cores.get(entry.story)
        if core is None:
            core = self._cores[entry.story] = _Core(ts)
        elif ts < core.first:
            core.first = ts
        core.members += 1
        if entry.copy_of is None and vector and core.reports < self.params.core_reports:
            core.add(vector, entry.norm)
        postings = self._postings
        scale = 1.0 / entry.norm
        for word, weight in vector.items():
            posting = postings.get(word)
            if posting is None:
                postings[word] = {entry: weight * scale}
            else:
                posting[entry] = weight * scale
        self._seq += 1
        heapq.heappush(self._expiry, (ts, self._seq, doc_id))
        if self._newest is None or ts > self._newest:
            self._newest = ts
        self._evict(self._newest - self._window)

    def _evict(self, horizon: float) -> None:
        postings = self._postings
        expiry = self._expiry
        while expiry and expiry[0][0] < horizon:
            _ts, _seq, key = heapq.heappop(expiry)
            entry = self._entries.pop(key, None)
            if entry is None:
                continue
            if entry.link and self._links.get(entry.link) == key:
                del self._links[entry.link]
            if entry.words and self._texts.get(entry.words) == key:
                del self._texts[entry.words]
            core = self._cores.get(entry.story)
            if core is not None:
                core.members -= 1
                if core.members <= 0:
                    del self._cores[entry.story]
            for word in entry.words:
                posting = postings[word]
                del posting[entry]
                if not posting:
                    del postings[word]


# --- JSON Lines records (news-monitor cluster, bench/stories.py) --------------------------------


def _parse_time(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return as_utc(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str) and value.strip():
        try:
            return as_utc(datetime.fromisoformat(value.strip().replace("Z", "+00:00")))
        except ValueError:
            return None
    return None


def doc_from_record(record: Mapping[str, Any]) -> StoryDoc:
    """An input record (`id, title, summary|description, link, published|date, outlet`) as a StoryDoc: text
    through the one HTML-to-text and links canonicalised, as the daemon's parser gives them."""
    link = record.get("link")
    return StoryDoc(
        id=str(record.get("id")),
        title=html_to_text(record.get("title")),
        summary=html_to_text(record.get("summary") or record.get("description")),
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
