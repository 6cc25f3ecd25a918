"""Reading EDIFACT: Amazon's public ORDERS sample field by field, syntax variants, REMADV, CONTRL, APERAK,
quarantined messages beside good ones, envelope errors and files that are not interchanges at all."""

from __future__ import annotations

import random
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from pipelines.amazon.documents import (
    FileRejected,
    InboundAcknowledgement,
    ParsedFile,
    ProductIdentifier,
    PurchaseOrder,
    PurchaseOrderLine,
    RemittanceLine,
    RemittancePayment,
)
from pipelines.edi.edifact import read_edifact, read_interchange

FIXTURES = Path(__file__).parents[1] / "fixtures" / "amazon"
AMAZON_ORDERS = FIXTURES / "amzeu_orders_d96a_vscode_edi_support.edi"
D = Decimal

UNA = "UNA:+.? '"
UNB = "UNB+UNOA:3+5450534000024:14+5012345000009:14+260315:0930+IC1'"
ORDERS_ID = "ORDERS:D:96A:UN:EAN008"
# Our own ORDERS in Amazon's UK shape: two lines, one by EAN in eaches, one in cases.
ORDERS_BODY = """BGM+220+PO12345A+9'
DTM+137:20260310:102'
DTM+64:20260316:102'
DTM+63:20260320:102'
RFF+CR:CUSTREF1'
NAD+BY+5450534000024::9'
NAD+SU+5012345000009::9'
NAD+DP+5450534005838::9'
CUX+2:GBP:9'
LIN+1++5012345678900:EN'
QTY+21:24:PCE'
PRI+AAA:4.50'
LIN+2++5012345678917:EN'
PIA+5+B0ASIN0002:BP'
QTY+21:2:CS'
PRI+AAA:60'
UNS+S'
CNT+2:2'"""


def message(reference: str, identifier: str, body: str, count: int | None = None, trailer_reference: str = "") -> str:
    """UNH + body + UNT, the UNT counting the segments unless `count` says otherwise."""
    segments = [f"UNH+{reference}+{identifier}'", *body.split("\n")]
    count = len(segments) + 1 if count is None else count
    return "\n".join([*segments, f"UNT+{count}+{trailer_reference or reference}'"])


def interchange(*messages: str, una: str = UNA, unb: str = UNB, count: int | None = None) -> bytes:
    unz = f"UNZ+{len(messages) if count is None else count}+IC1'"
    return "\n".join([part for part in (una, unb) if part] + list(messages) + [unz]).encode("latin-1")


def only_document(parsed: ParsedFile) -> object:
    assert [result.error for result in parsed.sets] == [None]
    return parsed.sets[0].document


# --- Amazon's sample -------------------------------------------------------------------------------------


AMAZON_PO = PurchaseOrder(
    po_number="1AA1TEST",
    po_type="220",
    purpose="9",
    po_date=date(2014, 4, 7),
    currency="EUR",
    ship_to_qualifier="9",
    ship_to_id="5450534000109",
    buyer_id="5450534000024",
    supplier_id="<Supplier GLN>",
    window_start=date(2014, 4, 14),
    window_end=date(2014, 4, 21),
    backorder_allowed=None,
    customer_reference="ABCD5",
    deal_number="1704",
    lines=(
        PurchaseOrderLine(
            line_id="1",
            quantity=D("5"),
            unit_of_measure="",
            unit_size=None,
            unit_price=D("27.5"),
            price_basis="AAA",
            identifiers=(ProductIdentifier("EN", "9783898307529"), ProductIdentifier("SA", "3899408268X-39")),
        ),
        PurchaseOrderLine(
            line_id="2",
            quantity=D("1"),
            unit_of_measure="",
            unit_size=None,
            unit_price=D("10.87"),
            price_basis="AAA",
            identifiers=(ProductIdentifier("UP", "390787706322"),),
        ),
        PurchaseOrderLine(
            line_id="3",
            quantity=D("3"),
            unit_of_measure="",
            unit_size=None,
            unit_price=D("3.85"),
            price_basis="AAA",
            identifiers=(ProductIdentifier("SA", "3899408268X-39"),),
        ),
    ),
    is_test=False,
)


