"""Tests for the OData → SQL translation of the Sage 200 sandbox, run against a real SQLite table."""

import json
import random
import re
import sqlite3
from collections.abc import Iterator

import pytest

from pipelines.sage200.sandbox.odata import (
    DEFAULT_TOP,
    MAX_TOP,
    ODataError,
    ODataQuery,
    parse_query,
    project,
)

PROPERTIES = {
    "id": {"type": "integer", "format": "int64"},
    "reference": {"type": "string"},
    "name": {"type": "string"},
    "balance": {"type": "number", "format": "decimal 2dp"},
    "on_hold": {"type": "boolean"},
    "date_time_updated": {"type": "string", "format": "date-time"},
    "payment_terms_days": {"type": "integer", "format": "int16"},
    "main_address": {
        "type": "object",
        "properties": {"city": {"type": "string"}, "postcode": {"type": "string"}},
    },
    # Like most links in Sage's spec: an object whose properties the schema doesn't describe.
    "currency": {"type": "object", "properties": {}},
    "contacts": {"type": "array", "items": {"type": "object"}},
}

RECORDS = {
    1: {
        "reference": "ACME01",
        "name": "Acme Ltd",
        "balance": 100.0,
        "on_hold": False,
        "date_time_updated": "2026-01-30T23:30:00Z",
        "payment_terms_days": 30,
        "main_address": {"city": "London", "postcode": "EC1A 1BB"},
        "currency": {"code": "GBP"},
    },
    2: {
        "reference": "OBRIEN",
        "name": "O'Brien & Sons",
        "balance": 12.5,
        "on_hold": True,
        "date_time_updated": "2026-01-31T00:00:00Z",
        "payment_terms_days": 14,
        "main_address": {"city": "Dublin", "postcode": "D02"},
        "currency": {"code": "EUR"},
    },
    3: {
        "reference": "ORGANIC",
        "name": "100% Organic",
        "balance": 0,
        "on_hold": False,
        "date_time_updated": "2026-01-31T12:00:00Z",
        "payment_terms_days": 30,
        "main_address": {"city": "London", "postcode": "N1 9GU"},
    },
    4: {
        "reference": "UNDER",
        "name": "Under_score Co",
        "balance": -3,
        "on_hold": False,
        "date_time_updated": "2026-02-01T00:00:00Z",
        "payment_terms_days": 60,
    },
    5: {
        "reference": "ACME02",
        "name": "acme trading",
        "balance": 250.75,
        "on_hold": True,
        "date_time_updated": "2025-12-31T23:59:59Z",
        "payment_terms_days": 30,
        "main_address": {"city": "Leeds", "postcode": "LS1"},
    },
    # Explicit nulls and a missing on_hold key.
    6: {"reference": "NONAME", "name": None, "balance": None, "date_time_updated": None},
    7: {
        "reference": "ZETA",
        "name": "Zeta",
        "balance": 12.5,
        "on_hold": False,
        "date_time_updated": "2026-01-31T00:00:00Z",
        "payment_terms_days": 14,
    },
    8: {
        "reference": "BACKSL",
        "name": "Back\\slash Ltd",
        "balance": 1.05,
        "on_hold": False,
        "date_time_updated": "2026-03-15T08:00:00Z",
    },
    # Matches 'Under_score' only if '_' is left as a LIKE wildcard.
    9: {
        "reference": "UNDERX",
        "name": "UnderXscore Co",
        "balance": 5,
        "on_hold": True,
        "date_time_updated": "2026-01-31T01:00:00Z",
    },
    # Contains '0' but not '0%', so it matches '0%' only if '%' is left as a LIKE wildcard.
    10: {
        "reference": "FIFTY",
        "name": "Fifty 50 Percent",
        "balance": 50,
        "on_hold": False,
        "date_time_updated": "2026-01-15T00:00:00Z",
        "currency": {"code": "GBP"},
    },
}
ALL_IDS = sorted(RECORDS)


