"""Translate Sage 200 REST API OData query options into SQL for the SQLite-backed sandbox.

The sandbox stores each entity as a JSON document in ``records(resource TEXT, id INTEGER, body TEXT)``.
``parse_query`` turns ``$filter``, ``$orderby``, ``$top``, ``$skip``, ``$select`` and ``$count`` into a
WHERE expression with ``?`` parameters, an ORDER BY list and paging values, and raises ``ODataError``
for anything Sage would answer with 400.

``$filter`` is tokenised and parsed by recursive descent (not > and > or; comparisons and functions bind
tighter than all three). Property paths are checked against the entity's OpenAPI ``properties`` so a typo
fails loudly instead of silently matching nothing, and so literals can be coerced to the property's type:
date-time literals in any accepted form become the stored ``YYYY-MM-DDTHH:MM:SSZ`` text, whose string
order is chronological.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from itertools import pairwise

DEFAULT_TOP = 500
MAX_TOP = 5000

# Hostile input must fail as ODataError, not as a RecursionError here or an SQLite error later: SQLite's
# parser stack overflows at 17 levels of the deepest SQL a filter's parentheses can produce, and its
# expression depth is capped at 1000. Real clients stay well inside both limits, since ASP.NET OData
# rejects filters of more than 100 nodes by default.
_MAX_TOKENS = 500
_MAX_NESTING = 10

# $expand is valid but not translated here: the server shapes nested collections itself.
_SUPPORTED_OPTIONS = frozenset({"$filter", "$orderby", "$top", "$skip", "$select", "$count", "$expand"})
_INT32_MAX = 2**31 - 1


class ODataError(ValueError):
    """A query option Sage would refuse with 400; str(err) is the message returned to the client."""


@dataclass(frozen=True)
class ODataQuery:
    """SQL fragments and paging values for one collection request."""

    where_sql: str
    params: tuple
    order_sql: str
    top: int
    skip: int
    select: tuple[str, ...] | None
    count: bool


def parse_query(
    options: Mapping[str, str], properties: Mapping[str, dict], *, entity_name: str = "entity"
) -> ODataQuery:
    """Validate the query options of a collection request and translate them to SQL."""
    _reject_unsupported(options)
    if "$skip" in options and "$orderby" not in options:
        raise ODataError("$skip requires $orderby.")
    schema = _Schema(properties, entity_name)
    where = _Parser(options["$filter"], schema).parse_filter() if "$filter" in options else _Sql("1=1")
    return ODataQuery(
        where_sql=where.text,
        params=where.params,
        order_sql=_Parser(options["$orderby"], schema).parse_orderby() if "$orderby" in options else "id ASC",
        top=_parse_top(options["$top"]) if "$top" in options else DEFAULT_TOP,
        skip=_parse_non_negative("$skip", options["$skip"]) if "$skip" in options else 0,
        select=_parse_select(options["$select"], schema) if "$select" in options else None,
        count=_parse_count(options["$count"]) if "$count" in options else False,
    )


def project(entity: dict, select: tuple[str, ...] | None) -> dict:
    """Keep only the selected top-level keys, in $select order; everything when select is None."""
    if select is None:
        return dict(entity)
    return {name: entity[name] for name in select if name in entity}


def _reject_unsupported(options: Mapping[str, str]) -> None:
    # Non-$ keys are ordinary parameters (e.g. the company id) and belong to the caller.
    for key in options:
        if key.startswith("$") and key not in _SUPPORTED_OPTIONS:
            raise ODataError(f"The query parameter '{key}' is not supported.")


def _parse_non_negative(option: str, raw: str) -> int:
    # ASP.NET parses these as Int32, so anything longer is as invalid as a negative number.
    if not re.fullmatch(r"[0-9]{1,10}", raw) or int(raw) > _INT32_MAX:
        raise ODataError(
            f"Invalid value '{raw}' for {option} query option found. "
            f"The {option} query option requires a non-negative integer value."
        )
    return int(raw)


def _parse_top(raw: str) -> int:
    top = _parse_non_negative("$top", raw)
    if top > MAX_TOP:
        raise ODataError(
            f"The limit of '{MAX_TOP}' for Top query has been exceeded. The value from the incoming request is '{top}'."
        )
    return top


def _parse_count(raw: str) -> bool:
    if raw.lower() not in ("true", "false"):
        raise ODataError(f"Invalid value '{raw}' for $count query option found. Valid values are 'true', 'false'.")
    return raw.lower() == "true"


def _parse_select(raw: str, schema: _Schema) -> tuple[str, ...] | None:
    names = [name.strip() for name in raw.split(",")]
    if "*" in names:
        return None
    for name in names:
        if not name:
            raise ODataError(f"Empty property name in $select '{raw}'.")
        schema.require_top_level(name)
    return tuple(dict.fromkeys(names))


class _Kind(StrEnum):
    STRING = "string"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATETIME = "date-time"
    NULL = "null"
    # The schema doesn't say (objects, arrays, $refs, nested paths it doesn't describe): accept anything.
    ANY = "any"


def _kind_of(schema: Mapping) -> _Kind:
    match schema.get("type"):
        case "integer" | "number":
            return _Kind.NUMBER
        case "boolean":
            return _Kind.BOOLEAN
        case "string":
            return _Kind.DATETIME if schema.get("format") == "date-time" else _Kind.STRING
        case _:
            return _Kind.ANY


def _compatible(first: _Kind, second: _Kind) -> bool:
    return first == second or _Kind.ANY in (first, second)


@dataclass(frozen=True)
class _Sql:
    text: str
    params: tuple = ()


@dataclass(frozen=True)
class _Expr:
    """A non-literal operand: a property, or a function applied to one."""

    sql: str
    params: tuple
    kind: _Kind
    label: str


@dataclass(frozen=True)
class _Literal:
    value: object
    kind: _Kind
    text: str


_Operand = _Expr | _Literal


def _shown(text: str) -> str:
    # String literals already carry their quotes.
    return text if text.endswith("'") else f"'{text}'"


def _describe(operand: _Operand) -> str:
    if isinstance(operand, _Expr):
        return f"property {_shown(operand.label)} of type '{operand.kind}'"
    return f"{operand.kind} literal {_shown(operand.text)}"


class _Schema:
    """Resolves property paths against the entity's OpenAPI properties."""

    def __init__(self, properties: Mapping[str, dict], entity_name: str) -> None:
        self._properties = properties
        self._entity_name = entity_name

    def field(self, path: str) -> _Expr:
        # id is the table's key column, so filtering and sorting on it needs no JSON parsing.
        if path == "id":
            return _Expr("id", (), _Kind.NUMBER, "id")
        segments = path.split("/")
        kind = self._resolve_kind(segments)
        # Segments match the tokenizer's name pattern ([A-Za-z_][A-Za-z0-9_]*), so they are safe inside
        # the JSON path literal.
        return _Expr(f"json_extract(body, '$.{'.'.join(segments)}')", (), kind, path)

    def require_top_level(self, name: str) -> None:
        if name != "id":
            _lookup(self._properties, name, self._entity_name)

    def _resolve_kind(self, segments: list[str]) -> _Kind:
        schema = _lookup(self._properties, segments[0], self._entity_name)
        for owner, segment in pairwise(segments):
            if schema.get("type") not in ("object", None):
                kind = schema["type"]
                raise ODataError(f"Cannot navigate to '{segment}' because property '{owner}' is of type '{kind}'.")
            nested = schema.get("properties")
            if not nested:
                # Sage's spec leaves most linked entities as bare objects; trust what it can't check.
                return _Kind.ANY
            schema = _lookup(nested, segment, owner)
        return _kind_of(schema)


