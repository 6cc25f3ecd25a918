"""The definition format and its validator: structure (order, M/C, repeats, groups), element formats, code
lists, and the position of the first problem; plus the syntax layer the validator stands on."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pipelines.edi.edifact.d96a import APERAK, DIRECTORY, ORDERS, REMADV
from pipelines.edi.edifact.definitions import Composite, Data, Group, MessageSpec, SegmentSpec, Use, Validator, codes
from pipelines.edi.edifact.service import CONTRL_D3, CONTRL_V2
from pipelines.edi.edifact.syntax import (
    DEFAULT_CHARS,
    EdifactError,
    Segment,
    ServiceChars,
    parse_edifact_date,
    split_segments,
    to_decimal,
)

# A small message: BGM M1, DTM C2, SG1 (LIN M1, QTY C1) M3, UNS M1.
TEST = MessageSpec(
    "TEST",
    "D",
    "96A",
    "UN",
    (
        Use("BGM", True, 1, codes={"1.1": codes("220")}, required={"2"}),
        Use("DTM", False, 2),
        Group("SG1", True, 3, (Use("LIN", True, 1), Use("QTY", False, 1))),
        Use("UNS", True, 1),
    ),
    DIRECTORY,
)


def problem(text: str, chars: ServiceChars = DEFAULT_CHARS) -> tuple[str, str | None, str] | None:
    """Validate a TEST body (segments between UNH and UNT, one per line); the first problem or None."""
    segments, _ = split_segments("UNH+1+TEST:D:96A:UN'" + text.replace("\n", "") + "UNT+9+1'", chars)
    try:
        Validator(chars).validate(TEST, segments[1:-1], segments[-1])
    except EdifactError as error:
        return error.reason, error.position(), error.code
    return None


GOOD = "BGM+220+PO1+9'\nDTM+137:20260315:102'\nLIN+1++123:EN'\nQTY+21:5'\nLIN+2'\nUNS+S'"


def test_a_good_message_passes() -> None:
    assert problem(GOOD) is None


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ("BGM+220+PO1+9'", "BGM+221+PO1+9'"),
            (
                "1001 Document/message name, coded '221' is not one of the codes we accept here (220)",
                "segment 2 (BGM), element 1, component 1",
                "12",
            ),
        ),
        (
            ("BGM+220+PO1+9'", "BGM+220++9'"),
            ("mandatory 1004 Document/message number is missing", "segment 2 (BGM), element 2", "13"),
        ),
        (
            ("BGM+220+PO1+9'", "BGM+220+" + "X" * 36 + "+9'"),
            ("1004 Document/message number '" + "X" * 36 + "' is longer than 35", "segment 2 (BGM), element 2", "39"),
        ),
        (
            ("BGM+220+PO1+9'", "BGM+220+PO1:2+9'"),
            (
                "1004 Document/message number is a simple data element but has components",
                "segment 2 (BGM), element 2, component 2",
                "16",
            ),
        ),
        (
            ("BGM+220+PO1+9'", "BGM+220+PO1+9+AP+X'"),
            ("BGM has 5 data elements; it has only 4", "segment 2 (BGM), element 5", "16"),
        ),
        (
            ("BGM+220+PO1+9'", "BGM+220:1:2:3:4+PO1+9'"),
            (
                "C002 Document/message name has 5 components; it has only 4",
                "segment 2 (BGM), element 1, component 5",
                "16",
            ),
        ),
        (
            ("DTM+137:20260315:102'", "DTM+:20260315:102'"),
            ("mandatory 2005 Date/time/period qualifier is missing", "segment 3 (DTM), element 1, component 1", "13"),
        ),
        (
            ("DTM+137:20260315:102'", "DTM'"),
            ("mandatory C507 Date/time/period is missing", "segment 3 (DTM), element 1", "13"),
        ),
        (
            ("QTY+21:5'", "QTY+21:5.5.5'"),
            ("6060 Quantity '5.5.5' is not numeric", "segment 5 (QTY), element 1, component 2", "37"),
        ),
        (
            ("QTY+21:5'", "QTY+21:5,5'"),
            (
                "6060 Quantity '5,5' does not use the declared decimal mark",
                "segment 5 (QTY), element 1, component 2",
                "19",
            ),
        ),
        (
            ("QTY+21:5'", "QTY+21:1234567890123456'"),
            ("6060 Quantity '1234567890123456' is longer than 15", "segment 5 (QTY), element 1, component 2", "39"),
        ),
        (
            ("UNS+S'", "UNS+1'"),
            ("0081 Section identification '1' must not contain digits", "segment 7 (UNS), element 1", "37"),
        ),
        (
            ("UNS+S'", "UNS+SS'"),
            ("0081 Section identification 'SS' is longer than 1", "segment 7 (UNS), element 1", "39"),
        ),
        (
            ("DTM+137:20260315:102'", "DTM+1'DTM+2'DTM+3'"),
            ("segment DTM repeats more than 2 times", "segment 5 (DTM)", "35"),
        ),
        (
            ("LIN+2'", "LIN+2'LIN+3'LIN+4'"),
            ("segment group SG1 LIN repeats more than 3 times", "segment 8 (LIN)", "36"),
        ),
        (("BGM+220+PO1+9'\n", ""), ("mandatory segment BGM is missing (found DTM)", "segment 2 (DTM)", "13")),
        (("UNS+S'", ""), ("mandatory segment UNS is missing (found UNT)", "segment 7 (UNT)", "13")),
        (("LIN+2'", "LIN+2'QTY+1:1'QTY+1:1'"), ("segment QTY repeats more than 1 times", "segment 8 (QTY)", "35")),
        (("LIN+2'", "LIN+2'XYZ+1'"), ("segment 'XYZ' is not in our TEST:D:96A:UN definition", "segment 7 (XYZ)", "15")),
        (("UNS+S'", "UNS+S'DTM+1'"), ("segment DTM is out of place", "segment 8 (DTM)", "15")),
    ],
)
def test_the_first_problem_is_reported_with_its_position(change: tuple[str, str], expected: tuple) -> None:
    text = GOOD.replace(*change)
    assert text != GOOD
    assert problem(text) == expected


def test_numbers_follow_the_declared_decimal_mark_and_may_be_negative() -> None:
    comma = ServiceChars.from_una(":+,? '")
    assert problem(GOOD.replace("QTY+21:5'", "QTY+21:-5,5'"), comma) is None
    assert problem(GOOD.replace("QTY+21:5'", "QTY+21:5.5'"), comma)[2] == "19"
    # Sign and decimal mark do not count towards n..15.
    assert problem(GOOD.replace("QTY+21:5'", "QTY+21:-12345678901234.5'")) is None
    assert to_decimal("-12,50", ",") == Decimal("-12.50")
    with pytest.raises(ArithmeticError):
        to_decimal("12.50", ",")


def test_definition_mistakes_are_caught_when_the_definition_is_built() -> None:
    with pytest.raises(ValueError, match=r"paths \['9'\] name no element"):
        MessageSpec("X", "D", "96A", "UN", (Use("BGM", True, 1, codes={"9": codes("1")}),), DIRECTORY)
    with pytest.raises(ValueError, match="segment ZZZ is not in the segment directory"):
        MessageSpec("X", "D", "96A", "UN", (Use("ZZZ", True, 1),), DIRECTORY)
    with pytest.raises(ValueError, match="must start with a segment"):
        MessageSpec(
            "X", "D", "96A", "UN", (Group("SG1", True, 1, (Group("SG2", True, 1, (Use("BGM", True, 1),)),)),), DIRECTORY
        )
    with pytest.raises(ValueError, match=r"format 'x\.\.3'"):
        Data("9999", "Bad", "x..3")


def test_our_message_definitions_cover_what_they_claim() -> None:
    assert (ORDERS.name, REMADV.name, APERAK.name) == ("ORDERS:D:96A:UN", "REMADV:D:96A:UN", "APERAK:D:96A:UN")
    assert {"BGM", "DTM", "RFF", "NAD", "CUX", "LIN", "PIA", "QTY", "PRI", "UNS", "CNT"} <= ORDERS.tags
    assert {"BGM", "DTM", "RFF", "NAD", "CUX", "DOC", "MOA", "AJT", "UNS"} <= REMADV.tags
    assert {"BGM", "DOC", "RFF", "ERC", "FTX"} <= APERAK.tags
    assert CONTRL_V2.tags == CONTRL_D3.tags == {"UCI", "UCM", "UCS", "UCD", "UCF"}
    composite = Composite("C001", "Example", (Data("0001", "Part", "an..3", True),))
    assert SegmentSpec("XXX", "Example", (composite,)).elements[0].components[0].mandatory


# --- the syntax layer -----------------------------------------------------------------------------------------


def test_segments_keep_their_position_and_offset() -> None:
    segments, end = split_segments("UNB+UNOA:2+A+B'\r\nUNH+1+X:D:96A:UN'\nBGM+220'", DEFAULT_CHARS)
    assert [(s.tag, s.position, s.offset) for s in segments] == [("UNB", 1, 0), ("UNH", 2, 17), ("BGM", 3, 35)]
    assert segments[0].elements == (("UNOA", "2"), ("A",), ("B",))
    assert (segments[0].get(1, 2), segments[0].get(9), segments[0].get(1, 9), segments[2].composite(3)) == (
        "2",
        "",
        "",
        (),
    )
    assert end == len("UNB+UNOA:2+A+B'\r\nUNH+1+X:D:96A:UN'\nBGM+220'")


def test_release_characters_and_unterminated_text() -> None:
    text = "FTX+AAI+++a?+b?:c?'d??e:f'RFF+X"
    segments, end = split_segments(text, DEFAULT_CHARS)
    assert segments[0].elements[3] == ("a+b:c'd?e", "f")
    assert text[end:] == "RFF+X"
    _, end = split_segments("BGM+1?", DEFAULT_CHARS)
    assert end == 0


def test_the_repetition_separator_only_in_syntax_version_4() -> None:
    chars = ServiceChars.from_una(":+.?*'")
    [v3], _ = split_segments("RFF+A*B'", chars)
    assert (v3.elements, v3.repeated) == ((("A*B",),), 0)
    [v4], _ = split_segments("RFF+A*B'", chars, repetitions=True)
    assert v4.repeated == 1
    [released], _ = split_segments("RFF+A?*B'", chars, repetitions=True)
    assert (released.elements, released.repeated) == ((("A*B",),), 0)


@pytest.mark.parametrize(
    ("advice", "error"),
    [(":+.? ", "needs 6 characters"), (":+;? '", "decimal mark"), ("::.? '", "one character for two purposes"),
     ("a+.? '", "letter or digit")],
)  # fmt: skip
def test_unusable_service_string_advice(advice: str, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        ServiceChars.from_una(advice)


def test_no_release_character_when_una_says_space() -> None:
    chars = ServiceChars.from_una(":+.  '")
    assert chars.release is None
    [segment], _ = split_segments("FTX+a?b'", chars)
    assert segment.elements == (("a?b",),)


@pytest.mark.parametrize(
    ("value", "format_code", "expected"),
    [("20260315", "102", "2026-03-15"), ("202603150930", "203", "2026-03-15"), ("260315", "101", "2026-03-15"),
     ("20260315093005", "204", "2026-03-15")],
)  # fmt: skip
def test_dates(value: str, format_code: str, expected: str) -> None:
    assert parse_edifact_date(value, format_code).isoformat() == expected


@pytest.mark.parametrize(
    ("value", "format_code", "error"),
    [("20260230", "102", "is not a format 102 date"), ("2026031", "102", "is not a format 102 date"),
     ("20260315", "718", "format 718 is not one we read"), ("20260315", "", "format (none)")],
)  # fmt: skip
def test_dates_we_do_not_read(value: str, format_code: str, error: str) -> None:
    with pytest.raises(ValueError, match=error.replace("(", r"\(").replace(")", r"\)")):
        parse_edifact_date(value, format_code)


def test_a_segment_is_a_light_named_tuple() -> None:
    segment = Segment("QTY", (("21", "5"),), 4)
    assert (segment.offset, segment.repeated, segment.get(1, 2)) == (0, 0, "5")
