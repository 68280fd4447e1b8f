"""Compile a rule pack and evaluate it against item text, with evidence.

Pure: no I/O, no logging. Evaluation works on a per-item token index (stem → positions, surface →
positions) built once per item by :func:`monitor.match.text.tokenize`; every query leaf is a lookup in that
index, memoised per item so topics sharing words pay once. A future presearch (Aho-Corasick over the leaf
words) can skip items before indexing without changing this evaluator.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from monitor.errors import QueryError
from monitor.match.query import (
    FIELDS,
    And,
    EntityRef,
    Near,
    Node,
    Not,
    Or,
    Scope,
    Term,
    TopicRef,
    _term,
    parse,
    topic_refs,
)
from monitor.match.rules import SEVERITY_ORDER, RulePack
from monitor.match.text import Token, tokenize

MAX_TERM_EVIDENCE = 10  # per topic: the first spans that made it match
MAX_ENTITY_EVIDENCE = 3  # per entity: its first mentions
_FIELD_ID = {name: index for index, name in enumerate(FIELDS)}
_RANK = {name: index for index, name in enumerate(SEVERITY_ORDER)}

Span = tuple[int, int]  # token index range [start, end) in the item's token list


# --- results -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Evidence:
    kind: str  # "term" | "entity"
    name: str  # topic name or entity key
    text: str  # the matched words as written in the source
    field: str  # "title" | "summary" | "content"
    start: int  # character offsets in that field
    end: int

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "text": self.text,
            "field": self.field,
            "start": self.start,
            "end": self.end,
        }


@dataclass(frozen=True)
class WatchHit:
    name: str
    severity: str
    topics: list[str]  # the watch's topics that matched


@dataclass(frozen=True)
class MatchResult:
    topics: list[str]  # every topic flagged for the item, whether or not a watch fired
    watches: list[WatchHit]
    entities: list[str]  # display labels, in order of first appearance
    evidence: list[Evidence] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "topics": list(self.topics),
            "watches": [
                {"name": w.name, "severity": w.severity, "topics": list(w.topics)} for w in self.watches
            ],
            "entities": list(self.entities),
            "evidence": [e.to_json() for e in self.evidence],
        }


# --- per-item index ------------------------------------------------------------------------------


class _Item:
    """Tokens of one item's fields plus lookup tables."""

    __slots__ = ("by_stem", "by_surface", "fields", "phrase_memo", "surfaces", "texts", "tokens")

    def __init__(self, texts: tuple[str, str, str]) -> None:
        self.texts = texts
        tokens: list[Token] = []
        fields: list[int] = []
        for field_id, text in enumerate(texts):
            if text:
                field_tokens = tokenize(text)
                tokens.extend(field_tokens)
                fields.extend([field_id] * len(field_tokens))
        by_stem: dict[str, list[int]] = {}
        by_surface: dict[str, list[int]] = {}
        for index, token in enumerate(tokens):
            by_stem.setdefault(token.stem, []).append(index)
            by_surface.setdefault(token.surface, []).append(index)
        self.tokens = tokens
        self.fields = fields
        self.by_stem = by_stem
        self.by_surface = by_surface
        self.surfaces: list[str] | None = None
        self.phrase_memo: dict[tuple[tuple[str, str], ...], list[Span]] = {}

    def prefix_positions(self, prefix: str) -> list[int]:
        if self.surfaces is None:
            self.surfaces = sorted(self.by_surface)
        surfaces = self.surfaces
        out: list[int] = []
        i = bisect.bisect_left(surfaces, prefix)
        while i < len(surfaces) and surfaces[i].startswith(prefix):
            out.extend(self.by_surface[surfaces[i]])
            i += 1
        return out

    def positions(self, kind: str, value: str) -> Sequence[int]:
        if kind == "stem":
            return self.by_stem.get(value, ())
        if kind == "exact":
            return self.by_surface.get(value, ())
        return self.prefix_positions(value)

    def phrase(self, parts: tuple[tuple[str, str], ...]) -> list[Span]:
        """Spans of consecutive tokens (in one field) matching `parts` ((kind, value) pairs)."""
        memo = self.phrase_memo.get(parts)
        if memo is not None:
            return memo
        n = len(parts)
        spans: list[Span] = []
        tokens, fields, count = self.tokens, self.fields, len(self.tokens)
        for p in self.positions(*parts[0]):
            if p + n > count or fields[p + n - 1] != fields[p]:
                continue
            for k in range(1, n):
                kind, value = parts[k]
                token = tokens[p + k]
                if kind == "stem":
                    if token.stem != value:
                        break
                elif kind == "exact":
                    if token.surface != value:
                        break
                elif not token.surface.startswith(value):
                    break
            else:
                spans.append((p, p + n))
        self.phrase_memo[parts] = spans
        return spans

    def evidence(self, kind: str, name: str, span: Span) -> Evidence:
        field_id = self.fields[span[0]]
        start, end = self.tokens[span[0]].start, self.tokens[span[1] - 1].end
        return Evidence(kind, name, self.texts[field_id][start:end], FIELDS[field_id], start, end)