def _lookup(properties: Mapping[str, dict], name: str, owner: str) -> Mapping:
    if name not in properties:
        raise ODataError(f"Could not find a property named '{name}' on type '{owner}'.")
    return properties[name]


@dataclass(frozen=True)
class _Token:
    kind: str  # a _TOKEN_RE group name, the punctuation character itself, or "end"
    text: str
    pos: int


_DATETIME_PATTERN = r"\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?)?"
_TOKEN_RE = re.compile(
    rf"""
    (?P<space>\s+)
    | (?P<datetime>{_DATETIME_PATTERN})
    | (?P<typed>(?i:datetime(?:offset)?)'[^']*')
    | (?P<string>'(?:[^']|'')*')
    | (?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?[mMdDfFlL]?)
    | (?P<name>[A-Za-z_]\w*(?:/[A-Za-z_]\w*)*)
    | (?P<punct>[(),])
    """,
    re.VERBOSE | re.ASCII,
)
_DATETIME_RE = re.compile(_DATETIME_PATTERN, re.ASCII)


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN_RE.match(text, pos)
        if match is None:
            detail = "unterminated string literal" if text[pos] == "'" else f"unexpected character '{text[pos]}'"
            raise _syntax_error(text, pos, detail)
        kind = match.lastgroup
        if kind != "space":
            tokens.append(_Token(match.group() if kind == "punct" else kind, match.group(), pos))
        pos = match.end()
    tokens.append(_Token("end", "", len(text)))
    _check_size(text, tokens)
    return tokens


