"""Presearch: one inverted index over the leaf words of every rule, so per-item cost follows the item's length.

Evaluating every rule against every item costs O(rules) per item. Instead, all rules of a pack compile
together:

- **Keys.** Every leaf a query (or entity alias) looks for gets a small int id: a stem (``attack``), an exact
  folded surface (``=forces``) or a prefix (``mobili*``). :class:`Lexicon` maps an item *word* to the
  frozenset of key ids it satisfies — the stem and exact form are dict lookups, prefixes are looked up for
  each leading slice of the word (3 letters up to the longest prefix in the pack). Tokens are already words,
  so no substring automaton is needed; the result is cached per distinct word (news vocabulary is Zipfian,
  so nearly every lookup is a cache hit) and shared by all rules.
- **Requirements.** For every node, :func:`requirement` computes a set of keys at least one of which *must*
  occur for the node to match: a word or phrase needs its (most selective) key, OR needs the union of its
  children's, AND or NEAR needs any one child's (the smallest is taken), NOT contributes nothing (None =
  no bound), ``@entity`` needs one of its aliases, ``#topic`` the topic's requirement.
- **Index.** :class:`Presearch` maps key → rules (entities, topics, watches, by slot number). Per item, each
  distinct key present is looked up once; only the rules found (plus the few with no bound) are evaluated.
  The same requirement sets also prune subtrees inside a rule (see :mod:`monitor.match.nodes`).

A requirement is a necessary condition only, so the presearch never changes a result; it only skips work
(`tests/unit/test_match_presearch.py` checks this against full evaluation).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from monitor.match.nodes import (
    AndNode,
    Compiled,
    EntityRefNode,
    NearNode,
    NotNode,
    OrNode,
    ScopeNode,
    TopicRefNode,
    Words,
)
from monitor.match.text import stem

WORD_CACHE_MAX = 300_000  # distinct words remembered (cleared when full: memory stays bounded)


class _WordKeys(dict[str, tuple[int, ...]]):
    """word → key ids, computed on first use; a dict subclass so hits cost one C-level lookup.

    Tuples, not frozensets: a tuple of ints is untracked by the cyclic GC, so a large cache costs the
    collector nothing.
    """

    def __init__(self, lexicon: Lexicon) -> None:
        super().__init__()
        self.lexicon = lexicon

    def __missing__(self, word: str) -> tuple[int, ...]:
        if len(self) >= WORD_CACHE_MAX:
            self.clear()
        keys = self[word] = self.lexicon.keys_of(word)
        return keys


class Lexicon:
    """Key ids for every leaf of a pack, and the cached map from an item word to the keys it satisfies."""

    def __init__(self) -> None:
        self._ids: dict[tuple[str, str], int] = {}
        self.described: list[tuple[str, str]] = []  # key id → (kind, value)
        self._by_kind: dict[str, dict[str, int]] = {"stem": {}, "exact": {}, "prefix": {}}
        self._prefix_lengths: list[int] = []
        self._interned: dict[tuple[int, ...], tuple[int, ...]] = {}
        self.word_keys = _WordKeys(self)

    def key_id(self, kind: str, value: str) -> int:
        """The id of a leaf (kind "stem" | "exact" | "prefix"); registering it if new (compile time only)."""
        found = self._ids.get((kind, value))
        if found is None:
            found = self._ids[(kind, value)] = len(self.described)
            self.described.append((kind, value))
            self._by_kind[kind][value] = found
            if kind == "prefix" and len(value) not in self._prefix_lengths:
                self._prefix_lengths = sorted({*self._prefix_lengths, len(value)})
            self.word_keys.clear()
        return found

    def keys_of(self, word: str) -> tuple[int, ...]:
        """Key ids satisfied by one folded item word (uncached; use `word_keys[word]`)."""
        keys: list[int] = []
        stems, exacts, prefixes = self._by_kind["stem"], self._by_kind["exact"], self._by_kind["prefix"]
        if stems:
            found = stems.get(stem(word))
            if found is not None:
                keys.append(found)
        found = exacts.get(word)
        if found is not None:
            keys.append(found)
        for length in self._prefix_lengths:
            if length > len(word):
                break
            found = prefixes.get(word[:length])
            if found is not None:
                keys.append(found)
        result = tuple(keys)
        return self._interned.setdefault(result, result)

    def selectivity(self, key: int) -> tuple[int, int]:
        """Higher is rarer (a guess without statistics): whole words beat prefixes, longer beats shorter."""
        kind, value = self.described[key]
        return (0 if kind == "prefix" else 1, len(value))


def requirement(
    node: Compiled,
    lexicon: Lexicon,
    entity_req: Callable[[str], frozenset[int] | None],
    topic_req: Callable[[str], frozenset[int] | None],
) -> frozenset[int] | None:
    """Set `node.req` on `node` and its descendants (see the module docstring) and return it."""
    req: frozenset[int] | None
    if isinstance(node, Words):
        keys = set(node.keys)
        for group in node.phrases.values():
            for parts in group:
                keys.add(max(parts, key=lexicon.selectivity))
        req = frozenset(keys)
    elif isinstance(node, OrNode):
        reqs = [requirement(c, lexicon, entity_req, topic_req) for c in node.children]
        req = None if any(r is None for r in reqs) else frozenset().union(*reqs)  # type: ignore[arg-type]
    elif isinstance(node, AndNode | NearNode):
        sides = node.children if isinstance(node, AndNode) else [node.left, node.right]
        reqs = [requirement(c, lexicon, entity_req, topic_req) for c in sides]
        req = min((r for r in reqs if r is not None), key=len, default=None)
    elif isinstance(node, NotNode):
        requirement(node.child, lexicon, entity_req, topic_req)
        req = None
    elif isinstance(node, ScopeNode):
        req = requirement(node.child, lexicon, entity_req, topic_req)
    elif isinstance(node, EntityRefNode):
        req = entity_req(node.key)
    else:
        assert isinstance(node, TopicRefNode)
        req = topic_req(node.name)
    node.req = req
    return req


def clauses(node: Compiled, topic_clauses: Callable[[str], list[frozenset[int]]]) -> list[frozenset[int]]:
    """Key sets that must *all* meet the item for `node` to match (an AND of ORs; run after `requirement`).

    The presearch indexes a rule under one clause and checks the others with a set test before evaluating
    it: ``(@a OR @b) NEAR/10 (truce OR armistice)`` is found through its words and dropped cheaply when
    neither entity occurs.
    """
    out: list[frozenset[int]]
    if isinstance(node, AndNode):
        out = [c for child in node.children for c in clauses(child, topic_clauses)]
    elif isinstance(node, NearNode):
        out = clauses(node.left, topic_clauses) + clauses(node.right, topic_clauses)
    elif isinstance(node, ScopeNode):
        out = clauses(node.child, topic_clauses)
    elif isinstance(node, TopicRefNode):
        out = topic_clauses(node.name)
    else:
        out = [] if node.req is None else [node.req]
    return sorted(set(out), key=len)[:MAX_CLAUSES]


MAX_CLAUSES = 4


class Presearch:
    """key → rule slots; `candidates` gives the slots an item can possibly match.

    Each rule (slot) has a list of clauses (see `clauses`). It is indexed under one clause and a second one
    is verified per candidate with one set test (any further clauses are checked by the node-level
    requirements during evaluation). The indexed clause is the one whose keys are shared by the
    fewest rules: without word statistics, a key many rules mention (``talks``, a topic's vocabulary) is the
    best guess for a frequent one, and a candidate found through it would mostly be dropped by the other
    clauses anyway. A rule with no clause is evaluated on every item.
    """

    def __init__(self, rules: Iterable[list[frozenset[int]]]) -> None:
        rules = list(rules)
        popularity: dict[int, int] = {}
        for rule_clauses in rules:
            for key in set().union(*rule_clauses):
                popularity[key] = popularity.get(key, 0) + 1
        index: dict[int, list[int]] = {}
        always: list[int] = []
        rest: list[frozenset[int] | None] = []
        for slot, rule_clauses in enumerate(rules):
            if not rule_clauses:
                always.append(slot)
                rest.append(None)
                continue
            ranked = sorted(rule_clauses, key=lambda clause: sum(popularity[k] for k in clause))
            rest.append(ranked[1] if len(ranked) > 1 else None)
            for key in ranked[0]:
                index.setdefault(key, []).append(slot)
        self.index = {key: tuple(slots) for key, slots in index.items()}
        self.always = tuple(always)
        self.rest = rest

    def candidates(self, present: frozenset[int]) -> list[int]:
        """Sorted slots whose clauses all meet `present` (the keys of one item), plus unbounded ones."""
        found = set(self.always)
        index = self.index
        for key in present:
            slots = index.get(key)
            if slots is not None:
                found.update(slots)
        rest = self.rest
        return [
            slot for slot in sorted(found) if (clause := rest[slot]) is None or not clause.isdisjoint(present)
        ]