def test_amazon_sample_reads_into_every_field() -> None:
    parsed = read_edifact(AMAZON_ORDERS.read_bytes(), AMAZON_ORDERS.name)

    assert parsed.format == "EDIFACT"
    assert (parsed.sender_id, parsed.receiver_id) == ("<Sender GLN>", "<Receiver GLN>")
    assert parsed.interchange_control_number == "5"
    assert parsed.syntax_version == "UNOA:2 D96A"
    assert parsed.prepared_at == datetime(2014, 4, 7, 9, 10)  # noqa: DTZ001 - UNB has no time zone
    assert parsed.envelope_errors == []
    [result] = parsed.sets
    assert (result.control_number, result.document_type, result.group_control_number) == ("1", "ORDERS", None)
    assert result.document == AMAZON_PO


def test_amazon_sample_without_its_una_reads_with_the_defaults() -> None:
    # The sample's UNA declares "*" in the reserved position, which syntax 2 ignores: the defaults read it the same.
    data = AMAZON_ORDERS.read_bytes().removeprefix(b"UNA:+.?*'\n")
    assert not data.startswith(b"UNA")
    assert only_document(read_edifact(data)) == AMAZON_PO


def test_crlf_between_segments_and_none_at_all_read_the_same() -> None:
    lines = AMAZON_ORDERS.read_bytes().split(b"\n")
    assert only_document(read_edifact(b"\r\n".join(lines) + b"\r\n")) == AMAZON_PO
    assert only_document(read_edifact(b"".join(lines))) == AMAZON_PO


def test_unusual_separators_and_decimal_comma() -> None:
    # component "#", data "|", decimal ",", release "!", terminator "~" and a newline after each segment.
    text = AMAZON_ORDERS.read_text().replace("UNA:+.?*'", "UNA#|,! ~")
    text = text.translate(str.maketrans({":": "#", "+": "|", "'": "~"})).replace("27.5", "27,5")
    text = text.replace("10.87", "10,87").replace("3.85", "3,85")
    assert only_document(read_edifact(text.encode())) == AMAZON_PO


def test_release_characters_in_values() -> None:
    body = ORDERS_BODY.replace("RFF+CR:CUSTREF1'", "RFF+CR:A?+B?:C?'D??E'").replace(
        "NAD+DP+5450534005838::9'", "NAD+DP+5450534005838::9++Smith ?+ Sons?: Kent?'s ??shop'"
    )
    data = interchange(message("1", ORDERS_ID, body))
    order = only_document(read_edifact(data))
    assert isinstance(order, PurchaseOrder)
    assert order.customer_reference == "A+B:C'D?E"
    nad = next(s for s in read_interchange(data).messages[0].message.body if s.get(1) == "DP")
    assert nad.composite(4) == ("Smith + Sons: Kent's ?shop",)


def test_our_orders_shape_with_units_and_a_second_identifier() -> None:
    order = only_document(read_edifact(interchange(message("1", ORDERS_ID, ORDERS_BODY))))
    assert isinstance(order, PurchaseOrder)
    assert (order.po_number, order.currency, order.ship_to_id) == ("PO12345A", "GBP", "5450534005838")
    assert [(line.quantity, line.unit_of_measure, line.unit_price) for line in order.lines] == [
        (D("24"), "PCE", D("4.50")),
        (D("2"), "CS", D("60")),
    ]
    assert order.lines[1].identifiers == (
        ProductIdentifier("EN", "5012345678917"),
        ProductIdentifier("BP", "B0ASIN0002"),
    )