def _check_size(text: str, tokens: list[_Token]) -> None:
    if len(tokens) > _MAX_TOKENS:
        raise ODataError(f"The query option has more than {_MAX_TOKENS} tokens; simplify it.")
    depth = 0
    for token in tokens:
        depth += {"(": 1, ")": -1}.get(token.kind, 0)
        if depth > _MAX_NESTING:
            raise _syntax_error(text, token.pos, f"more than {_MAX_NESTING} nested parentheses")


def _syntax_error(text: str, pos: int, detail: str) -> ODataError:
    return ODataError(f"Syntax error at position {pos} in '{text}': {detail}.")


def _describe_token(token: _Token) -> str:
    return "end of input" if token.kind == "end" else _shown(token.text)


def _normalise_datetime(text: str) -> str:
    """Return the stored UTC form of an OData date, date-time or date-time-offset; no zone means UTC."""
    if not _DATETIME_RE.fullmatch(text):
        raise ValueError(text)
    try:
        moment = datetime.fromisoformat(text)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        moment = moment.astimezone(UTC)
    except OverflowError as err:  # e.g. 0001-01-01T00:00:00+01:00 is before datetime.min in UTC
        raise ValueError(text) from err
    # isoformat zero-pads the year, unlike strftime("%Y") for years before 1000.
    return moment.replace(microsecond=0, tzinfo=None).isoformat() + "Z"


def _number(text: str) -> int | float:
    digits = text.rstrip("mMdDfFlL")
    # SQLite integers are 64-bit, so anything that might not fit is compared as a float.
    if any(char in digits for char in ".eE") or len(digits) > 18:
        return float(digits)
    return int(digits)


_COMPARISONS = {
    # IS / IS NOT are SQLite's null-safe equality, matching OData's "null eq null" is true.
    "eq": "{left} IS {right}",
    "ne": "{left} IS NOT {right}",
    # OData makes an ordering comparison with null false rather than unknown, so `not` must see 0. Written as
    # a conjunction rather than COALESCE(...) so SQLite can still use an index for the comparison (keyset
    # paging over a year of rows depends on it).
    "gt": "({left} > {right} AND {left} IS NOT NULL AND {right} IS NOT NULL)",
    "ge": "({left} >= {right} AND {left} IS NOT NULL AND {right} IS NOT NULL)",
    "lt": "({left} < {right} AND {left} IS NOT NULL AND {right} IS NOT NULL)",
    "le": "({left} <= {right} AND {left} IS NOT NULL AND {right} IS NOT NULL)",
}
_KEYWORD_LITERALS = {
    "true": (True, _Kind.BOOLEAN),
    "false": (False, _Kind.BOOLEAN),
    "null": (None, _Kind.NULL),
}
_RESERVED = frozenset({"and", "or", "not", *_COMPARISONS})
_LITERAL_TOKENS = frozenset({"string", "number", "datetime", "typed"})
_CASE_FUNCTIONS = {"tolower": "lower", "toupper": "upper"}
# substringof is OData v3's contains, with the arguments the other way round.
_MATCH_PATTERNS = {"startswith": "{}%", "endswith": "%{}", "contains": "%{}%", "substringof": "%{}%"}


