"""Compiled query nodes and the per-item index they are evaluated against.

An item is indexed once: every word is folded (:mod:`monitor.match.text`) and mapped, through a cache owned
by the compiled pack, to the *keys* it satisfies — small ints standing for a stem, an exact surface or a
prefix that some query of the pack looks for (see :mod:`monitor.match.presearch`). Words no query mentions
map to nothing, so the index holds only what the rules can use: `pos[key]` → the token spans with that key.
Character offsets are computed only when evidence is quoted.

Each node's `eval(ctx, scope)` returns None (no match) or the token spans that made it match; `req` is the
node's presearch requirement (a set of keys one of which the item must contain, None = unknown), checked
first so whole subtrees are skipped for items that cannot match them. `why(ctx, scope)` renders the
satisfied branch, see :mod:`monitor.match.engine`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from itertools import compress
from typing import Protocol

from monitor.match.query import FIELDS, And, EntityRef, Near, Node, Not, Or, Scope, Term, TopicRef
from monitor.match.text import fold, split_words, word_spans

Span = tuple[int, int]  # token index range [start, end) in the item's token list
KeyId = Callable[[str, str], int]  # (kind, value) → key id, assigned at compile time
_FIELD_ID = {name: index for index, name in enumerate(FIELDS)}
_OR, _AND, _NOT, _NEAR, _ATOM = 1, 2, 3, 4, 5  # precedence of a rendering, to parenthesise correctly


class ItemWords:
    """The words of one item's fields as key sets, plus key → spans (built once per item)."""

    __slots__ = ("_offsets", "fields", "folded", "phrase_memo", "pos", "present", "texts", "token_keys")

    def __init__(self, texts: tuple[str, str, str], word_keys: Mapping[str, tuple[int, ...]]) -> None:
        self.texts = texts
        lookup = word_keys.__getitem__
        token_keys: list[tuple[int, ...]] = []
        fields: list[int] = []
        folded_fields: list[tuple[str, list[int] | None] | None] = []
        for field_id, text in enumerate(texts):
            if not text:
                folded_fields.append(None)
                continue
            if text.isascii() and "`" not in text:  # the common case, without a call
                folded, origin = text.lower(), None
            else:
                folded, origin = fold(text)
            found = split_words(folded)
            folded_fields.append((folded, origin))
            token_keys.extend(map(lookup, found))
            fields.extend([field_id] * len(found))
        pos: defaultdict[int, list[Span]] = defaultdict(list)
        for p in compress(range(len(token_keys)), token_keys):  # only tokens that some rule looks for
            span = (p, p + 1)
            for key in token_keys[p]:
                pos[key].append(span)
        self.folded = folded_fields
        self.token_keys = token_keys
        self.fields = fields
        self.pos = pos
        self.present = frozenset(pos)
        self.phrase_memo: dict[tuple[int, ...], list[Span]] = {}
        self._offsets: list[tuple[int, int]] | None = None

    def phrase(self, parts: tuple[int, ...]) -> list[Span]:
        """Spans of consecutive tokens (in one field) whose keys include `parts` in order."""
        memo = self.phrase_memo.get(parts)
        if memo is not None:
            return memo
        n = len(parts)
        spans: list[Span] = []
        token_keys, fields, count = self.token_keys, self.fields, len(self.token_keys)
        for first, _ in self.pos.get(parts[0], ()):
            if first + n > count or fields[first + n - 1] != fields[first]:
                continue
            for k in range(1, n):
                if parts[k] not in token_keys[first + k]:
                    break
            else:
                spans.append((first, first + n))
        self.phrase_memo[parts] = spans
        return spans

    def char_span(self, span: Span) -> tuple[int, int, int]:
        """(field id, start, end) in the original text of a token span."""
        if self._offsets is None:
            self._offsets = []
            for entry in self.folded:
                if entry is not None:
                    self._offsets.extend(word_spans(*entry))
        field_id = self.fields[span[0]]
        return field_id, self._offsets[span[0]][0], self._offsets[span[1] - 1][1]


class Ctx(Protocol):
    """State of one match() call: the item plus memoised topics and entities (see engine._Ctx)."""

    item: ItemWords

    def topic(self, name: str) -> list[Span] | None: ...

    def topic_node(self, name: str) -> Compiled: ...

    def entity(self, key: str) -> list[Span]: ...


def in_scope(item: ItemWords, spans: list[Span], scope: int | None) -> list[Span] | None:
    if scope is not None:
        fields = item.fields
        spans = [s for s in spans if fields[s[0]] == scope]
    return spans or None


def _wrap(rendered: tuple[str, int], minimum: int) -> str:
    text, precedence = rendered
    return text if precedence >= minimum else f"({text})"


def _short(text: str, limit: int = 48) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