def test_level_b_without_una_uses_the_information_separators() -> None:
    text = message("1", ORDERS_ID, ORDERS_BODY).replace("\n", "")
    text = text.translate(str.maketrans({":": "\x1f", "+": "\x1d", "'": "\x1c"}))
    unb = UNB.replace("UNOA", "UNOB").translate(str.maketrans({":": "\x1f", "+": "\x1d", "'": "\x1c"}))
    data = f"{unb}{text}UNZ\x1d1\x1dIC1\x1c".encode()
    parsed = read_edifact(data)
    assert parsed.syntax_version == "UNOB:3 D96A"
    assert only_document(parsed) == only_document(read_edifact(interchange(message("1", ORDERS_ID, ORDERS_BODY))))


def test_the_same_party_twice_is_fine_two_different_ones_are_not() -> None:
    twice = ORDERS_BODY.replace("NAD+SU+", "NAD+BY+5450534000024::9'\nNAD+SU+")
    assert isinstance(only_document(read_edifact(interchange(message("1", ORDERS_ID, twice)))), PurchaseOrder)
    other = ORDERS_BODY.replace("NAD+SU+", "NAD+BY+5450534000031::9'\nNAD+SU+")
    [result] = read_edifact(interchange(message("1", ORDERS_ID, other))).sets
    assert (result.error, result.position) == (
        "qualifier BY appears twice with different values",
        "segment 8 (NAD), element 1",
    )


def test_test_indicator_marks_the_order_as_a_test() -> None:
    unb = UNB.removesuffix("'") + "++++++1'"
    order = only_document(read_edifact(interchange(message("1", ORDERS_ID, ORDERS_BODY), unb=unb)))
    assert isinstance(order, PurchaseOrder) and order.is_test


# --- messages quarantined on their own ---------------------------------------------------------------------


def test_a_bad_message_between_two_good_ones_is_quarantined_alone() -> None:
    bad = ORDERS_BODY.replace("QTY+21:2:CS'", "QTY+21:2x:CS'")
    data = interchange(
        message("1", ORDERS_ID, ORDERS_BODY), message("2", ORDERS_ID, bad), message("3", ORDERS_ID, ORDERS_BODY)
    )
    parsed = read_edifact(data)

    assert [result.control_number for result in parsed.sets] == ["1", "2", "3"]
    assert isinstance(parsed.sets[0].document, PurchaseOrder)
    assert isinstance(parsed.sets[2].document, PurchaseOrder)
    middle = parsed.sets[1]
    assert middle.document is None
    assert middle.error == "6060 Quantity '2x' is not numeric"
    assert middle.position == "segment 16 (QTY), element 1, component 2"
    assert parsed.envelope_errors == []


