"""Compile a rule pack and evaluate it against item text, with evidence, severity and explanations.

Pure: no I/O, no logging. :meth:`Matcher.compile` parses every query of the pack (entities, topics, watches,
severity weights) into evaluator trees (:mod:`monitor.match.nodes`) sharing one key space, and builds the
presearch index (:mod:`monitor.match.presearch`). :meth:`Matcher.match` indexes the item once, asks the
presearch which entities, topics and watches can possibly match, and evaluates only those; topics and
entities are memoised per item, so rules sharing them pay once. A watch whose topics did not match is
skipped before its query is evaluated.

Evidence for each matched topic and entity: the words as written, their field and character offsets.

``why`` (the branch that made a rule true): for each matched topic (key: its name) and fired watch (key:
``watch:NAME``), a rendering of the satisfied part of its query, in the query language:

- a set of words/phrases renders as the alternatives that occur (``"martial law" OR shelled``);
- OR keeps only the alternatives that matched; AND lists its positive conjuncts (they all held; its NOT
  conjuncts held too but are left out: they say nothing about what occurred, and exclusion lists are long);
- NEAR/n renders as its two sides, each reduced to what occurred (``missile NEAR/4 strike``);
- a NOT that is the whole story renders as ``NOT (...)``, shortened to 48 characters;
- ``@entity``, ``#topic`` and field scopes render as written.

Parentheses are added where precedence needs them. Example: ``(cease-fire OR truce) NEAR/4 (violat* OR
collaps*) AND NOT trade`` on "the truce collapsed" gives ``truce NEAR/4 collaps*``.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass

from monitor.core.errors import QueryError
from monitor.core.hints import did_you_mean
from monitor.match.genre import Genre, classify
from monitor.match.nodes import Compiled, ItemWords, Span, Words, build
from monitor.match.presearch import Lexicon, Presearch, clauses, requirement
from monitor.match.query import FIELDS, Node, Or, Term, parse, term_node, topic_refs
from monitor.match.results import Evidence, MatchResult, TopicSeverity, WatchHit
from monitor.match.rules import RulePack
from monitor.match.severity import CompiledSeverity, compile_severity, highest

__all__ = ["Evidence", "Genre", "MatchResult", "Matcher", "TopicSeverity", "WatchHit", "check_rules"]

MAX_TERM_EVIDENCE = 10  # per topic: the first spans that made it match
MAX_ENTITY_EVIDENCE = 3  # per entity: its first mentions


class _Ctx:
    """State of one match() call: the item and the memos of topics and entities evaluated so far."""

    __slots__ = ("entities", "item", "matcher", "topics")

    def __init__(self, matcher: Matcher, item: ItemWords) -> None:
        self.matcher = matcher
        self.item = item
        self.topics: dict[str, list[Span] | None] = {}
        self.entities: dict[str, list[Span]] = {}

    def topic(self, name: str) -> list[Span] | None:
        if name not in self.topics:
            self.topics[name] = self.matcher._topics[name].root.eval(self, None)
        return self.topics[name]

    def topic_node(self, name: str) -> Compiled:
        return self.matcher._topics[name].root

    def entity(self, key: str) -> list[Span]:
        spans = self.entities.get(key)
        if spans is None:
            found = self.matcher._entities[key].words.eval(self, None)
            spans = self.entities[key] = _keep_outermost(found) if found else []
        return spans


@dataclass(frozen=True)
class _Entity:
    key: str
    label: str
    words: Words


@dataclass(frozen=True)
class _Phase:
    name: str
    root: Compiled


@dataclass(frozen=True)
class _Topic:
    name: str
    root: Compiled
    severity: CompiledSeverity
    phases: tuple[_Phase, ...] = ()  # in rule order; the last that matches an item wins


@dataclass(frozen=True)
class _Watch:
    name: str
    root: Compiled
    topics: tuple[str, ...]
    enabled: bool


def _keep_outermost(spans: list[Span]) -> list[Span]:
    """Sorted, distinct spans, dropping any span inside another ("Karabakh" in "Nagorno-Karabakh")."""
    if len(spans) == 1:
        return spans
    out: list[Span] = []
    for span in sorted(set(spans)):
        if out:
            last = out[-1]
            if span[1] <= last[1]:  # starts at or after `last` and ends inside it
                continue
            if span[0] == last[0]:  # same start, longer: `last` is inside it
                out[-1] = span
                continue
        out.append(span)
    return out


def _evidence(item: ItemWords, kind: str, name: str, span: Span) -> Evidence:
    field_id, start, end = item.char_span(span)
    return Evidence(kind, name, item.texts[field_id][start:end], FIELDS[field_id], start, end)


def _why(node: Compiled, ctx: _Ctx) -> str:
    rendered = node.why(ctx, None)
    return rendered[0] if rendered is not None else ""


class Matcher:
    """A compiled rule pack. Build with :meth:`compile`.

    :meth:`match` is thread-safe: per-item state lives in the call; the only shared mutable state is the
    word → keys cache, whose single-key updates are atomic.
    """

    def __init__(
        self,
        lexicon: Lexicon,
        entities: list[_Entity],
        topics: list[_Topic],
        watches: list[_Watch],
        presearch: Presearch,
    ) -> None:
        self._lexicon = lexicon
        self._entity_list = entities
        self._topic_list = topics
        self._watches = watches
        self._entities = {e.key: e for e in entities}
        self._topics = {t.name: t for t in topics}
        self._presearch = presearch
        self._first_topic = len(entities)
        self._first_watch = len(entities) + len(topics)

    @classmethod
    def compile(cls, pack: RulePack, *, presearch: bool = True) -> Matcher:
        """Compile every query of `pack`; raise the first QueryError (run check_rules() for all of them).

        `presearch=False` evaluates every rule on every item: the same results, slower; it exists as the
        reference that tests and benchmarks compare the presearch against.
        """
        matcher, errors = _compile(pack, presearch)
        if errors:
            raise errors[0][1]
        assert matcher is not None
        return matcher

    def candidate_watches(self, *, title: str, summary: str = "", content: str = "") -> list[str]:
        """The watches the presearch lets through to full evaluation for this item (a superset of those
        that fire): how `--explain` and the tests see what the presearch skips."""
        item = ItemWords((title or "", summary or "", content or ""), self._lexicon.word_keys)
        first_watch = self._first_watch
        slots = self._presearch.candidates(item.present)
        return [self._watches[s - first_watch].name for s in slots if s >= first_watch]

    def match(self, *, title: str, summary: str = "", content: str = "", link: str = "") -> MatchResult:
        """Classify one item: every topic it is flagged for, the watches that fire, entities, evidence,
        and, when a topic or watch matched, its genre if it is commentary rather than an event report
        (from title, summary and `link`: :mod:`monitor.match.genre`). An item that matched nothing gets
        no genre, so its result keeps the four-key JSON shape."""
        item = ItemWords((title or "", summary or "", content or ""), self._lexicon.word_keys)
        if not item.present and not self._presearch.always:
            return MatchResult([], [], [], [])
        ctx = _Ctx(self, item)
        first_topic, first_watch = self._first_topic, self._first_watch
        slots = self._presearch.candidates(item.present)
        topics_at, watches_at = bisect_left(slots, first_topic), bisect_left(slots, first_watch)

        matched_topics: list[str] = []
        evidence: list[Evidence] = []
        severity: dict[str, TopicSeverity] = {}
        why: dict[str, str] = {}
        phases: dict[str, str] = {}
        for slot in slots[topics_at:watches_at]:
            topic = self._topic_list[slot - first_topic]
            spans = ctx.topic(topic.name)
            if spans is not None:
                matched_topics.append(topic.name)
                for span in _keep_outermost(spans)[:MAX_TERM_EVIDENCE]:
                    evidence.append(_evidence(item, "term", topic.name, span))
                severity[topic.name] = topic.severity.assess(ctx)
                why[topic.name] = _why(topic.root, ctx)
                for phase in reversed(topic.phases):
                    if phase.root.eval(ctx, None) is not None:
                        phases[topic.name] = phase.name
                        why[f"phase:{topic.name}"] = _why(phase.root, ctx)
                        break

        found: list[tuple[Span, str, list[Span]]] = []
        entity_list = self._entity_list
        for slot in slots[:topics_at]:
            key = entity_list[slot].key
            spans = ctx.entity(key)
            if spans:
                found.append((spans[0], key, spans))
        found.sort()
        entity_labels = []
        for _, key, spans in found:
            entity_labels.append(self._entities[key].label)
            for span in spans[:MAX_ENTITY_EVIDENCE]:
                evidence.append(_evidence(item, "entity", key, span))

        hits: list[WatchHit] = []
        for slot in slots[watches_at:]:
            watch = self._watches[slot - first_watch]
            if not watch.enabled:
                continue
            if watch.topics:
                topics = [t for t in watch.topics if t in severity]
                if not topics:
                    continue
            else:
                topics = list(matched_topics)
            if watch.root.eval(ctx, None) is None:
                continue
            hits.append(WatchHit(watch.name, highest([severity[t].level for t in topics]), topics))
            why[f"watch:{watch.name}"] = _why(watch.root, ctx)
        genre = classify(title=title, summary=summary, link=link) if matched_topics or hits else None
        return MatchResult(matched_topics, hits, entity_labels, evidence, severity, why, genre, phases)


# --- compilation ---------------------------------------------------------------------------------


def _compile(pack: RulePack, presearch: bool = True) -> tuple[Matcher | None, list[tuple[str, QueryError]]]:
    errors: list[tuple[str, QueryError]] = []
    lexicon = Lexicon()
    key_id = lexicon.key_id
    entities: list[_Entity] = []
    for key, spec in pack.entities.items():
        terms: list[Term] = []
        for alias in spec.aliases:
            try:
                terms.extend(_alias_terms(alias))
            except QueryError as error:
                errors.append((f"entities.{key}.aliases", error))
        entities.append(_Entity(key, spec.display, Words(terms, key_id)))

    entity_names = set(pack.entities)
    topic_names = set(pack.topics)

    def parse_into(where: str, query: str) -> Node | None:
        try:
            return parse(query, entities=entity_names, topics=topic_names)
        except QueryError as error:
            errors.append((where, error))
            return None

    roots: dict[str, Node] = {}
    severities: dict[str, CompiledSeverity] = {}
    phases: dict[str, tuple[_Phase, ...]] = {}
    for name, spec in pack.topics.items():
        root = parse_into(f"topics.{name}.query", spec.query)
        if root is not None:
            roots[name] = root

        def weight_query(index: int, query: str, name: str = name) -> Compiled | None:
            node = parse_into(f"topics.{name}.severity.weights.{index}.query", query)
            return None if node is None else build(node, key_id)

        severities[name] = compile_severity(spec.severity, weight_query)
        phase_list: list[_Phase] = []
        for index, phase in enumerate(spec.phases):
            node = parse_into(f"topics.{name}.phases.{index}.query", phase.query)
            if node is not None:
                phase_list.append(_Phase(phase.name, build(node, key_id)))
        phases[name] = tuple(phase_list)
    errors.extend(_topic_cycles(pack, roots))
    errors.extend(_phase_refs(pack))

    watches: list[_Watch] = []
    for index, spec in enumerate(pack.watches):
        root = parse_into(f"watches.{index}.query", spec.query)
        if root is not None:
            watches.append(_Watch(spec.name, build(root, key_id), tuple(spec.topics), spec.enabled))
    if errors:
        return None, errors
    topics = [
        _Topic(name, build(root, key_id), severities[name], phases[name]) for name, root in roots.items()
    ]
    if presearch:
        index = _presearch(lexicon, entities, topics, watches, severities)
    else:
        index = Presearch([[]] * (len(entities) + len(topics) + len(watches)))
    return Matcher(lexicon, entities, topics, watches, index), []


def _presearch(
    lexicon: Lexicon,
    entities: list[_Entity],
    topics: list[_Topic],
    watches: list[_Watch],
    severities: dict[str, CompiledSeverity],
) -> Presearch:
    """Compute every node's requirement and index rules by slot: entities, then topics, then watches."""
    entity_reqs = {e.key: requirement(e.words, lexicon, lambda _: None, lambda _: None) for e in entities}
    by_name = {t.name: t for t in topics}
    topic_reqs: dict[str, frozenset[int] | None] = {}
    topic_clauses: dict[str, list[frozenset[int]]] = {}

    def topic_req(name: str) -> frozenset[int] | None:
        if name not in topic_reqs:  # no cycles: compilation stopped before here if there were
            topic_reqs[name] = requirement(by_name[name].root, lexicon, entity_reqs.__getitem__, topic_req)
        return topic_reqs[name]

    def clauses_of(name: str) -> list[frozenset[int]]:
        if name not in topic_clauses:
            topic_clauses[name] = clauses(by_name[name].root, clauses_of)
        return topic_clauses[name]

    for topic in topics:
        topic_req(topic.name)
        for weight in severities[topic.name].weights:
            requirement(weight.root, lexicon, entity_reqs.__getitem__, topic_req)
        for phase in topic.phases:  # evaluated only on items the topic matched: registers their words
            requirement(phase.root, lexicon, entity_reqs.__getitem__, topic_req)
    for watch in watches:
        requirement(watch.root, lexicon, entity_reqs.__getitem__, topic_req)
    return Presearch(
        [
            *([] if entity_reqs[e.key] is None else [entity_reqs[e.key]] for e in entities),
            *(clauses_of(t.name) for t in topics),
            *(clauses(w.root, clauses_of) for w in watches),
        ]
    )


