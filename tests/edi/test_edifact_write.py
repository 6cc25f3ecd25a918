"""Writing EDIFACT: escaping, validation before anything is returned, and the CONTRL we send for every
interchange Amazon sends (golden files, byte for byte, read back with our own CONTRL definition)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipelines.amazon.documents import InboundAcknowledgement
from pipelines.edi.edifact import (
    Envelope,
    InvalidDocument,
    OutboundMessage,
    contrl_acks,
    read_edifact,
    read_interchange,
    write_interchange,
)
from pipelines.edi.edifact.d96a import APERAK, ORDERS
from pipelines.edi.edifact.service import CONTRL_D3
from pipelines.edi.edifact.syntax import ServiceChars
from pipelines.edi.outbox import Outbox

GOLDEN = Path(__file__).parent / "golden" / "edifact"
AMAZON_ORDERS = Path(__file__).parents[1] / "fixtures" / "amazon" / "amzeu_orders_d96a_vscode_edi_support.edi"
NOW = datetime(2026, 3, 15, 9, 30, 5, tzinfo=UTC)
US = "5012345000009"
AMAZON = "5450534000024"
ENVELOPE = Envelope("UNOC", "3", (US, "14"), (AMAZON, "14"), NOW, "77")

ORDERS_BODY = """BGM+220+PO12345A+9'
DTM+137:20260310:102'
NAD+BY+5450534000024::9'
LIN+1++5012345678900:EN'
QTY+21:24:PCE'
PRI+AAA:4.50'
UNS+S'
CNT+2:1'"""


def _orders(*references: str, bad: str = "", unz_count: int | None = None) -> bytes:
    """An interchange from Amazon with one ORDERS per reference; the one named `bad` has a non-numeric QTY."""
    parts = ["UNA:+.? '", f"UNB+UNOA:3+{AMAZON}:14+{US}:14+260315:0900+AMZ0001++++1'"]
    for reference in references:
        body = ORDERS_BODY.replace("QTY+21:24", "QTY+21:2x4") if reference == bad else ORDERS_BODY
        segments = [f"UNH+{reference}+ORDERS:D:96A:UN:EAN008'", *body.split("\n")]
        parts += [*segments, f"UNT+{len(segments) + 1}+{reference}'"]
    parts.append(f"UNZ+{len(references) if unz_count is None else unz_count}+AMZ0001'")
    return "\n".join(parts).encode()


def _outbox(tmp_path: Path) -> Outbox:
    return Outbox(tmp_path / "outbox", clock=lambda: NOW)


# --- the writer ----------------------------------------------------------------------------------------------


def test_values_are_escaped_with_the_release_character_and_read_back() -> None:
    body = [("BGM", [("305",), "A+B:C'D?E", "9"]), ("ERC", [("Z01",)]), ("FTX", ["AAO", None, None, ["50% off? no"]])]
    data = write_interchange(ENVELOPE, [OutboundMessage("1", APERAK, body)])
    assert b"BGM+305+A?+B?:C?'D??E+9'" in data
    assert b"FTX+AAO+++50% off?? no'" in data
    [result] = read_interchange(data).messages
    assert result.message.body[0].get(2) == "A+B:C'D?E"


def test_trailing_empty_elements_and_components_are_left_out() -> None:
    body = [("BGM", [("305", "", "", ""), "APK1", None, None]), ("RFF", [("ACW", "17", "", "")]), ("ERC", ["Z01"])]
    data = write_interchange(ENVELOPE, [OutboundMessage("1", APERAK, body)])
    assert data == (
        b"UNA:+.? 'UNB+UNOC:3+5012345000009:14+5450534000024:14+260315:0930+77'UNH+1+APERAK:D:96A:UN'"
        b"BGM+305+APK1'RFF+ACW:17'ERC+Z01'UNT+5+1'UNZ+1+77'"
    )


def test_chosen_separators_and_syntax_4_repetition_separator_are_escaped() -> None:
    chars = ServiceChars.from_una("#|,!*~")
    envelope = Envelope("UNOC", "4", (US, "14"), (AMAZON, "14"), NOW, "77")
    body = [("BGM", [("305",), "A|B#C~D!E*F", "9"]), ("ERC", ["Z01"])]
    data = write_interchange(envelope, [OutboundMessage("1", APERAK, body)], chars)
    assert data.startswith(b"UNA#|,!*~UNB|UNOC#4|5012345000009#14|5450534000024#14|20260315#0930|77~")
    assert b"BGM|305|A!|B!#C!~D!!E!*F|9~" in data
    assert read_interchange(data).messages[0].message.body[0].get(2) == "A|B#C~D!E*F"


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ([("BGM", ["221", "PO1", "9"])], "ORDERS:D:96A:UN 1: 1001 Document/message name, coded '221' is not one of"),
        (
            [("BGM", ["220", "PO1", "9"]), ("DTM", [("137", "20260315", "102")]), ("QTY", [("21", "1")])],
            "ORDERS:D:96A:UN 1: segment QTY is out of place (expected UNS) at segment 4 (QTY)",
        ),
        ([("BGM", ["220", "PO1", "9"])], "mandatory segment DTM is missing (found UNT) at segment 3 (UNT)"),
        ([("BGM", ["220", "PO1\nX", "9"])], "holds a line break or control character"),
    ],
)
def test_an_invalid_message_is_never_written(body: list, error: str) -> None:
    with pytest.raises(InvalidDocument) as raised:
        write_interchange(ENVELOPE, [OutboundMessage("1", ORDERS, body)])
    assert error in str(raised.value)