class _Ctx:
    """State of one match() call: the item and the memos of topics and entities evaluated so far."""

    __slots__ = ("entities", "item", "matcher", "topics")

    def __init__(self, matcher: Matcher, item: _Item) -> None:
        self.matcher = matcher
        self.item = item
        self.topics: dict[str, list[Span] | None] = {}
        self.entities: dict[str, list[Span]] = {}

    def topic(self, name: str) -> list[Span] | None:
        if name not in self.topics:
            self.topics[name] = self.matcher._topics[name].root.eval(self, None)
        return self.topics[name]

    def entity(self, key: str) -> list[Span]:
        spans = self.entities.get(key)
        if spans is None:
            found = self.matcher._entities[key].words.eval(self, None)
            spans = self.entities[key] = _keep_outermost(found) if found else []
        return spans


# --- compiled query nodes (one eval per node type; None = no match, a list = the spans that matched) ---


def _in_scope(item: _Item, spans: list[Span], scope: int | None) -> list[Span] | None:
    if scope is not None:
        fields = item.fields
        spans = [s for s in spans if fields[s[0]] == scope]
    return spans or None


class _Words:
    """Any of a set of words and phrases (the leaves of one OR, merged so one item lookup serves all)."""

    __slots__ = ("exacts", "phrases", "prefixes", "stems")

    def __init__(self, terms: list[Term]) -> None:
        stems, exacts, prefixes, phrases = set(), set(), [], []
        for term in terms:
            parts = tuple((p.kind, p.value) for p in term.parts)
            if len(parts) > 1:
                phrases.append(parts)
            elif parts[0][0] == "stem":
                stems.add(parts[0][1])
            elif parts[0][0] == "exact":
                exacts.add(parts[0][1])
            else:
                prefixes.append(parts[0][1])
        self.stems = frozenset(stems)
        self.exacts = frozenset(exacts)
        self.prefixes = tuple(dict.fromkeys(prefixes))
        self.phrases = tuple(dict.fromkeys(phrases))

    def eval(self, ctx: _Ctx, scope: int | None) -> list[Span] | None:
        item = ctx.item
        spans: list[Span] = []
        if self.stems:
            by_stem = item.by_stem
            for value in self.stems.intersection(by_stem):
                spans.extend((p, p + 1) for p in by_stem[value])
        if self.exacts:
            by_surface = item.by_surface
            for value in self.exacts.intersection(by_surface):
                spans.extend((p, p + 1) for p in by_surface[value])
        for value in self.prefixes:
            spans.extend((p, p + 1) for p in item.prefix_positions(value))
        for parts in self.phrases:
            spans.extend(item.phrase(parts))
        return _in_scope(item, spans, scope)


class _And:
    __slots__ = ("children",)

    def __init__(self, children: list[_Compiled]) -> None:
        self.children = children

    def eval(self, ctx: _Ctx, scope: int | None) -> list[Span] | None:
        collected: list[Span] = []
        for child in self.children:
            spans = child.eval(ctx, scope)
            if spans is None:
                return None
            collected.extend(spans)
        return collected


class _Or:
    __slots__ = ("children",)

    def __init__(self, children: list[_Compiled]) -> None:
        self.children = children

    def eval(self, ctx: _Ctx, scope: int | None) -> list[Span] | None:
        result: list[Span] | None = None
        for child in self.children:
            spans = child.eval(ctx, scope)
            if spans is not None:
                result = spans if result is None else result + spans
        return result


class _Not:
    __slots__ = ("child",)

    def __init__(self, child: _Compiled) -> None:
        self.child = child

    def eval(self, ctx: _Ctx, scope: int | None) -> list[Span] | None:
        return [] if self.child.eval(ctx, scope) is None else None