def _all_but(*excluded: int) -> list[int]:
    return [record_id for record_id in ALL_IDS if record_id not in excluded]


@pytest.fixture(scope="module")
def db() -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(":memory:")
    connection.execute("CREATE TABLE records (resource TEXT, id INTEGER, body TEXT)")
    connection.executemany(
        "INSERT INTO records VALUES (?, ?, ?)",
        [("customer", record_id, json.dumps(body)) for record_id, body in RECORDS.items()]
        # Same shape, other resource: must never leak into customer results.
        + [("supplier", 11, json.dumps(RECORDS[1]))],
    )
    yield connection
    connection.close()


def _parse(options: dict[str, str]) -> ODataQuery:
    return parse_query(options, PROPERTIES, entity_name="customer")


def _execute(db: sqlite3.Connection, query: ODataQuery) -> list[tuple[int, str]]:
    sql = (
        f"SELECT id, body FROM records WHERE resource=? AND ({query.where_sql}) "
        f"ORDER BY {query.order_sql} LIMIT ? OFFSET ?"
    )
    return db.execute(sql, ("customer", *query.params, query.top, query.skip)).fetchall()


def _ids(db: sqlite3.Connection, options: dict[str, str]) -> list[int]:
    return [record_id for record_id, _ in _execute(db, _parse(options))]


def _filter_ids(db: sqlite3.Connection, expression: str) -> list[int]:
    return _ids(db, {"$filter": expression})


def _error(options: dict[str, str]) -> str:
    with pytest.raises(ODataError) as excinfo:
        _parse(options)
    return str(excinfo.value)


def test_no_options(db: sqlite3.Connection) -> None:
    query = _parse({})
    assert query == ODataQuery(
        where_sql="1=1",
        params=(),
        order_sql="id ASC",
        top=DEFAULT_TOP,
        skip=0,
        select=None,
        count=False,
    )
    assert [record_id for record_id, _ in _execute(db, query)] == ALL_IDS


def test_non_odata_parameters_and_expand_are_left_to_the_caller() -> None:
    assert _parse({"company": "1", "filter": "nonsense", "$expand": "lines"}) == _parse({})


def test_entity_name_defaults_to_entity() -> None:
    with pytest.raises(ODataError, match=re.escape("Could not find a property named 'foo' on type 'entity'.")):
        parse_query({"$filter": "foo eq 1"}, PROPERTIES)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("name eq 'Acme Ltd'", [1]),
        ("name ne 'Acme Ltd'", _all_but(1)),  # includes the null name: null ne 'x' is true in OData
        ("balance gt 12.5", [1, 5, 10]),
        ("balance ge 12.5", [1, 2, 5, 7, 10]),
        ("balance lt 0", [4]),
        ("balance le 1.05", [3, 4, 8]),
        ("balance eq 12.50m", [2, 7]),
        ("balance eq 12.50", [2, 7]),
        ("balance eq -3", [4]),
        ("balance eq 250.75M", [5]),
        ("payment_terms_days eq 30", [1, 3, 5]),
        ("payment_terms_days ne 30", _all_but(1, 3, 5)),
        ("id eq 3", [3]),
        ("id gt 8", [9, 10]),
        ("reference eq 'ACME01'", [1]),
        ("'Zeta' eq name", [7]),
        ("50 lt balance", [1, 5]),
    ],
)
def test_comparison(db: sqlite3.Connection, expression: str, expected: list[int]) -> None:
    assert _filter_ids(db, expression) == expected


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("on_hold eq true", [2, 5, 9]),
        ("on_hold eq false", [1, 3, 4, 7, 8, 10]),
        ("on_hold ne true", [1, 3, 4, 6, 7, 8, 10]),  # the missing on_hold counts as null, not true
        ("on_hold", [2, 5, 9]),
        ("not on_hold", [1, 3, 4, 7, 8, 10]),  # not null is null, so the missing value stays out
        ("not not on_hold", [2, 5, 9]),
        ("true", ALL_IDS),
        ("false", []),
    ],
)
def test_boolean(db: sqlite3.Connection, expression: str, expected: list[int]) -> None:
    assert _filter_ids(db, expression) == expected


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("name eq null", [6]),
        ("name ne null", _all_but(6)),
        ("balance eq null", [6]),
        ("null eq balance", [6]),
        ("main_address eq null", [4, 6, 7, 8, 9, 10]),  # missing keys are null too
        ("balance gt null", []),
        # Ordering comparisons with null are false, not unknown, so their negation is true.
        ("not (balance gt 12.5)", [2, 3, 4, 6, 7, 8, 9]),
        ("not (date_time_updated lt 2026-01-31)", [2, 3, 4, 6, 7, 8, 9]),
    ],
)
def test_null_handling(db: sqlite3.Connection, expression: str, expected: list[int]) -> None:
    assert _filter_ids(db, expression) == expected