class _Parser:
    """Recursive-descent parser over the tokens of one $filter or $orderby value."""

    def __init__(self, text: str, schema: _Schema) -> None:
        self._text = text
        self._schema = schema
        self._tokens = _tokenize(text)
        self._index = 0

    def parse_filter(self) -> _Sql:
        condition = self._or()
        self._expect_end("'and', 'or' or end of input")
        return condition

    def parse_orderby(self) -> str:
        terms: list[str] = []
        while True:
            token = self._advance()
            if token.kind != "name":
                raise self._error(token, f"expected a property name but found {_describe_token(token)}")
            field = self._schema.field(token.text)
            direction = "ASC"
            if self._peek().kind == "name" and self._peek().text.lower() in ("asc", "desc"):
                direction = self._advance().text.upper()
            terms.append(f"{field.sql} {direction}")
            if not self._accept(","):
                break
        self._expect_end("'asc', 'desc', ',' or end of input")
        # Paging is only stable if the order is total, and id is unique.
        if not any(term.startswith("id ") for term in terms):
            terms.append("id ASC")
        return ", ".join(terms)

    # Grammar: or := and ("or" and)* ; and := unary ("and" unary)* ; unary := "not"* predicate ;
    # predicate := "(" or ")" | operand [comparison operand]

    def _or(self) -> _Sql:
        terms = [self._and()]
        while self._accept_keyword("or"):
            terms.append(self._and())
        return _join("OR", terms)

    def _and(self) -> _Sql:
        terms = [self._unary()]
        while self._accept_keyword("and"):
            terms.append(self._unary())
        return _join("AND", terms)

    def _unary(self) -> _Sql:
        # Folding repeated nots keeps recursion and SQL nesting flat; NOT NOT x is x even for NULL.
        negated = False
        while self._accept_keyword("not"):
            negated = not negated
        condition = self._predicate()
        return _Sql(f"NOT ({condition.text})", condition.params) if negated else condition

    def _predicate(self) -> _Sql:
        if self._accept("("):
            condition = self._or()
            self._expect(")")
            return condition
        left = self._operand()
        operator = self._peek()
        if operator.kind == "name" and operator.text.lower() in _COMPARISONS:
            self._advance()
            return _compare(operator.text.lower(), left, self._operand())
        if left.kind in (_Kind.BOOLEAN, _Kind.ANY):
            return _operand_sql(left, None)
        shown = _shown(left.label if isinstance(left, _Expr) else left.text)
        raise self._error(
            operator,
            f"expected a comparison operator (eq, ne, gt, ge, lt, le) after {shown} "
            f"but found {_describe_token(operator)}",
        )

    def _operand(self) -> _Operand:
        token = self._advance()
        if token.kind in _LITERAL_TOKENS:
            return self._literal(token)
        word = token.text.lower()
        if token.kind != "name" or word in _RESERVED:
            raise self._error(token, f"expected a value but found {_describe_token(token)}")
        if self._peek().kind == "(":
            return self._function(token)
        if word in _KEYWORD_LITERALS:
            value, kind = _KEYWORD_LITERALS[word]
            return _Literal(value, kind, token.text)
        return self._schema.field(token.text)

    def _function(self, name_token: _Token) -> _Expr:
        name = name_token.text.lower()
        if name not in _CASE_FUNCTIONS and name not in _MATCH_PATTERNS:
            raise self._error(name_token, f"unknown function '{name_token.text}'")
        self._expect("(")
        args = [self._operand()]
        while self._accept(","):
            args.append(self._operand())
        self._expect(")")
        if name in _CASE_FUNCTIONS:
            return _case_function(name, args)
        return _match_function(name, args)

    def _literal(self, token: _Token) -> _Literal:
        match token.kind:
            case "string":
                return _Literal(token.text[1:-1].replace("''", "'"), _Kind.STRING, token.text)
            case "number":
                return _Literal(_number(token.text), _Kind.NUMBER, token.text)
            case "datetime":
                return _Literal(self._datetime(token, token.text), _Kind.DATETIME, token.text)
            case _:  # typed, e.g. datetime'2026-01-31T00:00:00'
                inner = token.text[token.text.index("'") + 1 : -1]
                return _Literal(self._datetime(token, inner), _Kind.DATETIME, token.text)

    def _datetime(self, token: _Token, text: str) -> str:
        try:
            return _normalise_datetime(text)
        except ValueError:
            raise self._error(token, f"invalid date-time literal {_shown(token.text)}") from None

    def _peek(self) -> _Token:
        return self._tokens[self._index]

    def _advance(self) -> _Token:
        token = self._tokens[self._index]
        if token.kind != "end":
            self._index += 1
        return token

    def _accept(self, kind: str) -> bool:
        if self._peek().kind != kind:
            return False
        self._advance()
        return True

    def _accept_keyword(self, word: str) -> bool:
        token = self._peek()
        if token.kind != "name" or token.text.lower() != word:
            return False
        self._advance()
        return True

    def _expect(self, kind: str) -> None:
        token = self._advance()
        if token.kind != kind:
            raise self._error(token, f"expected '{kind}' but found {_describe_token(token)}")

    def _expect_end(self, expected: str) -> None:
        token = self._peek()
        if token.kind != "end":
            raise self._error(token, f"expected {expected} but found {_describe_token(token)}")

    def _error(self, token: _Token, detail: str) -> ODataError:
        return _syntax_error(self._text, token.pos, detail)