class _Near:
    __slots__ = ("distance", "left", "right")

    def __init__(self, left: _Compiled, right: _Compiled, distance: int) -> None:
        self.left, self.right, self.distance = left, right, distance

    def eval(self, ctx: _Ctx, scope: int | None) -> list[Span] | None:
        left = self.left.eval(ctx, scope)
        if not left:
            return None
        right = self.right.eval(ctx, scope)
        if not right:
            return None
        fields, distance = ctx.item.fields, self.distance
        used: set[Span] = set()
        for a in left:
            for b in right:
                if fields[a[0]] != fields[b[0]]:
                    continue
                if a[1] <= b[0]:
                    gap = b[0] - a[1] + 1
                elif b[1] <= a[0]:
                    gap = a[0] - b[1] + 1
                else:
                    gap = 0
                if gap <= distance:
                    used.add(a)
                    used.add(b)
        return sorted(used) or None


class _Scope:
    __slots__ = ("child", "field")

    def __init__(self, field_id: int, child: _Compiled) -> None:
        self.field, self.child = field_id, child

    def eval(self, ctx: _Ctx, scope: int | None) -> list[Span] | None:
        return self.child.eval(ctx, self.field)


class _EntityRef:
    __slots__ = ("key",)

    def __init__(self, key: str) -> None:
        self.key = key

    def eval(self, ctx: _Ctx, scope: int | None) -> list[Span] | None:
        return _in_scope(ctx.item, ctx.entity(self.key), scope)


class _TopicRef:
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def eval(self, ctx: _Ctx, scope: int | None) -> list[Span] | None:
        if scope is None:
            return ctx.topic(self.name)
        return ctx.matcher._topics[self.name].root.eval(ctx, scope)


_Compiled = _Words | _And | _Or | _Not | _Near | _Scope | _EntityRef | _TopicRef


def _build(node: Node) -> _Compiled:
    """AST → evaluator tree; the word leaves of each OR (nested ORs flattened) become one _Words."""
    if isinstance(node, Term):
        return _Words([node])
    if isinstance(node, Or):
        terms: list[Term] = []
        others: list[_Compiled] = []
        stack = list(reversed(node.children))
        while stack:
            child = stack.pop()
            if isinstance(child, Or):
                stack.extend(reversed(child.children))
            elif isinstance(child, Term):
                terms.append(child)
            else:
                others.append(_build(child))
        children = ([_Words(terms)] if terms else []) + others
        return children[0] if len(children) == 1 else _Or(children)
    if isinstance(node, And):
        return _And([_build(c) for c in node.children])
    if isinstance(node, Not):
        return _Not(_build(node.child))
    if isinstance(node, Near):
        return _Near(_build(node.left), _build(node.right), node.distance)
    if isinstance(node, Scope):
        return _Scope(_FIELD_ID[node.field], _build(node.child))
    if isinstance(node, EntityRef):
        return _EntityRef(node.name)
    if isinstance(node, TopicRef):
        return _TopicRef(node.name)
    raise TypeError(f"unknown query node {node!r}")  # pragma: no cover


# --- compiled pack -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Entity:
    label: str
    words: _Words


@dataclass(frozen=True)
class _Topic:
    root: _Compiled
    severity: str


@dataclass(frozen=True)
class _Watch:
    name: str
    root: _Compiled
    topics: tuple[str, ...]
    enabled: bool


def _keep_outermost(spans: list[Span]) -> list[Span]:
    """Sorted, distinct spans, dropping any span inside another ("Karabakh" in "Nagorno-Karabakh")."""
    out: list[Span] = []
    for span in sorted(set(spans), key=lambda s: (s[0], -s[1])):
        if out and span[1] <= out[-1][1]:
            continue
        out.append(span)
    return out