def test_null_compiles_to_is_null_without_a_parameter() -> None:
    assert _parse({"$filter": "name eq null"}).where_sql == "json_extract(body, '$.name') IS NULL"
    query = _parse({"$filter": "name ne null"})
    assert (query.where_sql, query.params) == ("json_extract(body, '$.name') IS NOT NULL", ())


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("on_hold eq true and balance gt 10", [2, 5]),
        ("balance lt 1 or balance gt 100", [3, 4, 5]),
        # and binds tighter than or: Zeta, or (on hold and over 100).
        ("name eq 'Zeta' or on_hold eq true and balance gt 100", [5, 7]),
        ("on_hold eq true and balance gt 100 or name eq 'Zeta'", [5, 7]),
        ("(name eq 'Zeta' or on_hold eq true) and balance gt 10", [2, 5, 7]),
        # not binds tighter than and: (not Zeta) and over 50.
        ("not name eq 'Zeta' and balance gt 50", [1, 5]),
        ("not (name eq 'Zeta' and balance gt 50)", ALL_IDS),
        ("NOT (on_hold Eq true) AND balance GT 10", [1, 7, 10]),
        ("((balance gt 0)) and (((on_hold eq false)))", [1, 7, 8, 10]),
        ("balance gt 0 and on_hold eq false and payment_terms_days eq 30", [1]),
        ("id eq 1 or id eq 4 or id eq 9", [1, 4, 9]),
    ],
)
def test_logical_operators_and_precedence(db: sqlite3.Connection, expression: str, expected: list[int]) -> None:
    assert _filter_ids(db, expression) == expected


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        # SQLite's LIKE ignores ASCII case, as Sage's case-insensitive SQL Server collation does.
        ("startswith(name,'Acme')", [1, 5]),
        ("endswith(name,'Ltd')", [1, 8]),
        ("contains(name,'score')", [4, 9]),
        ("substringof('Brien', name)", [2]),
        ("substringof('brien', name) eq true", [2]),
        ("contains(name,'Ltd') eq false", [2, 3, 4, 5, 7, 9, 10]),
        ("not contains(name,'Ltd')", [2, 3, 4, 5, 7, 9, 10]),
        ("tolower(name) eq 'acme ltd'", [1]),
        ("toupper(name) eq 'ACME TRADING'", [5]),
        ("startswith(tolower(name),'acme')", [1, 5]),
        ("STARTSWITH(name,'Zeta')", [7]),
        ("ToLower(name) eq 'zeta'", [7]),
        ("contains(main_address/city,'Lon')", [1, 3]),
        ("contains(currency/code,'GB')", [1, 10]),
        ("startswith(name,'') and id lt 3", [1, 2]),
    ],
)
def test_functions(db: sqlite3.Connection, expression: str, expected: list[int]) -> None:
    assert _filter_ids(db, expression) == expected


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("name eq 'O''Brien & Sons'", [2]),
        ("contains(name,'O''B')", [2]),
        ("contains(name,'_')", [4]),
        ("contains(name,'Under_score')", [4]),
        ("contains(name,'0%')", [3]),
        ("contains(name,'%')", [3]),
        ("startswith(name,'%')", []),
        ("contains(name,'\\')", [8]),
        ("contains(name,'\\s')", [8]),
    ],
)
def test_escaping(db: sqlite3.Connection, expression: str, expected: list[int]) -> None:
    assert _filter_ids(db, expression) == expected