@pytest.mark.parametrize(
    ("change", "error", "position"),
    [
        (
            ("BGM+220+PO12345A+9'", "BGM+221+PO12345A+9'"),
            "is not one of the codes we accept here (220)",
            "segment 2 (BGM), element 1, component 1",
        ),
        (
            ("DTM+137:20260310:102'", "DTM+137:20260310:718'"),
            "'718' is not one of the codes",
            "segment 3 (DTM), element 1, component 3",
        ),
        (
            ("DTM+64:20260316:102'", "DTM+64:20260231:102'"),
            "'20260231' is not a format 102 date",
            "segment 4 (DTM), element 1, component 2",
        ),
        (("DTM+137:20260310:102'\n", ""), "the order has no order date (DTM+137)", "segment 2 (BGM)"),
        (
            ("PRI+AAA:4.50'", "PRI+AAA:4,50'"),
            "does not use the declared decimal mark",
            "segment 13 (PRI), element 1, component 2",
        ),
        (("PRI+AAA:4.50'", "PRI+AAA:45:::10'"), "price 45 is per 10 units", "segment 13 (PRI), element 1, component 5"),
        (("QTY+21:24:PCE'", "QTY+12:24:PCE'"), "line 1 has no ordered quantity (QTY+21)", "segment 11 (LIN)"),
        (
            ("LIN+1++5012345678900:EN'", "LIN+1++5012345678900'"),
            "has no type",
            "segment 11 (LIN), element 3, component 2",
        ),
        (("LIN+1++5012345678900:EN'", "LIN+1'"), "line 1 identifies no product", "segment 11 (LIN), element 3"),
        (
            ("CNT+2:2'", "CNT+2:3'"),
            "control total CNT+2 says 3 lines, the order has 2",
            "segment 19 (CNT), element 1, component 2",
        ),
        (("UNS+S'", "UNS+D'"), "'D' is not one of the codes", "segment 18 (UNS), element 1"),
        (
            ("CUX+2:GBP:9'", "CUX+2:GBP:9'\nFOO+1'"),
            "segment 'FOO' is not in our ORDERS:D:96A:UN definition",
            "segment 11 (FOO)",
        ),
        (
            ("CUX+2:GBP:9'", "CUX+2:GBP:9'\nBGM+220+X+9'"),
            "segment BGM is out of place (expected UNS)",
            "segment 11 (BGM)",
        ),
        (("UNS+S'\n", ""), "mandatory segment UNS is missing (found CNT)", "segment 18 (CNT)"),
        (
            ("RFF+CR:CUSTREF1'", "RFF+CR:CUSTREF1+X'"),
            "RFF has 2 data elements; it has only 1",
            "segment 6 (RFF), element 2",
        ),
        (
            ("NAD+BY+5450534000024::9'", "NAD+BY+" + "1" * 36 + "::9'"),
            "is longer than 35",
            "segment 7 (NAD), element 2, component 1",
        ),
        (
            ("BGM+220+PO12345A+9'", "BGM+220++9'"),
            "mandatory 1004 Document/message number is missing",
            "segment 2 (BGM), element 2",
        ),
    ],
)
def test_order_problems_are_quarantined_at_their_position(change: tuple[str, str], error: str, position: str) -> None:
    body = ORDERS_BODY.replace(*change)
    assert body != ORDERS_BODY
    [result] = read_edifact(interchange(message("1", ORDERS_ID, body))).sets
    assert result.document is None
    assert error in result.error
    assert result.position == position


def test_unt_count_mismatch_is_an_envelope_error_and_quarantines_the_message() -> None:
    data = interchange(message("1", ORDERS_ID, ORDERS_BODY, count=19), message("2", ORDERS_ID, ORDERS_BODY))
    parsed = read_edifact(data)
    assert parsed.envelope_errors == [
        "UNT segment count 19 but message 1 has 20 segments (message 1: segment 20 (UNT), element 1)"
    ]
    assert (parsed.sets[0].error, parsed.sets[0].position) == (
        "UNT segment count 19 but message 1 has 20 segments",
        "segment 20 (UNT), element 1",
    )
    assert isinstance(parsed.sets[1].document, PurchaseOrder)


def test_unt_reference_mismatch() -> None:
    parsed = read_edifact(interchange(message("1", ORDERS_ID, ORDERS_BODY, trailer_reference="9")))
    assert parsed.envelope_errors == [
        "UNT message reference '9' is not the UNH's '1' (message 1: segment 20 (UNT), element 2)"
    ]
    assert parsed.sets[0].document is None


def test_message_without_unt_is_quarantined() -> None:
    cut = message("1", ORDERS_ID, ORDERS_BODY).rsplit("\n", 1)[0]
    parsed = read_edifact(interchange(cut, message("2", ORDERS_ID, ORDERS_BODY)))
    assert parsed.sets[0].error == "message 1 has no UNT: it ends at segment 19"
    assert parsed.sets[0].position == "segment 19 (CNT)"
    assert isinstance(parsed.sets[1].document, PurchaseOrder)
    assert parsed.envelope_errors == ["message 1 has no UNT: it ends at segment 19 (message 1: segment 19 (CNT))"]