def _join(operator: str, terms: list[_Sql]) -> _Sql:
    if len(terms) == 1:
        return terms[0]
    # One flat parenthesised list rather than nested pairs, to stay within SQLite's parser stack.
    text = f" {operator} ".join(term.text for term in terms)
    return _Sql(f"({text})", tuple(param for term in terms for param in term.params))


def _compare(operator: str, left: _Operand, right: _Operand) -> _Sql:
    left_sql = _operand_sql(left, right)
    right_sql = _operand_sql(right, left)
    template = _COMPARISONS[operator]
    text = template.format(left=left_sql.text, right=right_sql.text)
    # An operand may appear more than once in the template; its parameters go in once per appearance.
    order = re.findall(r"\{(left|right)\}", template)
    params = tuple(param for side in order for param in (left_sql if side == "left" else right_sql).params)
    return _Sql(text, params)


def _operand_sql(operand: _Operand, other: _Operand | None) -> _Sql:
    if isinstance(operand, _Expr):
        if isinstance(other, _Expr) and not _compatible(operand.kind, other.kind):
            raise _incompatible(operand, other)
        return _Sql(operand.sql, operand.params)
    value = _coerce(operand, other)
    return _Sql("NULL") if value is None else _Sql("?", (value,))


def _coerce(literal: _Literal, other: _Operand | None) -> object:
    """The literal's parameter value when compared with `other`, converted to the property's type."""
    if not isinstance(other, _Expr) or literal.kind is _Kind.NULL or _compatible(literal.kind, other.kind):
        return literal.value
    if other.kind is _Kind.DATETIME and literal.kind is _Kind.STRING:
        try:
            return _normalise_datetime(str(literal.value))
        except ValueError:
            pass
    raise _incompatible(other, literal)


def _incompatible(first: _Operand, second: _Operand) -> ODataError:
    return ODataError(f"Cannot compare {_describe(first)} with {_describe(second)}.")


def _check_arity(name: str, args: list[_Operand], expected: int) -> None:
    if len(args) != expected:
        raise ODataError(f"Function '{name}' takes {expected} argument(s) but {len(args)} were given.")


def _require_text_property(name: str, operand: _Operand) -> _Expr:
    if not isinstance(operand, _Expr) or not _compatible(operand.kind, _Kind.STRING):
        raise ODataError(f"Function '{name}' needs a string property, not {_describe(operand)}.")
    return operand


def _case_function(name: str, args: list[_Operand]) -> _Expr:
    _check_arity(name, args, 1)
    subject = _require_text_property(name, args[0])
    return _Expr(f"{_CASE_FUNCTIONS[name]}({subject.sql})", subject.params, _Kind.STRING, f"{name}({subject.label})")


def _match_function(name: str, args: list[_Operand]) -> _Expr:
    _check_arity(name, args, 2)
    subject, needle = reversed(args) if name == "substringof" else args
    subject = _require_text_property(name, subject)
    if not isinstance(needle, _Literal) or needle.kind is not _Kind.STRING:
        raise ODataError(f"Function '{name}' needs a string literal to search for, not {_describe(needle)}.")
    pattern = _MATCH_PATTERNS[name].format(_escape_like(str(needle.value)))
    return _Expr(
        f"({subject.sql} LIKE ? ESCAPE '\\')",
        (*subject.params, pattern),
        _Kind.BOOLEAN,
        f"{name}({subject.label}, {needle.text})",
    )


def _escape_like(value: str) -> str:
    return re.sub(r"([\\%_])", r"\\\1", value)