def test_like_pattern_is_escaped_and_parameterised() -> None:
    query = _parse({"$filter": "contains(name,'50%_off\\')"})
    assert query.where_sql == "(json_extract(body, '$.name') LIKE ? ESCAPE '\\')"
    assert query.params == ("%50\\%\\_off\\\\%",)


def test_values_are_parameters_not_sql(db: sqlite3.Connection) -> None:
    hostile = "x'') OR 1=1; DROP TABLE records; --"
    query = _parse({"$filter": f"name eq '{hostile}' or balance eq 12.5"})
    assert "DROP" not in query.where_sql
    assert "12.5" not in query.where_sql
    assert query.params == ("x') OR 1=1; DROP TABLE records; --", 12.5)
    assert [record_id for record_id, _ in _execute(db, query)] == [2, 7]
    assert db.execute("SELECT count(*) FROM records").fetchone() == (11,)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("main_address/city eq 'London'", [1, 3]),
        ("main_address/postcode ne null", [1, 2, 3, 5]),
        ("currency/code eq 'GBP'", [1, 10]),  # nested schema not described: accepted unchecked
    ],
)
def test_navigation_paths(db: sqlite3.Connection, expression: str, expected: list[int]) -> None:
    assert _filter_ids(db, expression) == expected


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("date_time_updated eq 2026-01-31T00:00:00Z", [2, 7]),
        ("date_time_updated eq 2026-01-31T01:00:00+01:00", [2, 7]),
        ("date_time_updated eq 2026-01-31T00:30:00+01:00", [1]),  # the offset moves it to the day before
        ("date_time_updated eq 2026-01-30T18:30:00-05:00", [1]),
        ("date_time_updated eq 2026-01-31T00:00:00.123Z", [2, 7]),
        ("date_time_updated ge 2026-01-31", [2, 3, 4, 7, 8, 9]),
        ("date_time_updated ge 2026-01-31 and date_time_updated lt 2026-02-01", [2, 3, 7, 9]),
        ("date_time_updated lt datetime'2026-01-31T00:00:00'", [1, 5, 10]),
        ("date_time_updated eq datetime'2026-01-31T01:00:00'", [9]),  # no zone means UTC
        ("date_time_updated eq DateTime'2026-01-31T01:00:00'", [9]),
        ("date_time_updated eq datetimeoffset'2026-01-31T01:00:00+01:00'", [2, 7]),
        ("date_time_updated eq '2026-01-31T01:00:00+01:00'", [2, 7]),
        ("date_time_updated gt '2026-03-01'", [8]),
        ("date_time_updated eq null", [6]),
    ],
)
def test_date_times(db: sqlite3.Connection, expression: str, expected: list[int]) -> None:
    assert _filter_ids(db, expression) == expected


@pytest.mark.parametrize(
    ("expression", "param"),
    [
        ("date_time_updated eq 2026-01-31T00:30:00+01:00", "2026-01-30T23:30:00Z"),
        ("date_time_updated eq 2026-01-31T00:00:00.999Z", "2026-01-31T00:00:00Z"),
        ("date_time_updated eq 2026-01-31", "2026-01-31T00:00:00Z"),
        ("date_time_updated eq datetime'2026-01-31T08:15:00'", "2026-01-31T08:15:00Z"),
        ("date_time_updated eq datetime'2026-01-31T08:15'", "2026-01-31T08:15:00Z"),
        ("date_time_updated eq '2026-06-30T23:00:00-02:00'", "2026-07-01T01:00:00Z"),
        ("currency/changed eq 2026-01-31T00:00:00+01:00", "2026-01-30T23:00:00Z"),
    ],
)
def test_date_time_literals_are_normalised_to_utc(expression: str, param: str) -> None:
    assert _parse({"$filter": expression}).params == (param,)


