"""Our DESADV and INVOIC definitions: a message as we write it passes; one that breaks the structure, a code list
or a required element is refused by the writer (InvalidDocument) naming the segment and element."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from pipelines.edi.edifact import Envelope, InvalidDocument, OutboundMessage, write_interchange
from pipelines.edi.edifact.d96a import DESADV, DESPATCH_DIRECTORY, DIRECTORY, INVOIC
from pipelines.edi.edifact.definitions import MessageSpec
from pipelines.edi.edifact.writer import Value

PREPARED_AT = datetime(2026, 3, 18, tzinfo=UTC)
ENVELOPE = Envelope("UNOA", "2", ("5060123450004", "14"), ("5450534000024", "14"), PREPARED_AT, "1")

Body = list[tuple[str, Sequence[Value]]]

DESADV_BODY: Body = [
    ("BGM", [("351", "", "9"), "DN0004711", "9"]),
    ("DTM", [("11", "20260318", "102")]),
    ("DTM", [("137", "20260318", "102")]),
    ("RFF", [("ON", "4KT9ZQ2M")]),
    ("NAD", ["SU", ("5060123450004", "", "9")]),
    ("TDT", ["20", "", "30", "31"]),
    ("CPS", ["1"]),
    ("PAC", ["1", None, "PK"]),
    ("CPS", ["2", "1"]),
    ("PAC", ["1", ("", "52"), "PK"]),
    ("PCI", ["33E"]),
    ("GIN", ["BJ", "050601230000000013"]),
    ("LIN", ["1", "", ("5012345678900", "EN")]),
    ("QTY", [("12", "12")]),
    ("RFF", [("ON", "4KT9ZQ2M")]),
    ("PCI", ["17"]),
    ("DTM", [("361", "20260930", "102")]),
    ("GIN", ["BX", "L2603A"]),
    ("CNT", [("2", "1")]),
]

INVOIC_BODY: Body = [
    ("BGM", ["380", "SI0007788", "9"]),
    ("DTM", [("137", "20260319", "102")]),
    ("RFF", [("ON", "4KT9ZQ2M")]),
    ("DTM", [("171", "20260313", "102")]),
    ("NAD", ["SU", ("5060123450004", "", "9")]),
    ("RFF", [("VA", "GB123456789")]),
    ("NAD", ["BY", ("5450534000024", "", "9")]),
    ("CUX", [("2", "GBP", "4")]),
    ("ALC", ["C", "D240"]),
    ("MOA", [("8", "7.50")]),
    ("LIN", ["1", "", ("5012345678900", "EN")]),
    ("QTY", [("47", "12")]),
    ("MOA", [("203", "51.00")]),
    ("PRI", [("AAA", "4.25")]),
    ("RFF", [("ON", "4KT9ZQ2M", "10")]),
    ("TAX", ["7", "VAT", None, None, ("", "", "", "20")]),
    ("MOA", [("124", "10.20")]),
    ("UNS", ["S"]),
    ("CNT", [("2", "1")]),
    ("MOA", [("77", "68.70")]),
    ("TAX", ["7", "VAT", None, None, ("", "", "", "20")]),
    ("MOA", [("124", "10.20")]),
]


def write(spec: MessageSpec, body: Body) -> bytes:
    return write_interchange(ENVELOPE, [OutboundMessage("1", spec, body)])


def changed(body: Body, position: int, segment: tuple[str, Sequence[Value]] | None) -> Body:
    """`body` with its segment at `position` (0 = the first after UNH) replaced, or removed when None."""
    return [*body[:position], *([segment] if segment else []), *body[position + 1 :]]


@pytest.mark.parametrize(("spec", "body"), [(DESADV, DESADV_BODY), (INVOIC, INVOIC_BODY)], ids=["desadv", "invoic"])
def test_a_message_as_we_write_it_passes(spec: MessageSpec, body: Body) -> None:
    assert write(spec, body).startswith(b"UNA:+.? 'UNB+UNOA:2+")


@pytest.mark.parametrize(
    ("spec", "body", "message"),
    [
        pytest.param(
            DESADV,
            changed(DESADV_BODY, 0, ("BGM", [("351", "", "9"), "", "9"])),
            "DESADV:D:96A:UN 1: mandatory 1004 Document/message number is missing at segment 2 (BGM), element 2",
            id="desadv-without-bgm-1004",
        ),
        pytest.param(
            DESADV,
            changed(DESADV_BODY, 6, None),
            "DESADV:D:96A:UN 1: segment PAC is out of place (expected CPS) at segment 8 (PAC)",
            id="desadv-without-the-consignment-cps",
        ),
        pytest.param(
            DESADV,
            changed(DESADV_BODY, 13, ("QTY", [("21", "12")])),
            "DESADV:D:96A:UN 1: 6063 Quantity qualifier '21' is not one of the codes we accept here (12)"
            " at segment 15 (QTY), element 1, component 1",
            id="desadv-ordered-quantity",
        ),
        pytest.param(
            DESADV,
            changed(DESADV_BODY, 9, ("PAC", ["1", ("", "52"), "CT"])),
            "DESADV:D:96A:UN 1: 7065 Type of packages identification 'CT' is not one of the codes we accept here"
            " (201, PK) at segment 11 (PAC), element 3, component 1",
            id="desadv-package-type",
        ),
        pytest.param(
            DESADV,
            changed(DESADV_BODY, 11, ("GIN", ["BJ"])),
            "DESADV:D:96A:UN 1: mandatory C208 Identity number range is missing at segment 13 (GIN), element 2",
            id="desadv-gin-without-sscc",
        ),
        pytest.param(
            INVOIC,
            changed(INVOIC_BODY, 17, None),
            "INVOIC:D:96A:UN 1: mandatory segment UNS is missing (found CNT) at segment 19 (CNT)",
            id="invoic-without-uns",
        ),
        pytest.param(
            INVOIC,
            changed(INVOIC_BODY, 15, ("TAX", ["7", "VAT"])),
            "INVOIC:D:96A:UN 1: mandatory C243 Duty/tax/fee detail is missing at segment 17 (TAX), element 5",
            id="invoic-tax-without-rate",
        ),
        pytest.param(
            INVOIC,
            changed(INVOIC_BODY, 19, ("MOA", [("9", "68.70")])),
            "INVOIC:D:96A:UN 1: 5025 Monetary amount type qualifier '9' is not one of the codes we accept here"
            " (124, 125, 131, 77, 79, 86) at segment 21 (MOA), element 1, component 1",
            id="invoic-amount-due",
        ),
        pytest.param(
            INVOIC,
            changed(INVOIC_BODY, 12, None),
            "INVOIC:D:96A:UN 1: mandatory segment MOA is missing (found PRI) at segment 14 (PRI)",
            id="invoic-line-without-amount",
        ),
    ],
)
def test_a_broken_message_is_refused_naming_where(spec: MessageSpec, body: Body, message: str) -> None:
    with pytest.raises(InvalidDocument) as refused:
        write(spec, body)
    assert str(refused.value) == message


def test_the_despatch_directory_adds_segments_and_changes_none() -> None:
    assert {tag: DESPATCH_DIRECTORY[tag] for tag in DIRECTORY} == DIRECTORY
    assert sorted(set(DESPATCH_DIRECTORY) - set(DIRECTORY)) == ["CPS", "GIN", "MEA", "PAC", "PCI", "TDT"]
    assert INVOIC.directory is DIRECTORY