class Matcher:
    """A compiled rule pack. Build with :meth:`compile`; :meth:`match` is thread-safe (no shared state)."""

    def __init__(
        self, entities: dict[str, _Entity], topics: dict[str, _Topic], watches: list[_Watch]
    ) -> None:
        self._entities = entities
        self._topics = topics
        self._watches = watches

    @classmethod
    def compile(cls, pack: RulePack) -> Matcher:
        """Compile every query of `pack`; raise the first QueryError (run check_rules() for all of them)."""
        matcher, errors = _compile(pack)
        if errors:
            raise errors[0][1]
        assert matcher is not None
        return matcher

    def match(self, *, title: str, summary: str = "", content: str = "") -> MatchResult:
        """Classify one item: every topic it is flagged for, the watches that fire, entities, evidence."""
        item = _Item((title or "", summary or "", content or ""))
        ctx = _Ctx(self, item)
        matched_topics: list[str] = []
        evidence: list[Evidence] = []
        for name in self._topics:
            spans = ctx.topic(name)
            if spans is not None:
                matched_topics.append(name)
                for span in _keep_outermost(spans)[:MAX_TERM_EVIDENCE]:
                    evidence.append(item.evidence("term", name, span))

        found: list[tuple[Span, str]] = []
        for key in self._entities:
            spans = ctx.entity(key)
            if spans:
                found.append((spans[0], key))
        found.sort()
        entity_labels = []
        for _, key in found:
            entity_labels.append(self._entities[key].label)
            for span in ctx.entity(key)[:MAX_ENTITY_EVIDENCE]:
                evidence.append(item.evidence("entity", key, span))

        hits: list[WatchHit] = []
        matched_set = set(matched_topics)
        for watch in self._watches:
            if not watch.enabled:
                continue
            if watch.topics:
                topics = [t for t in watch.topics if t in matched_set]
                if not topics:
                    continue
            else:
                topics = list(matched_topics)
            if watch.root.eval(ctx, None) is None:
                continue
            severity = max(
                (self._topics[t].severity for t in topics), key=_RANK.__getitem__, default="medium"
            )
            hits.append(WatchHit(watch.name, severity, topics))
        return MatchResult(matched_topics, hits, entity_labels, evidence)


# --- compilation ---------------------------------------------------------------------------------


def _compile(pack: RulePack) -> tuple[Matcher | None, list[tuple[str, QueryError]]]:
    errors: list[tuple[str, QueryError]] = []
    entities: dict[str, _Entity] = {}
    for key, spec in pack.entities.items():
        terms: list[Term] = []
        for alias in spec.aliases:
            try:
                terms.extend(_alias_terms(alias))
            except QueryError as error:
                errors.append((f"entities.{key}.aliases", error))
        entities[key] = _Entity(spec.display, _Words(terms))

    entity_names = set(pack.entities)
    topic_names = set(pack.topics)
    roots: dict[str, Node] = {}
    for name, spec in pack.topics.items():
        try:
            roots[name] = parse(spec.query, entities=entity_names, topics=topic_names)
        except QueryError as error:
            errors.append((f"topics.{name}.query", error))
    errors.extend(_topic_cycles(pack, roots))

    watches: list[_Watch] = []
    for index, spec in enumerate(pack.watches):
        try:
            root = parse(spec.query, entities=entity_names, topics=topic_names)
        except QueryError as error:
            errors.append((f"watches.{index}.query", error))
            continue
        watches.append(_Watch(spec.name, _build(root), tuple(spec.topics), spec.enabled))
    if errors:
        return None, errors
    topics = {name: _Topic(_build(root), pack.topics[name].severity) for name, root in roots.items()}
    return Matcher(entities, topics, watches), []


def _alias_terms(alias: str) -> list[Term]:
    """An entity alias is a phrase of its words (with hyphen/joined variants), never a query."""
    raw_words = [(w, 1) for w in alias.replace("*", " ").replace("=", " ").split()]
    if not raw_words:
        raise QueryError("empty entity alias", alias, 1)
    node = _term(alias, raw_words, alias, 1)
    return list(node.children) if isinstance(node, Or) else [node]  # type: ignore[list-item]


def _topic_cycles(pack: RulePack, roots: dict[str, Node]) -> list[tuple[str, QueryError]]:
    refs = {name: topic_refs(root) for name, root in roots.items()}
    errors: list[tuple[str, QueryError]] = []
    state: dict[str, int] = {}  # 1 = on the DFS stack, 2 = done

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for ref in refs.get(name, ()):
            if state.get(ref.name) == 1:
                cycle = " → ".join([*path[path.index(ref.name) :], ref.name])
                message = (
                    f"topic reference '#{ref.name}' makes a cycle ({cycle}); a topic cannot include itself"
                )
                errors.append(
                    (f"topics.{name}.query", QueryError(message, pack.topics[name].query, ref.column))
                )
            elif ref.name not in state and ref.name in refs:
                visit(ref.name, [*path, ref.name])
        state[name] = 2

    for name in refs:
        if name not in state:
            visit(name, [name])
    return errors


def check_rules(pack: RulePack) -> list[tuple[str, QueryError]]:
    """Every bad query of `pack` as ("topics.NAME.query" | "watches.INDEX.query", error); [] if all good."""
    return _compile(pack)[1]