class Words:
    """Any of a set of words and phrases (the leaves of one OR, merged so one key lookup serves all)."""

    __slots__ = ("entries", "keys", "phrase_firsts", "phrases", "req", "text")

    def __init__(self, terms: list[Term], key_id: KeyId) -> None:
        keys: set[int] = set()
        phrases: dict[int, list[tuple[int, ...]]] = {}
        entries: dict[tuple[int, ...], str] = {}
        for term in terms:
            parts = tuple(key_id(p.kind, p.value) for p in term.parts)
            if len(parts) == 1:
                keys.add(parts[0])
            elif parts not in entries:
                phrases.setdefault(parts[0], []).append(parts)
            entries.setdefault(parts, f'"{term.text}"' if " " in term.text.strip() else term.text)
        self.keys = frozenset(keys)
        self.phrases = phrases
        self.phrase_firsts = frozenset(phrases)
        self.entries = entries  # key sequence → query text, for explanations
        self.text = " OR ".join(dict.fromkeys(entries.values()))
        self.req: frozenset[int] | None = None

    def eval(self, ctx: Ctx, scope: int | None) -> list[Span] | None:
        item = ctx.item
        pos = item.pos
        spans: list[Span] = []
        for key in self.keys.intersection(pos):
            spans.extend(pos[key])
        if self.phrase_firsts:
            for first in self.phrase_firsts.intersection(pos):
                for parts in self.phrases[first]:
                    spans.extend(item.phrase(parts))
        if not spans:
            return None
        if scope is None:
            return spans
        return in_scope(item, spans, scope)

    def why(self, ctx: Ctx, scope: int | None) -> tuple[str, int] | None:
        item = ctx.item
        fired = []
        for parts, text in self.entries.items():
            spans = item.pos.get(parts[0], []) if len(parts) == 1 else item.phrase(parts)
            if spans and in_scope(item, spans, scope):
                fired.append(text)
        fired = list(dict.fromkeys(fired))
        if not fired:
            return None
        return " OR ".join(fired), (_ATOM if len(fired) == 1 else _OR)


class AndNode:
    __slots__ = ("children", "order", "req")

    def __init__(self, children: list[Compiled]) -> None:
        self.children = children
        # NOT children last: they are expensive (a whole exclusion list) and only matter if the rest held
        self.order = [c for c in children if not isinstance(c, NotNode)] + [
            c for c in children if isinstance(c, NotNode)
        ]
        self.req: frozenset[int] | None = None

    def eval(self, ctx: Ctx, scope: int | None) -> list[Span] | None:
        req = self.req
        if req is not None and req.isdisjoint(ctx.item.present):
            return None
        collected: list[Span] = []
        for child in self.order:
            spans = child.eval(ctx, scope)
            if spans is None:
                return None
            collected.extend(spans)
        return collected

    def why(self, ctx: Ctx, scope: int | None) -> tuple[str, int] | None:
        parts: list[tuple[str, int]] = []
        absent: list[tuple[str, int]] = []
        for child in self.children:
            rendered = child.why(ctx, scope)
            if rendered is None:
                return None
            (absent if isinstance(child, NotNode) else parts).append(rendered)
        parts = parts or absent  # NOT conjuncts held too, but say nothing about what occurred
        if len(parts) == 1:
            return parts[0]
        return " AND ".join(_wrap(p, _NOT) for p in parts), _AND


class OrNode:
    __slots__ = ("children", "req")

    def __init__(self, children: list[Compiled]) -> None:
        self.children = children
        self.req: frozenset[int] | None = None

    def eval(self, ctx: Ctx, scope: int | None) -> list[Span] | None:
        req = self.req
        if req is not None and req.isdisjoint(ctx.item.present):
            return None
        result: list[Span] | None = None
        for child in self.children:
            spans = child.eval(ctx, scope)
            if spans is not None:
                result = spans if result is None else result + spans
        return result

    def why(self, ctx: Ctx, scope: int | None) -> tuple[str, int] | None:
        fired = [r for r in (c.why(ctx, scope) for c in self.children) if r is not None]
        if not fired:
            return None
        if len(fired) == 1:
            return fired[0]
        return " OR ".join(f"({text})" if precedence == _AND else text for text, precedence in fired), _OR


class NotNode:
    __slots__ = ("child", "req")

    def __init__(self, child: Compiled) -> None:
        self.child = child
        self.req: frozenset[int] | None = None

    def eval(self, ctx: Ctx, scope: int | None) -> list[Span] | None:
        return [] if self.child.eval(ctx, scope) is None else None

    def why(self, ctx: Ctx, scope: int | None) -> tuple[str, int] | None:
        if self.eval(ctx, scope) is None:
            return None
        return f"NOT {_wrap((_short(render(self.child)), _precedence(self.child)), _NOT)}", _NOT


class NearNode:
    __slots__ = ("distance", "left", "req", "right")

    def __init__(self, left: Compiled, right: Compiled, distance: int) -> None:
        self.left, self.right, self.distance = left, right, distance
        self.req: frozenset[int] | None = None

    def eval(self, ctx: Ctx, scope: int | None) -> list[Span] | None:
        req = self.req
        if req is not None and req.isdisjoint(ctx.item.present):
            return None
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

    def why(self, ctx: Ctx, scope: int | None) -> tuple[str, int] | None:
        if self.eval(ctx, scope) is None:
            return None
        left, right = self.left.why(ctx, scope), self.right.why(ctx, scope)
        if left is None or right is None:  # pragma: no cover - eval() said both sides matched
            return None
        return f"{_wrap(left, _ATOM)} NEAR/{self.distance} {_wrap(right, _ATOM)}", _NEAR