def test_quoted_string_stays_a_string_for_string_properties() -> None:
    assert _parse({"$filter": "reference eq '2026-01-31'"}).params == ("2026-01-31",)


@pytest.mark.parametrize(
    ("orderby", "expected"),
    [
        # SQLite sorts null first ascending and compares text by code point.
        ("name", [6, 3, 1, 8, 10, 2, 9, 4, 7, 5]),
        ("name asc", [6, 3, 1, 8, 10, 2, 9, 4, 7, 5]),
        ("name desc", [5, 7, 4, 9, 2, 10, 8, 1, 3, 6]),
        ("name DESC", [5, 7, 4, 9, 2, 10, 8, 1, 3, 6]),
        ("balance desc", [5, 1, 10, 2, 7, 9, 8, 3, 4, 6]),  # 2 and 7 tie, broken by id
        ("on_hold desc, balance", [9, 2, 5, 4, 3, 8, 7, 10, 1, 6]),
        ("payment_terms_days,id desc", [10, 9, 8, 6, 7, 2, 5, 3, 1, 4]),
        ("main_address/city desc", [1, 3, 5, 2, 4, 6, 7, 8, 9, 10]),
        ("id desc", [10, 9, 8, 7, 6, 5, 4, 3, 2, 1]),
    ],
)
def test_orderby(db: sqlite3.Connection, orderby: str, expected: list[int]) -> None:
    assert _ids(db, {"$orderby": orderby}) == expected


@pytest.mark.parametrize(
    ("orderby", "order_sql"),
    [
        ("name", "json_extract(body, '$.name') ASC, id ASC"),
        (
            "balance desc,name",
            "json_extract(body, '$.balance') DESC, json_extract(body, '$.name') ASC, id ASC",
        ),
        ("payment_terms_days, id desc", "json_extract(body, '$.payment_terms_days') ASC, id DESC"),
        ("id", "id ASC"),
        ("main_address/city", "json_extract(body, '$.main_address.city') ASC, id ASC"),
    ],
)
def test_orderby_sql_ends_with_id_tie_breaker(orderby: str, order_sql: str) -> None:
    assert _parse({"$orderby": orderby}).order_sql == order_sql


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"$top": "3"}, [1, 2, 3]),
        ({"$top": "0"}, []),
        ({"$top": "5000"}, ALL_IDS),
        ({"$orderby": "balance desc", "$skip": "2", "$top": "3"}, [10, 2, 7]),
        ({"$orderby": "balance desc", "$skip": "8"}, [4, 6]),
        ({"$orderby": "id", "$skip": "0"}, ALL_IDS),
        ({"$orderby": "id", "$skip": "20"}, []),
        ({"$filter": "on_hold eq false", "$orderby": "name desc", "$skip": "1", "$top": "2"}, [4, 10]),
    ],
)
def test_top_and_skip(db: sqlite3.Connection, options: dict[str, str], expected: list[int]) -> None:
    assert _ids(db, options) == expected


def test_top_and_skip_values() -> None:
    query = _parse({"$top": "25", "$skip": "50", "$orderby": "name"})
    assert (query.top, query.skip) == (25, 50)
    assert _parse({"$top": str(MAX_TOP)}).top == MAX_TOP


@pytest.mark.parametrize(
    ("raw", "select"),
    [
        ("name,reference", ("name", "reference")),
        (" reference , name ", ("reference", "name")),
        ("name,name,id", ("name", "id")),
        ("main_address", ("main_address",)),
        ("*", None),
        ("name,*", None),
    ],
)
def test_select(raw: str, select: tuple[str, ...] | None) -> None:
    assert _parse({"$select": raw}).select == select


def test_project(db: sqlite3.Connection) -> None:
    query = _parse({"$filter": "id eq 1", "$select": "on_hold,name,reference,payment_terms_days"})
    (_, body), *_ = _execute(db, query)
    projected = project(json.loads(body), query.select)
    assert projected == {
        "on_hold": False,
        "name": "Acme Ltd",
        "reference": "ACME01",
        "payment_terms_days": 30,
    }
    assert list(projected) == ["on_hold", "name", "reference", "payment_terms_days"]