def test_unz_mismatches_are_envelope_errors_but_keep_the_documents() -> None:
    parsed = read_edifact(interchange(message("1", ORDERS_ID, ORDERS_BODY), count=2))
    assert parsed.envelope_errors == [
        "UNZ control count 2 but the interchange holds 1 messages (interchange: segment 22 (UNZ), element 1)"
    ]
    assert isinstance(parsed.sets[0].document, PurchaseOrder)
    wrong_reference = interchange(message("1", ORDERS_ID, ORDERS_BODY)).replace(b"UNZ+1+IC1", b"UNZ+1+IC2")
    assert read_edifact(wrong_reference).envelope_errors == [
        "UNZ reference 'IC2' is not the UNB's 'IC1' (interchange: segment 22 (UNZ), element 2)"
    ]


def test_functional_groups() -> None:
    group = "\n".join(
        [
            "UNG+ORDERS+5450534000024:14+5012345000009:14+260315:0930+G7+UN+D:96A'",
            message("1", ORDERS_ID, ORDERS_BODY),
            message("2", ORDERS_ID, ORDERS_BODY),
            "UNE+2+G7'",
        ]
    )
    parsed = read_edifact(interchange(group, count=1))
    assert parsed.envelope_errors == []
    assert [(result.group_control_number, result.error) for result in parsed.sets] == [("G7", None), ("G7", None)]
    wrong = read_edifact(interchange(group.replace("UNE+2+G7", "UNE+3+G7"), count=1))
    assert wrong.envelope_errors == [
        "UNE message count 3 but group G7 holds 2 (interchange: segment 43 (UNE), element 1)"
    ]


def test_a_message_type_we_do_not_read_is_quarantined() -> None:
    [result] = read_edifact(interchange(message("1", "INVOIC:D:96A:UN:EAN008", "BGM+380+INV1+9'"))).sets
    assert (result.document_type, result.document) == ("INVOIC", None)
    assert result.error.startswith("message INVOIC:D:96A:UN is not one we read")
    assert result.position == "segment 1 (UNH), element 2"
    [result] = read_edifact(interchange(message("1", "ORDERS:D:01B:UN:EAN010", ORDERS_BODY))).sets
    assert result.error.startswith("message ORDERS:D:01B:UN is not one we read")


def test_syntax_version_4_repetition_separator() -> None:
    unb = "UNB+UNOC:4+5450534000024:14+5012345000009:14+20260315:0930+IC1'"
    good = interchange(message("1", ORDERS_ID, ORDERS_BODY), una="UNA:+.?*'", unb=unb)
    assert isinstance(only_document(read_edifact(good)), PurchaseOrder)
    repeated = ORDERS_BODY.replace("RFF+CR:CUSTREF1'", "RFF+CR:CUSTREF1*CR:OTHER'")
    [result] = read_edifact(interchange(message("1", ORDERS_ID, repeated), una="UNA:+.?*'", unb=unb)).sets
    assert (result.error, result.position) == (
        "RFF repeats data element 1, which D.96A does not allow",
        "segment 6 (RFF), element 1",
    )
    released = ORDERS_BODY.replace("RFF+CR:CUSTREF1'", "RFF+CR:CUST?*REF1'")
    order = only_document(read_edifact(interchange(message("1", ORDERS_ID, released), una="UNA:+.?*'", unb=unb)))
    assert isinstance(order, PurchaseOrder) and order.customer_reference == "CUST*REF1"


# --- character sets -----------------------------------------------------------------------------------------


def test_latin1_names_under_unoc_and_utf8_under_unoy() -> None:
    body = ORDERS_BODY.replace("RFF+CR:CUSTREF1'", "RFF+CR:Crème brûlée'")
    unoc = interchange(message("1", ORDERS_ID, body), unb=UNB.replace("UNOA:3", "UNOC:3"))
    assert only_document(read_edifact(unoc)).customer_reference == "Crème brûlée"
    unoy = "\n".join([UNA, UNB.replace("UNOA:3", "UNOY:3"), message("1", ORDERS_ID, body), "UNZ+1+IC1'"])
    assert only_document(read_edifact(unoy.encode("utf-8"))).customer_reference == "Crème brûlée"