class ScopeNode:
    __slots__ = ("child", "field", "req")

    def __init__(self, field_id: int, child: Compiled) -> None:
        self.field, self.child = field_id, child
        self.req: frozenset[int] | None = None

    def eval(self, ctx: Ctx, scope: int | None) -> list[Span] | None:
        return self.child.eval(ctx, self.field)

    def why(self, ctx: Ctx, scope: int | None) -> tuple[str, int] | None:
        rendered = self.child.why(ctx, self.field)
        return None if rendered is None else (f"{FIELDS[self.field]}:{_wrap(rendered, _ATOM)}", _ATOM)


class EntityRefNode:
    __slots__ = ("key", "req")

    def __init__(self, key: str) -> None:
        self.key = key
        self.req: frozenset[int] | None = None

    def eval(self, ctx: Ctx, scope: int | None) -> list[Span] | None:
        req = self.req
        if req is not None and req.isdisjoint(ctx.item.present):
            return None
        return in_scope(ctx.item, ctx.entity(self.key), scope)

    def why(self, ctx: Ctx, scope: int | None) -> tuple[str, int] | None:
        return None if self.eval(ctx, scope) is None else (f"@{self.key}", _ATOM)


class TopicRefNode:
    __slots__ = ("name", "req")

    def __init__(self, name: str) -> None:
        self.name = name
        self.req: frozenset[int] | None = None

    def eval(self, ctx: Ctx, scope: int | None) -> list[Span] | None:
        if scope is None:
            return ctx.topic(self.name)
        return ctx.topic_node(self.name).eval(ctx, scope)

    def why(self, ctx: Ctx, scope: int | None) -> tuple[str, int] | None:
        return None if self.eval(ctx, scope) is None else (f"#{self.name}", _ATOM)


Compiled = Words | AndNode | OrNode | NotNode | NearNode | ScopeNode | EntityRefNode | TopicRefNode


def build(node: Node, key_id: KeyId) -> Compiled:
    """AST → evaluator tree; the word leaves of each OR (nested ORs flattened) become one Words."""
    if isinstance(node, Term):
        return Words([node], key_id)
    if isinstance(node, Or):
        terms: list[Term] = []
        others: list[Compiled] = []
        stack = list(reversed(node.children))
        while stack:
            child = stack.pop()
            if isinstance(child, Or):
                stack.extend(reversed(child.children))
            elif isinstance(child, Term):
                terms.append(child)
            else:
                others.append(build(child, key_id))
        children = ([Words(terms, key_id)] if terms else []) + others
        return children[0] if len(children) == 1 else OrNode(children)
    if isinstance(node, And):
        return AndNode([build(c, key_id) for c in node.children])
    if isinstance(node, Not):
        return NotNode(build(node.child, key_id))
    if isinstance(node, Near):
        return NearNode(build(node.left, key_id), build(node.right, key_id), node.distance)
    if isinstance(node, Scope):
        return ScopeNode(_FIELD_ID[node.field], build(node.child, key_id))
    if isinstance(node, EntityRef):
        return EntityRefNode(node.name)
    if isinstance(node, TopicRef):
        return TopicRefNode(node.name)
    raise TypeError(f"unknown query node {node!r}")  # pragma: no cover


def children(node: Compiled) -> list[Compiled]:
    if isinstance(node, AndNode | OrNode):
        return node.children
    if isinstance(node, NotNode | ScopeNode):
        return [node.child]
    if isinstance(node, NearNode):
        return [node.left, node.right]
    return []


def _precedence(node: Compiled) -> int:
    if isinstance(node, OrNode) or (isinstance(node, Words) and " OR " in node.text):
        return _OR
    return {AndNode: _AND, NotNode: _NOT, NearNode: _NEAR}.get(type(node), _ATOM)


def render(node: Compiled) -> str:
    """The whole node as query text (used for the parts of an explanation that matched by absence)."""
    if isinstance(node, Words):
        return node.text
    if isinstance(node, OrNode):
        return " OR ".join(render(c) for c in node.children)
    if isinstance(node, AndNode):
        return " AND ".join(_wrap((render(c), _precedence(c)), _NOT) for c in node.children)
    if isinstance(node, NotNode):
        return f"NOT {_wrap((render(node.child), _precedence(node.child)), _NOT)}"
    if isinstance(node, NearNode):
        left = _wrap((render(node.left), _precedence(node.left)), _ATOM)
        right = _wrap((render(node.right), _precedence(node.right)), _ATOM)
        return f"{left} NEAR/{node.distance} {right}"
    if isinstance(node, ScopeNode):
        return f"{FIELDS[node.field]}:{_wrap((render(node.child), _precedence(node.child)), _ATOM)}"
    if isinstance(node, EntityRefNode):
        return f"@{node.key}"
    assert isinstance(node, TopicRefNode)
    return f"#{node.name}"