def test_project_skips_keys_the_entity_lacks_and_keeps_everything_without_select() -> None:
    entity = {"id": 6, "reference": "NONAME", "name": None}
    assert project(entity, ("name", "balance", "id")) == {"name": None, "id": 6}
    assert project(entity, None) == entity
    assert project(entity, None) is not entity


@pytest.mark.parametrize(("raw", "count"), [("true", True), ("TRUE", True), ("false", False), ("False", False)])
def test_count(raw: str, count: bool) -> None:
    assert _parse({"$count": raw}).count is count


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"$foo": "1"}, "The query parameter '$foo' is not supported."),
        ({"$inlinecount": "allpages"}, "The query parameter '$inlinecount' is not supported."),
        ({"$skip": "5"}, "$skip requires $orderby."),
        ({"$skip": "0", "$top": "5"}, "$skip requires $orderby."),
        (
            {"$top": "5001"},
            "The limit of '5000' for Top query has been exceeded. The value from the incoming request is '5001'.",
        ),
        ({"$top": "-1"}, "Invalid value '-1' for $top query option found."),
        ({"$top": "abc"}, "Invalid value 'abc' for $top query option found."),
        ({"$top": "1.5"}, "Invalid value '1.5' for $top query option found."),
        ({"$top": ""}, "Invalid value '' for $top query option found."),
        ({"$top": "99999999999"}, "Invalid value '99999999999' for $top query option found."),
        ({"$top": "١٢"}, "Invalid value '١٢' for $top query option found."),  # non-ASCII digits
        ({"$orderby": "id", "$skip": "-2"}, "Invalid value '-2' for $skip query option found."),
        ({"$orderby": "id", "$skip": "x"}, "Invalid value 'x' for $skip query option found."),
        ({"$count": "yes"}, "Invalid value 'yes' for $count query option found."),
        ({"$select": "name,foo"}, "Could not find a property named 'foo' on type 'customer'."),
        ({"$select": "Name"}, "Could not find a property named 'Name' on type 'customer'."),
        ({"$select": "main_address/city"}, "Could not find a property named 'main_address/city'"),
        ({"$select": "name,"}, "Empty property name in $select 'name,'."),
        ({"$orderby": "foo"}, "Could not find a property named 'foo' on type 'customer'."),
        ({"$orderby": "name, Balance desc"}, "Could not find a property named 'Balance' on type 'customer'."),
        ({"$orderby": "main_address/town"}, "Could not find a property named 'town' on type 'main_address'."),
        ({"$orderby": "name sideways"}, "position 5 in 'name sideways'"),
        ({"$orderby": "name,"}, "position 5 in 'name,': expected a property name but found end of input."),
        ({"$orderby": ""}, "position 0 in '': expected a property name but found end of input."),
        ({"$orderby": "'name'"}, "expected a property name but found 'name'"),
    ],
)
def test_option_errors(options: dict[str, str], message: str) -> None:
    assert message in _error(options)


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        # Unknown properties, including case mismatches and nested paths.
        ("foo eq 1", "Could not find a property named 'foo' on type 'customer'."),
        ("Name eq 'Zeta'", "Could not find a property named 'Name' on type 'customer'."),
        ("main_address/town eq 'x'", "Could not find a property named 'town' on type 'main_address'."),
        ("contains(nmae,'x')", "Could not find a property named 'nmae' on type 'customer'."),
        ("name/first eq 'x'", "Cannot navigate to 'first' because property 'name' is of type 'string'."),
        ("contacts/name eq 'x'", "Cannot navigate to 'name' because property 'contacts' is of type 'array'."),
        # Syntax errors name the position and the offending token.
        ("name eq", "Syntax error at position 7 in 'name eq': expected a value but found end of input."),
        ("name eq 'abc", "Syntax error at position 8 in 'name eq 'abc': unterminated string literal."),
        ("name eq 'x' and", "position 15 in 'name eq 'x' and': expected a value but found end of input."),
        ("(name eq 'x'", "position 12 in '(name eq 'x'': expected ')' but found end of input."),
        (
            "name eq 'x')",
            "position 11 in 'name eq 'x')': expected 'and', 'or' or end of input but found ')'.",
        ),
        (
            "name eq 'x' 'y'",
            "position 12 in 'name eq 'x' 'y'': expected 'and', 'or' or end of input but found 'y'.",
        ),
        ("name xx 'a'", "position 5 in 'name xx 'a'': expected a comparison operator"),
        (
            "name",
            "position 4 in 'name': expected a comparison operator (eq, ne, gt, ge, lt, le) after 'name'",
        ),
        ("balance", "after 'balance' but found end of input"),
        ("null", "after 'null' but found end of input"),
        ("'abc'", "after 'abc' but found end of input"),
        ("name eq #", "position 8 in 'name eq #': unexpected character '#'."),
        ("name eq and", "position 8 in 'name eq and': expected a value but found 'and'."),
        ("name eq eq 'x'", "position 8 in 'name eq eq 'x'': expected a value but found 'eq'."),
        ("and name eq 'x'", "position 0 in 'and name eq 'x'': expected a value but found 'and'."),
        ("()", "position 1 in '()': expected a value but found ')'."),
        ("", "Syntax error at position 0 in '': expected a value but found end of input."),
        ('name eq "x"', "unexpected character '\"'"),
        ("name eq 'x' && balance gt 1", "unexpected character '&'"),
        ("date_time_updated eq 2026-01-31T00:00:00 01:00", "unexpected character ':'"),  # unencoded '+'
        # Functions.
        ("foo(name) eq 1", "position 0 in 'foo(name) eq 1': unknown function 'foo'."),
        ("startswith(name)", "Function 'startswith' takes 2 argument(s) but 1 were given."),
        ("tolower(name, 'x') eq 'x'", "Function 'tolower' takes 1 argument(s) but 2 were given."),
        ("startswith(name 'x')", "position 16 in 'startswith(name 'x')': expected ')' but found 'x'."),
        (
            "contains(balance,'1')",
            "Function 'contains' needs a string property, not property 'balance' of type",
        ),
        ("contains('abc','a')", "Function 'contains' needs a string property, not string literal 'abc'."),
        ("contains(name, reference)", "needs a string literal to search for, not property 'reference'"),
        ("substringof(name, 'x')", "Function 'substringof' needs a string property, not string literal 'x'."),
        ("contains(name, 5)", "needs a string literal to search for, not number literal '5'"),
        ("tolower('X') eq 'x'", "Function 'tolower' needs a string property, not string literal 'X'."),
        ("toupper(on_hold) eq 'TRUE'", "Function 'toupper' needs a string property, not property 'on_hold'"),
        # Types: literals must suit the property they are compared with.
        ("balance eq 'abc'", "Cannot compare property 'balance' of type 'number' with string literal 'abc'."),
        ("'abc' eq balance", "Cannot compare property 'balance' of type 'number' with string literal 'abc'."),
        ("name eq 5", "Cannot compare property 'name' of type 'string' with number literal '5'."),
        ("on_hold eq 1", "Cannot compare property 'on_hold' of type 'boolean' with number literal '1'."),
        (
            "reference eq 2026-01-31",
            "property 'reference' of type 'string' with date-time literal '2026-01-31'",
        ),
        ("date_time_updated eq 'yesterday'", "of type 'date-time' with string literal 'yesterday'."),
        ("date_time_updated gt 20260131", "of type 'date-time' with number literal '20260131'."),
        ("balance eq name", "Cannot compare property 'balance' of type 'number' with property 'name'"),
        ("contains(name,'x') eq 'yes'", "with string literal 'yes'"),
        # Malformed date-times.
        ("date_time_updated eq 2026-13-01", "position 21 in 'date_time_updated eq 2026-13-01'"),
        ("date_time_updated eq 2026-02-30", "invalid date-time literal '2026-02-30'."),
        ("date_time_updated eq 2026-01-31T25:00:00Z", "invalid date-time literal '2026-01-31T25:00:00Z'."),
        ("date_time_updated eq datetime'nope'", "invalid date-time literal datetime'nope'."),
        ("date_time_updated eq datetime'2026-01-31", "unterminated string literal"),
        ("date_time_updated eq 0001-01-01T00:00:00+01:00", "invalid date-time literal"),
    ],
)
def test_filter_errors(expression: str, message: str) -> None:
    assert message in _error({"$filter": expression})