# --- files that are not one readable interchange -----------------------------------------------------------


def _sample() -> bytes:
    return AMAZON_ORDERS.read_bytes()


@pytest.mark.parametrize(
    ("data", "reason", "position"),
    [
        (b"", "the file is empty", "byte 0"),
        (b"  \r\n", "the file is empty", "byte 0"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not an EDIFACT interchange", "byte 0"),
        (b"ISA*00*          *00*", "not an EDIFACT interchange", "byte 0"),
        (b"UNA:+", "the file ends inside the UNA service string advice", "UNA"),
        (b"UNA:+.? 'UNH+1+ORDERS:D:96A:UN'", "not an EDIFACT interchange", "byte 9"),
        (b"UNAa+.? 'UNB+UNOA:2'", "unusable service string advice", "UNA"),
        (
            b"UNB+XXXX:2+A+B+260315:0930+1'UNZ+0+1'",
            "syntax identifier XXXX is not one we read",
            "segment 1 (UNB), element 1, component 1",
        ),
        (b"UNB+UNOA+A+B'", "UNB does not start with a syntax identifier", "segment 1 (UNB), element 1"),
        (_sample()[:200], "the file ends inside a segment", "segment 6 of the interchange"),
        (_sample().rsplit(b"UNZ", 1)[0], "the interchange has no UNZ trailer", "after segment 29 of the interchange"),
        (
            _sample().replace(b"Beijing", b"P\xe9kin"),
            "byte 0xE9 is not valid ascii text, which UNOA declares",
            f"segment 13 (NAD) of the interchange, byte {_sample().index(b'Beijing') + 1}",
        ),
        (
            _sample().replace(b"Beijing", b"Bei\x00jing"),
            "control character 0x00",
            f"segment 13 (NAD) of the interchange, byte {_sample().index(b'Beijing') + 3}",
        ),
        (
            _sample().replace(b"UNOA:2", b"UNOY:2").replace(b"Beijing", b"\xff"),
            "not valid utf-8 text",
            f"segment 13 (NAD) of the interchange, byte {_sample().index(b'Beijing')}",
        ),
        (
            _sample().replace(b"UNB+UNOA:2+<Sender GLN>:14", b"UNB+UNOA:2+:14"),
            "UNB: mandatory 0004 Sender identification is missing",
            "segment 1 (UNB), element 2, component 1",
        ),
        (
            _sample() + b"UNB+UNOA:2+A+B+260315:0930+6'UNZ+0+6'",
            "segments follow the UNZ",
            "segment 31 (UNB) of the interchange",
        ),
    ],
)
def test_files_that_are_not_one_readable_interchange_are_rejected(data: bytes, reason: str, position: str) -> None:
    with pytest.raises(FileRejected) as rejected:
        read_edifact(data, "garbage.edi")
    assert reason in rejected.value.reason
    assert position in rejected.value.position


def test_no_input_raises_anything_but_file_rejected() -> None:
    """Cut and corrupt Amazon's sample every which way: a ParsedFile or FileRejected, never another exception."""
    sample = _sample()
    rng = random.Random(20260315)
    variants = [sample[:cut] for cut in range(len(sample))]
    for _ in range(1500):
        corrupt = bytearray(sample)
        for _ in range(rng.randint(1, 4)):
            corrupt[rng.randrange(len(corrupt))] = rng.choice(b"+:'?*\r\n\x00A9.-\xe9 ")
        variants.append(bytes(corrupt))
    variants += [bytes(rng.randrange(256) for _ in range(rng.randint(1, 300))) for _ in range(300)]
    outcomes = {"parsed": 0, "rejected": 0}
    for data in variants:
        try:
            parsed = read_edifact(data)
        except FileRejected as rejected:
            assert rejected.reason and rejected.position
            outcomes["rejected"] += 1
            continue
        for result in parsed.sets:
            assert (result.document is None) == (result.error is not None)
        outcomes["parsed"] += 1
    assert outcomes["parsed"] > 100 and outcomes["rejected"] > 100


# --- REMADV ---------------------------------------------------------------------------------------------------

REMADV_ID = "REMADV:D:96A:UN:EAN002"
REMADV_BODY = """BGM+481+RA20260315+9'
DTM+137:20260315:102'
RFF+PQ:PAY-778812'
NAD+PR+5450534000024::9'
NAD+PE+5012345000009::9'
CUX+2:GBP:11'
DOC+380+INV-1001'
MOA+9:1200.00:GBP'
MOA+52:24.00'
MOA+12:1176.00'
DTM+137:20260110:102'
RFF+ON:PO12345A'
DOC+380+INV-1002'
MOA+9:300.00:GBP'
MOA+12:300.00'
DTM+137:20260112:102'
DOC+383:::Quantity shortage+INV-1001SC'
MOA+9:-36.00'
MOA+12:-36.00'
RFF+IV:INV-1001'
DOC+383+123456VCBSINV'
MOA+9:-50.00'
MOA+12:-50.00'
AJT+1'
FTX+AAI+++ASN accuracy chargeback'
UNS+S'
MOA+12:1390.00'"""


def test_remittance_with_invoices_and_negative_deductions() -> None:
    payment = only_document(read_edifact(interchange(message("1", REMADV_ID, REMADV_BODY))))
    assert payment == RemittancePayment(
        payment_number="PAY-778812",
        payment_date=date(2026, 3, 15),
        currency="GBP",
        amount=D("1390.00"),
        payer_id="5450534000024",
        payee_id="5012345000009",
        lines=(
            RemittanceLine(
                invoice_number="INV-1001",
                invoice_date=date(2026, 1, 10),
                description=None,
                gross_amount=D("1200.00"),
                discount_amount=D("24.00"),
                paid_amount=D("1176.00"),
                remaining_amount=None,
                currency="GBP",
                po_number="PO12345A",
                transaction_type="380",
            ),
            RemittanceLine(
                "INV-1002", date(2026, 1, 12), None, D("300.00"), D(0), D("300.00"), None, "GBP", None, "380"
            ),
            RemittanceLine(
                "INV-1001SC",
                None,
                "Quantity shortage",
                D("-36.00"),
                D(0),
                D("-36.00"),
                None,
                "GBP",
                None,
                "383",
                original_invoice_number="INV-1001",
            ),
            RemittanceLine(
                "123456VCBSINV",
                None,
                "ASN accuracy chargeback",
                D("-50.00"),
                D(0),
                D("-50.00"),
                None,
                "GBP",
                None,
                "383",
            ),
        ),
    )


@pytest.mark.parametrize(
    ("change", "error", "position"),
    [
        (
            ("MOA+12:1390.00'", "MOA+12:1391.00'"),
            "amount remitted 1391.00 is not the documents' total 1390.00",
            "segment 28 (MOA), element 1, component 2",
        ),
        (("MOA+9:300.00:GBP'\n", ""), "document INV-1002 has no amount due (MOA+9)", "segment 14 (DOC)"),
        (
            ("BGM+481+", "BGM+380+"),
            "'380' is not one of the codes we accept here (481)",
            "segment 2 (BGM), element 1, component 1",
        ),
        (
            ("DOC+380+INV-1002'", "DOC+380'"),
            "mandatory C503 Document/message details is missing",
            "segment 14 (DOC), element 2",
        ),
        (("UNS+S'\nMOA+12:1390.00'", "UNS+S'"), "mandatory segment MOA is missing (found UNT)", "segment 28 (UNT)"),
    ],
)
def test_remittance_problems(change: tuple[str, str], error: str, position: str) -> None:
    body = REMADV_BODY.replace(*change)
    assert body != REMADV_BODY
    [result] = read_edifact(interchange(message("1", REMADV_ID, body))).sets
    assert result.document is None
    assert error in result.error
    assert result.position == position


# --- CONTRL and APERAK from Amazon ----------------------------------------------------------------------------


def test_contrl_accepting_our_interchange() -> None:
    body = "UCI+000000042+5450534000024:14+5012345000009:14+7'\nUCM+1+DESADV:D:96A:UN:EAN005+7'"
    ack = only_document(read_edifact(interchange(message("C1", "CONTRL:D:3:UN", body))))
    assert ack == InboundAcknowledgement("CONTRL", "000000042", "DESADV", "accepted")


def test_contrl_rejecting_a_message_with_positions() -> None:
    body = "\n".join(
        [
            "UCI+000000042+5450534000024:14+5012345000009:14+7'",
            "UCM+1+DESADV:D:96A:UN:EAN005+7'",
            "UCM+2+DESADV:D:96A:UN:EAN005+4'",
            "UCS+12'",
            "UCD+13+3:1'",
            "UCS+15+35'",
        ]
    )
    ack = only_document(read_edifact(interchange(message("C1", "CONTRL:2:2:UN:EAN002", body))))
    assert ack == InboundAcknowledgement(
        kind="CONTRL",
        acknowledged_control_number="000000042",
        acknowledged_document_type="DESADV",
        status="accepted_with_errors",
        errors=(
            "message 2 (DESADV): rejected",
            "message 2 (DESADV): segment 12, element 2, component 1: error 13 (missing)",
            "message 2 (DESADV): segment 15: error 35 (too many repetitions)",
        ),
    )


def test_contrl_rejecting_the_whole_interchange() -> None:
    body = "UCI+000000042+5450534000024:14+5012345000009:14+4+29+UNZ+2'"
    ack = only_document(read_edifact(interchange(message("C1", "CONTRL:D:3:UN", body))))
    assert ack == InboundAcknowledgement(
        "CONTRL",
        "000000042",
        None,
        "rejected",
        (
            "interchange 000000042: error 29 (control count does not match number of instances received)"
            " in UNZ, element 1",
        ),
    )


def test_contrl_with_a_bad_action_code_is_quarantined() -> None:
    body = "UCI+000000042+5450534000024:14+5012345000009:14+9'"
    [result] = read_edifact(interchange(message("C1", "CONTRL:D:3:UN", body))).sets
    assert result.document is None and result.position == "segment 2 (UCI), element 4"


def test_aperak_rejecting_our_despatch_advice() -> None:
    body = "\n".join(
        [
            "BGM+305+APK0001+9+RE'",
            "DTM+137:20260315:102'",
            "DOC+351+DES-000123'",
            "RFF+ACW:17'",
            "ERC+Z01'",
            "FTX+AAO+++SSCC 003123456789012340 already used'",
            "RFF+LI:2'",
            "ERC+Z02'",
        ]
    )
    ack = only_document(read_edifact(interchange(message("A1", "APERAK:D:96A:UN:EAN002", body))))
    assert ack == InboundAcknowledgement(
        kind="APERAK",
        acknowledged_control_number="17",
        acknowledged_document_type="DESADV",
        status="rejected",
        errors=("error Z01: SSCC 003123456789012340 already used (reference LI 2)", "error Z02"),
    )


def test_aperak_accepting_by_document_number() -> None:
    body = "BGM+305+APK0002+9+AP'\nDOC+380+INV-1001'"
    ack = only_document(read_edifact(interchange(message("A2", "APERAK:D:96A:UN", body))))
    assert ack == InboundAcknowledgement("APERAK", "INV-1001", "INVOIC", "accepted")