def test_characters_outside_the_declared_character_set_are_refused() -> None:
    body = [("BGM", ["305", "Crème", "9"]), ("ERC", ["Z01"])]
    assert "Crème".encode("latin-1") in write_interchange(ENVELOPE, [OutboundMessage("1", APERAK, body)])
    unoa = Envelope("UNOA", "3", (US, "14"), (AMAZON, "14"), NOW, "77")
    with pytest.raises(InvalidDocument, match="'è' cannot be written under UNOA"):
        write_interchange(unoa, [OutboundMessage("1", APERAK, body)])


def test_an_invalid_envelope_is_never_written() -> None:
    too_long = Envelope("UNOC", "3", (US, "14"), (AMAZON, "14"), NOW, "123456789012345")
    with pytest.raises(InvalidDocument, match="0020 Interchange control reference '123456789012345' is longer than 14"):
        write_interchange(too_long, [OutboundMessage("1", CONTRL_D3, [("UCI", ["1", [AMAZON], [US], "7"])])])


# --- CONTRL ----------------------------------------------------------------------------------------------------


def test_contrl_accepting_amazons_sample_matches_the_golden_file(tmp_path: Path) -> None:
    data = AMAZON_ORDERS.read_bytes()
    outbox = _outbox(tmp_path)
    [document] = contrl_acks(data, read_edifact(data), outbox, "<Receiver GLN>", inbound_name="amazon-orders.edi")

    assert document.path.read_bytes() == (GOLDEN / "contrl_accepted.edi").read_bytes()
    assert (document.document_type, document.standard, document.partner) == ("CONTRL", "EDIFACT", "<Sender GLN>")
    assert (document.control_numbers, document.related_inbound) == ({"UNB": "1", "UNH": "1"}, "amazon-orders.edi")
    contrl = read_edifact(document.path.read_bytes())
    assert (contrl.syntax_version, contrl.sender_id, contrl.receiver_id) == (
        "UNOA:2 2:2",
        "<Receiver GLN>",
        "<Sender GLN>",
    )
    [result] = contrl.sets
    assert result.document == InboundAcknowledgement("CONTRL", "5", "ORDERS", "accepted")


def test_contrl_rejecting_one_message_of_three_matches_the_golden_file(tmp_path: Path) -> None:
    data = _orders("1", "2", "3", bad="2")
    outbox = _outbox(tmp_path)
    [document] = contrl_acks(data, read_edifact(data), outbox, US, inbound_name="orders-3.edi")

    assert document.path.read_bytes() == (GOLDEN / "contrl_one_rejected.edi").read_bytes()
    [result] = read_edifact(document.path.read_bytes()).sets
    assert result.document == InboundAcknowledgement(
        kind="CONTRL",
        acknowledged_control_number="AMZ0001",
        acknowledged_document_type="ORDERS",
        status="accepted_with_errors",
        errors=(
            "message 2 (ORDERS): rejected",
            "message 2 (ORDERS): segment 6, element 1, component 2: error 37 (invalid type of character(s))",
        ),
    )


def test_contrl_control_numbers_come_from_the_outbox_series(tmp_path: Path) -> None:
    data = _orders("1")
    outbox = _outbox(tmp_path)
    outbox.control_numbers.next("edifact:UNH")  # another partner's CONTRL took UNH 1
    first = contrl_acks(data, read_edifact(data), outbox, US)[0]
    second = contrl_acks(data, read_edifact(data), outbox, US)[0]
    assert [first.control_numbers, second.control_numbers] == [{"UNB": "1", "UNH": "2"}, {"UNB": "2", "UNH": "3"}]
    assert first.related_inbound == f"EDIFACT interchange AMZ0001 from {AMAZON}"
    assert (
        b"UNB+UNOA:3+5012345000009:14+5450534000024:14+260315:0930+2'UNH+3+CONTRL:D:3:UN'" in second.path.read_bytes()
    )


def test_contrl_to_a_test_interchange_is_a_test_too(tmp_path: Path) -> None:
    data = _orders("1").replace(b"AMZ0001++++1'", b"AMZ0001++++1++1'")
    [document] = contrl_acks(data, read_edifact(data), _outbox(tmp_path), US)
    assert b"UNB+UNOA:3+5012345000009:14+5450534000024:14+260315:0930+1++++++1'" in document.path.read_bytes()


def test_contrl_reports_unt_and_unz_mismatches(tmp_path: Path) -> None:
    data = _orders("1", "2", unz_count=3).replace(b"UNT+10+2'", b"UNT+9+2'")
    [document] = contrl_acks(data, read_edifact(data), _outbox(tmp_path), US)
    content = document.path.read_bytes()
    assert b"UCI+AMZ0001+5450534000024:14+5012345000009:14+6+29+UNZ+2'" in content
    assert b"UCM+1+ORDERS:D:96A:UN:EAN008+7'UCM+2+ORDERS:D:96A:UN:EAN008+4+29+UNT+2'" in content


def test_contrl_for_a_message_cut_short(tmp_path: Path) -> None:
    data = _orders("1", "2").replace(b"UNT+10+1'\n", b"")
    [document] = contrl_acks(data, read_edifact(data), _outbox(tmp_path), US)
    assert b"UCM+1+ORDERS:D:96A:UN:EAN008+4+13+UNT'" in document.path.read_bytes()


def test_no_contrl_for_an_interchange_of_contrls(tmp_path: Path) -> None:
    outbox = _outbox(tmp_path)
    [ours] = contrl_acks(_orders("1"), read_edifact(_orders("1")), outbox, US)
    theirs = ours.path.read_bytes()
    assert contrl_acks(theirs, read_edifact(theirs), outbox, AMAZON) == []


def test_contrl_refuses_a_parsed_file_from_other_bytes(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="was not read from these bytes"):
        contrl_acks(_orders("1"), read_edifact(AMAZON_ORDERS.read_bytes()), _outbox(tmp_path), US)