def test_deep_nesting_is_refused_before_python_or_sqlite_give_up() -> None:
    expression = "(" * 11 + "on_hold" + ")" * 11
    assert "position 10 in" in _error({"$filter": expression})
    assert "more than 10 nested parentheses" in _error({"$filter": expression})
    assert "more than 10 nested parentheses" in _error({"$filter": "(" * 400})
    assert "more than 10 nested parentheses" in _error({"$filter": "tolower(" * 11 + "name) eq 'x'"})


def test_too_many_tokens_is_refused() -> None:
    assert "more than 500 tokens" in _error({"$filter": " or ".join(["on_hold"] * 300)})
    assert "more than 500 tokens" in _error({"$filter": "not " * 10_000 + "on_hold"})
    assert "more than 500 tokens" in _error({"$orderby": ",".join(["name"] * 300)})


def test_largest_accepted_filters_still_run_in_sqlite(db: sqlite3.Connection) -> None:
    # The deepest SQL one level of parentheses can produce, nested as far as allowed.
    deepest = "not (on_hold or " * 10 + "balance ge 50" + ")" * 10
    # An even number of negations of (on hold or X) leaves X for the records not on hold.
    assert _filter_ids(db, deepest) == [1, 10]
    longest = " or ".join(["id eq 1"] * 124)
    assert _filter_ids(db, longest) == [1]