def _alias_terms(alias: str) -> list[Term]:
    """An entity alias is a phrase of its words (with hyphen/joined variants), never a query."""
    raw_words = [(w, 1) for w in alias.replace("*", " ").replace("=", " ").split()]
    if not raw_words:
        raise QueryError("empty entity alias", alias, 1)
    node = term_node(alias, raw_words, alias, 1)
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


def _phase_refs(pack: RulePack) -> list[tuple[str, QueryError]]:
    """Every `also_after` entry must name a phase of the pack as `topic.phase`."""
    known = {f"{name}.{phase.name}" for name, spec in pack.topics.items() for phase in spec.phases}
    errors: list[tuple[str, QueryError]] = []
    for name, spec in pack.topics.items():
        for index, phase in enumerate(spec.phases):
            for ref_index, ref in enumerate(phase.also_after):
                if ref not in known:
                    message = (
                        f"also_after: '{ref}' is not a phase of the rule pack (write topic.phase)"
                        f"{did_you_mean(ref, known)}"
                    )
                    where = f"topics.{name}.phases.{index}.also_after.{ref_index}"
                    errors.append((where, QueryError(message, ref, 1)))
    return errors


def check_rules(pack: RulePack) -> list[tuple[str, QueryError]]:
    """Every bad query of `pack` as ("topics.NAME.query" | "topics.NAME.severity.weights.I.query" |
    "topics.NAME.phases.I.query" | "topics.NAME.phases.I.also_after.J" | "watches.INDEX.query", error);
    [] if all good."""
    return _compile(pack)[1]
