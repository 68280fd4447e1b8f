"""Query language: lexer and recursive-descent parser producing an AST.

Grammar (operators in capitals; precedence, tightest first: field scope, NEAR/n, NOT, AND, OR)::

    query   := or EOF
    or      := and ("OR" and)*
    and     := unary (["AND"] unary)*          -- adjacent terms are ANDed
    unary   := "NOT" unary | near
    near    := primary ("NEAR/" n primary)*
    primary := [field ":"] ( "(" or ")" | WORD | =WORD | WORD* | "PHRASE" | @entity | #topic )
    field   := title | summary | content

A WORD matches any token with the same English stem (``attacks`` = ``attacked``); ``=word`` matches only
that exact form (``=forces`` does not match ``forced``); ``word*`` matches tokens that *start with* ``word``
as written (no stemming, so ``shelli*`` does not match ``Shell``). A hyphenated
word also matches its joined spelling: ``cease-fire`` = ``cease fire`` = ``ceasefire``. A phrase matches
consecutive tokens by stem and may contain wildcards. Errors raise :class:`QueryError` with a 1-based column.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Collection
from dataclasses import dataclass

from monitor.core.errors import QueryError
from monitor.core.hints import closest
from monitor.match.text import fold, stem, words

FIELDS = ("title", "summary", "content")
MIN_PREFIX = 3
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
_NEAR = re.compile(r"NEAR/(\d+)$")
_FIELD = re.compile(r"([A-Za-z]+):(.*)$", re.DOTALL)
_OPERATORS = ("AND", "OR", "NOT")

# --- AST -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Part:
    """One word position of a term, compared with a token by `kind`.

    "stem": the token's stem equals `value`; "exact": the folded token equals `value` (``=word``);
    "prefix": the folded token starts with `value` (``word*``).
    """

    value: str
    kind: str = "stem"


@dataclass(frozen=True, slots=True)
class Term:
    """A word or phrase: consecutive tokens matching `parts`. `text` is the query text it came from."""

    parts: tuple[Part, ...]
    text: str
    column: int


@dataclass(frozen=True, slots=True)
class EntityRef:
    name: str
    column: int


@dataclass(frozen=True, slots=True)
class TopicRef:
    name: str
    column: int


@dataclass(frozen=True, slots=True)
class And:
    children: tuple[Node, ...]
    column: int


@dataclass(frozen=True, slots=True)
class Or:
    children: tuple[Node, ...]
    column: int


@dataclass(frozen=True, slots=True)
class Not:
    child: Node
    column: int


@dataclass(frozen=True, slots=True)
class Near:
    """Both sides match in the same field with at most `distance` words between their nearest ends + 1."""

    left: Node
    right: Node
    distance: int
    column: int


@dataclass(frozen=True, slots=True)
class Scope:
    """Restrict `child` to one field of the item."""

    field: str
    child: Node
    column: int


Node = Term | EntityRef | TopicRef | And | Or | Not | Near | Scope


# --- lexer ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Tok:
    kind: str  # LPAREN RPAREN PHRASE WORD ENTITY TOPIC AND OR NOT NEAR FIELD EOF
    text: str
    column: int  # 1-based
    value: int = 0  # NEAR distance


def _describe(tok: _Tok) -> str:
    if tok.kind == "EOF":
        return "the end of the query"
    if tok.kind == "PHRASE":
        return f'"{tok.text}"'
    return f"'{tok.text}'"


def _lex(query: str) -> list[_Tok]:
    toks: list[_Tok] = []
    i, n = 0, len(query)
    while i < n:
        c = query[i]
        col = i + 1
        if c.isspace():
            i += 1
        elif c == "(":
            toks.append(_Tok("LPAREN", "(", col))
            i += 1
        elif c == ")":
            toks.append(_Tok("RPAREN", ")", col))
            i += 1
        elif c in '"“”':
            j = i + 1
            while j < n and query[j] not in '"“”':
                j += 1
            if j >= n:
                raise QueryError(f"expected '\"' to close the phrase opened at column {col}", query, n + 1)
            body = query[i + 1 : j]
            if not body.strip():
                raise QueryError("empty phrase: put words between the quotes", query, col)
            toks.append(_Tok("PHRASE", body, col))
            i = j + 1
        elif c in "@#":
            m = _NAME.match(query, i + 1)
            what = "an entity" if c == "@" else "a topic"
            if not m:
                raise QueryError(f"expected {what} name after '{c}'", query, col + 1)
            name = m.group().rstrip(".")
            toks.append(_Tok("ENTITY" if c == "@" else "TOPIC", name, col))
            i = i + 1 + len(name)
        else:
            j = i
            while j < n and not query[j].isspace() and query[j] not in '()"“”':
                j += 1
            toks.extend(_classify_word(query, query[i:j], col))
            i = j
    toks.append(_Tok("EOF", "", n + 1))
    return toks


def _classify_word(query: str, word: str, col: int) -> list[_Tok]:
    if word in _OPERATORS:
        return [_Tok(word, word, col)]
    if word.startswith("NEAR"):
        m = _NEAR.match(word)
        if not m:
            raise QueryError(
                f"expected NEAR/n with a number of words (e.g. NEAR/10), found '{word}'", query, col
            )
        distance = int(m.group(1))
        if distance < 1:
            raise QueryError("NEAR/n needs a distance of at least 1 word", query, col)
        return [_Tok("NEAR", word, col, distance)]
    if word.upper() in (*_OPERATORS, "NEAR") or word.upper().startswith("NEAR/"):
        raise QueryError(
            f"'{word}' is not an operator: write {word.upper()} in capitals, or quote it (\"{word}\") "
            "to search for the word",
            query,
            col,
        )
    m = _FIELD.match(word)
    if m:
        field = m.group(1).lower()
        if field not in FIELDS:
            close = closest(field, FIELDS)
            hint = f"; did you mean '{close}:'?" if close else ""
            raise QueryError(
                f"unknown field '{m.group(1)}:' (fields are {', '.join(FIELDS)}){hint}", query, col
            )
        out = [_Tok("FIELD", field, col)]
        rest = m.group(2)
        if rest:
            out.extend(_classify_word(query, rest, col + len(m.group(1)) + 1))
        return out
    return [_Tok("WORD", word, col)]


# --- word compilation ----------------------------------------------------------------------------


def _word_alternatives(query: str, raw: str, col: int) -> list[tuple[Part, ...]]:
    """The part sequences one query word stands for: `cease-fire` → [(cease, fire), (ceasefire,)]."""
    exact = raw.startswith("=")
    if exact:
        raw, col = raw[1:], col + 1
    star = raw.find("*")
    if star != -1 and star != len(raw) - 1:
        raise QueryError("wildcard '*' is only allowed at the end of a word", query, col + star)
    is_prefix = star != -1
    body = raw[:-1] if is_prefix else raw
    found = words(body)
    if not found:
        raise QueryError(f"'{raw}' contains no letters or digits to search for", query, col)
    if is_prefix:
        folded_body, _ = fold(body)
        if not folded_body.endswith(found[-1]):
            raise QueryError("wildcard '*' must directly follow a letter or digit", query, col + star)
        if len(found[-1]) < MIN_PREFIX:
            raise QueryError(
                f"wildcard needs at least {MIN_PREFIX} letters before '*' (found '{found[-1]}*')", query, col
            )

    def parts(seq: list[str]) -> tuple[Part, ...]:
        out = [Part(w, "exact") if exact else Part(stem(w)) for w in seq]
        if is_prefix:
            out[-1] = Part(seq[-1], "prefix")
        return tuple(out)

    alternatives = [parts(found)]
    folded, _ = fold(body)
    if len(found) > 1 and folded.strip("-").split("-") == found:
        alternatives.append(parts(["".join(found)]))
    return alternatives


def term_node(query: str, raw_words: list[tuple[str, int]], text: str, col: int) -> Node:
    """A written word or phrase as a node: every combination of its words' spellings is one alternative
    (so entity aliases and query terms fold the same way)."""
    per_word = [_word_alternatives(query, raw, c) for raw, c in raw_words]
    terms = [
        Term(tuple(itertools.chain.from_iterable(combo)), text, col) for combo in itertools.product(*per_word)
    ]
    return terms[0] if len(terms) == 1 else Or(tuple(terms), col)


# --- parser --------------------------------------------------------------------------------------


class _Parser:
    def __init__(self, query: str, entities: Collection[str] | None, topics: Collection[str] | None) -> None:
        self.query = query
        self.toks = _lex(query)
        self.pos = 0
        self.entities = entities
        self.topics = topics

    @property
    def tok(self) -> _Tok:
        return self.toks[self.pos]

    def error(self, message: str, column: int) -> QueryError:
        return QueryError(message, self.query, column)

    def advance(self) -> _Tok:
        tok = self.toks[self.pos]
        self.pos += 1
        return tok

    def parse(self) -> Node:
        if self.tok.kind == "EOF":
            raise self.error("empty query: write at least one word, phrase, @entity or #topic", 1)
        node = self.parse_or()
        if self.tok.kind == "RPAREN":
            raise self.error("unexpected ')' with no matching '('", self.tok.column)
        if self.tok.kind != "EOF":  # pragma: no cover - every other token starts a term or an operator
            raise self.error(f"unexpected {_describe(self.tok)}", self.tok.column)
        absence = _absence_column(node)
        if absence is not None:
            raise self.error(
                "this NOT would match items by absence alone: add a word, phrase, @entity or #topic "
                "that the item must contain (e.g. 'truce NOT trade')",
                absence,
            )
        return node

    def parse_or(self) -> Node:
        first = self.parse_and(None)
        children = [first]
        while self.tok.kind == "OR":
            op = self.advance()
            children.append(self.parse_and(op))
        return first if len(children) == 1 else Or(tuple(children), _column(first))

    def parse_and(self, after: _Tok | None) -> Node:
        first = self.parse_unary(after)
        children = [first]
        while True:
            if self.tok.kind == "AND":
                op = self.advance()
                children.append(self.parse_unary(op))
            elif self.tok.kind in ("NOT", "LPAREN", "PHRASE", "WORD", "ENTITY", "TOPIC", "FIELD"):
                children.append(self.parse_unary(None))
            else:
                break
        return first if len(children) == 1 else And(tuple(children), _column(first))

    def parse_unary(self, after: _Tok | None) -> Node:
        if self.tok.kind == "NOT":
            op = self.advance()
            return Not(self.parse_unary(op), op.column)
        return self.parse_near(after)

    def parse_near(self, after: _Tok | None) -> Node:
        left = self.parse_primary(after)
        while self.tok.kind == "NEAR":
            op = self.advance()
            right = self.parse_primary(op)
            for side in (left, right):
                if isinstance(side, Not):
                    raise self.error(
                        f"{op.text} needs words on both sides, not a NOT expression", side.column
                    )
            left = Near(left, right, op.value, op.column)
        return left

    def parse_primary(self, after: _Tok | None) -> Node:
        tok = self.tok
        if tok.kind == "FIELD":
            self.advance()
            child = self.parse_primary(tok)
            _check_scope(self, child, tok)
            return Scope(tok.text, child, tok.column)
        if tok.kind == "LPAREN":
            self.advance()
            if self.tok.kind == "RPAREN":
                raise self.error("empty parentheses: put a term between '(' and ')'", self.tok.column)
            inner = self.parse_or()
            if self.tok.kind != "RPAREN":
                raise self.error(
                    f"expected ')' to close '(' opened at column {tok.column}, found {_describe(self.tok)}",
                    self.tok.column,
                )
            self.advance()
            return inner
        if tok.kind == "WORD":
            self.advance()
            return term_node(self.query, [(tok.text, tok.column)], tok.text, tok.column)
        if tok.kind == "PHRASE":
            self.advance()
            raw_words = [(m.group(), tok.column + 1 + m.start()) for m in re.finditer(r"\S+", tok.text)]
            return term_node(self.query, raw_words, tok.text, tok.column)
        if tok.kind == "ENTITY":
            self.advance()
            self.check_name(tok, "entity", "@", self.entities)
            return EntityRef(tok.text, tok.column)
        if tok.kind == "TOPIC":
            self.advance()
            self.check_name(tok, "topic", "#", self.topics)
            return TopicRef(tok.text, tok.column)
        if after is not None:
            raise self.error(f"expected a term after {_describe(after)}, found {_describe(tok)}", tok.column)
        if tok.kind == "RPAREN":
            raise self.error("unexpected ')' with no matching '('", tok.column)
        raise self.error(f"expected a term, found {_describe(tok)}", tok.column)

    def check_name(self, tok: _Tok, kind: str, sigil: str, known: Collection[str] | None) -> None:
        if known is None or tok.text in known:
            return
        close = closest(tok.text, known)
        hint = f"; did you mean '{sigil}{close}'?" if close else ""
        listing = "" if close else f" (known: {', '.join(sorted(known)) or 'none defined'})"
        raise self.error(f"unknown {kind} '{sigil}{tok.text}'{hint}{listing}", tok.column)


def _check_scope(parser: _Parser, node: Node, scope: _Tok) -> None:
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, Scope) and current.field != scope.text:
            raise parser.error(
                f"field scope '{current.field}:' inside '{scope.text}:' can never match", current.column
            )
        if isinstance(current, And | Or):
            stack.extend(current.children)
        elif isinstance(current, Not | Scope):
            stack.append(current.child)
        elif isinstance(current, Near):
            stack.extend((current.left, current.right))


def _absence_column(node: Node) -> int | None:
    """Column of the NOT that lets `node` match by absence alone (NOT-only queries match almost anything)."""
    if isinstance(node, Not):
        return node.column
    if isinstance(node, And):
        columns = [_absence_column(c) for c in node.children]
        return None if None in columns else columns[0]
    if isinstance(node, Or):
        return next((c for c in map(_absence_column, node.children) if c is not None), None)
    if isinstance(node, Scope):
        return _absence_column(node.child)
    return None


def _column(node: Node) -> int:
    return node.column


def parse(
    query: str, *, entities: Collection[str] | None = None, topics: Collection[str] | None = None
) -> Node:
    """Parse `query` into an AST; unknown @entity/#topic names are errors when the known names are given."""
    return _Parser(query, entities, topics).parse()


def topic_refs(node: Node) -> list[TopicRef]:
    """Every #topic reference in `node`, in query order."""
    out: list[TopicRef] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, TopicRef):
            out.append(current)
        elif isinstance(current, And | Or):
            stack.extend(reversed(current.children))
        elif isinstance(current, Not | Scope):
            stack.append(current.child)
        elif isinstance(current, Near):
            stack.extend((current.right, current.left))
    return out