_FUZZ_CLAUSES = {
    "$filter": (
        " and ",
        [
            "name eq 'x'",
            "on_hold",
            "balance gt 1",
            "contains(tolower(name),'a%')",
            "not (id eq 3)",
            "date_time_updated lt 2026-01-31T00:00:00+01:00",
            "currency/code ne null",
            "substringof('b', main_address/city) eq true",
            "(balance le -3 or name eq 'O''B')",
        ],
    ),
    "$orderby": (",", ["name", "balance desc", "main_address/city asc", "id", "currency/code desc"]),
}
_FUZZ_PIECES = [
    "name", "id", "foo", "eq", "gt", "and", "or", "not", "(", ")", ",", "'", "''", "'x'", "12.5", "-", "true",
    "null", "2026-01-31", "datetime'", "tolower(", "contains(", "asc", "%", "_", "/", "$", "é", " ", "",
]  # fmt: skip


def _mutated_query_text(generator: random.Random, option: str) -> str:
    connector, clauses = _FUZZ_CLAUSES[option]
    text = connector.join(generator.choices(clauses, k=generator.randint(1, 4)))
    for _ in range(generator.randint(0, 2)):
        position = generator.randint(0, len(text))
        text = text[:position] + generator.choice(_FUZZ_PIECES) + text[position + 1 :]
    return text


def test_any_input_gives_runnable_sql_or_odata_error(db: sqlite3.Connection) -> None:
    generator = random.Random(20260131)
    accepted = 0
    for _ in range(3000):
        option = generator.choice(list(_FUZZ_CLAUSES))
        text = _mutated_query_text(generator, option)
        try:
            query = parse_query({option: text}, PROPERTIES)
        except ODataError:
            continue
        _execute(db, query)  # must not raise sqlite3 errors
        accepted += 1
    # Enough input must get through for the SQL side to be exercised, and enough fail for the errors.
    assert 300 < accepted < 2700
