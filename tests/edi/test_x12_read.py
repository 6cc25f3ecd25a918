"""read_x12: Amazon's public samples and hand-written interchanges → ParsedFile, every field checked."""

from __future__ import annotations

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
    SetResult,
)
from pipelines.edi.x12 import read_x12

SAMPLES = Path(__file__).parents[1] / "fixtures" / "amazon"
D = Decimal


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def x12(
    *segments: str,
    element: str = "*",
    component: str = ">",
    terminator: str = "~",
    layout: str = "\n",
    isa12: str = "00401",
    usage: str = "P",
    repetition: str = "U",
) -> bytes:
    """An interchange from AMAZON to VENDOR around `segments` (GS … GE, written with * and >), in the
    separators given, each terminator followed by `layout`."""
    isa = ["ISA", "00", " " * 10, "00", " " * 10, "ZZ", "AMAZON".ljust(15), "ZZ", "VENDOR".ljust(15), "240301", "1200"]
    isa += [repetition, isa12, "000000001", "0", usage, component]
    groups = sum(1 for segment in segments if segment.startswith("GS*"))
    body = [segment.replace("*", element).replace(">", component) for segment in (*segments, f"IEA*{groups}*000000001")]
    return (element.join(isa) + terminator + layout + "".join(s + terminator + layout for s in body)).encode()


def st(set_id: str, control: str, *body: str) -> list[str]:
    """A transaction set with a correct SE."""
    return [f"ST*{set_id}*{control}", *body, f"SE*{len(body) + 2}*{control}"]


def gs(functional_id: str, control: int, version: str, *sets: list[str]) -> list[str]:
    """A functional group with a correct GE."""
    segments = [f"GS*{functional_id}*AMAZON*VENDOR*20240301*1200*{control}*X*{version}"]
    for transaction_set in sets:
        segments += transaction_set
    return [*segments, f"GE*{len(sets)}*{control}"]


def only_document(parsed: ParsedFile) -> object:
    assert len(parsed.sets) == 1, parsed.sets
    assert parsed.sets[0].error is None, parsed.sets[0]
    return parsed.sets[0].document


# --- Amazon's public samples ----------------------------------------------------------------------------


def test_amazon_850_with_isa12_00305_around_a_004010_group() -> None:
    parsed = read_x12(sample("amz850_predi_1PCPDX1U.edi"), "amz850_predi_1PCPDX1U.edi")
    assert parsed == ParsedFile(
        format="X12",
        sender_id="AMAZON",
        receiver_id="8009225524",
        interchange_control_number="000069737",
        syntax_version="00305",
        sets=[
            SetResult(
                control_number="0001",
                document_type="850",
                document=PurchaseOrder(
                    po_number="1PCPDX1U",
                    po_type="NE",
                    purpose="00",
                    po_date=date(2022, 1, 31),
                    currency=None,
                    ship_to_qualifier="15",
                    ship_to_id="8018154",
                    buyer_id=None,
                    supplier_id=None,
                    window_start=date(2022, 1, 31),
                    window_end=date(2022, 2, 4),
                    backorder_allowed=True,
                    customer_reference="HOUBX",
                    deal_number=None,
                    lines=(
                        PurchaseOrderLine(
                            line_id="1",
                            quantity=D("72"),
                            unit_of_measure="EA",
                            unit_size=None,
                            unit_price=D("24.53"),
                            price_basis="PE",
                            identifiers=(ProductIdentifier("UP", "040071156251"),),
                        ),
                    ),
                    is_test=False,
                ),
                group_control_number="69737",
            )
        ],
        envelope_errors=[],
        prepared_at=datetime(2022, 1, 31, 13, 40),  # noqa: DTZ001 - X12 gives no time zone
    )


def test_amazon_guide_850_with_crlf_after_every_terminator_is_a_test_order() -> None:
    parsed = read_x12(sample("amz850_predi_guide_L8266355.edi"))
    assert (parsed.sender_id, parsed.receiver_id, parsed.interchange_control_number, parsed.syntax_version) == (
        "AMAZON",
        "VENDOR",
        "000012911",
        "00401",
    )
    assert parsed.envelope_errors == []
    assert parsed.sets[0].group_control_number == "12911"
    assert only_document(parsed) == PurchaseOrder(
        po_number="L8266355",
        po_type="NE",
        purpose="00",
        po_date=date(2008, 9, 1),
        currency=None,
        ship_to_qualifier="15",
        ship_to_id="1794205",
        buyer_id=None,
        supplier_id=None,
        window_start=date(2008, 9, 3),
        window_end=date(2008, 9, 9),
        backorder_allowed=False,
        customer_reference="AMZN_VENDORCODE",
        deal_number=None,
        lines=(
            PurchaseOrderLine(
                line_id="1",
                quantity=D("8"),
                unit_of_measure="EA",
                unit_size=None,
                unit_price=D("39"),
                price_basis="PE",
                identifiers=(ProductIdentifier("UP", "028877454078"),),
            ),
        ),
        is_test=True,
    )


def test_direct_fulfillment_810_is_unsupported_and_its_miscounted_trailers_are_reported() -> None:
    # An 810 is what we send, never what we read: the map exists (for our own invoices), a translation does not.
    parsed = read_x12(sample("amzdf810_stedi_starterkit_spec.edi"))
    assert parsed.sets == [
        SetResult(
            control_number="000000001",
            document_type="810",
            document=None,
            error="unsupported document type 810 in a GS08 004010 group: we have no translation for it",
            position="segment 3 (ST), element 1",
            group_control_number="95",
        )
    ]
    assert parsed.envelope_errors == [
        "segment 15 (SE): SE01 says 12 segments, the set has 13",
        "segment 16 (GE): GE02 '88' does not match GS06 '95' (segment 2 (GS))",
    ]


# --- hand-written interchanges --------------------------------------------------------------------------

PO_5010 = gs(
    "PO",
    7,
    "005010",
    st(
        "850",
        "0001",
        "BEG*00*NE*2XQ7ABCD**20240301",
        "CUR*BY*USD",
        "REF*CR*VENDORX",
        "REF*PD*DEAL42",
        "CSH*Y",
        "DTM*064*20240305",
        "DTM*063*20240312",
        "N1*BY**92*AMZNBY",
        "N1*SU**92*VENDOR1",
        "N1*ST**92*LTN1",
        "N3*1 Dunstable Road",
        "REF*ZZ*NOT-THE-CUSTOMER-REFERENCE",
        "PO1*1*3*CA*12.50*PE*EN*5012345678900*VN*WIDGET-1*BP*B00ASIN123",
        "PID*F****Widget, blue",
        "PO4*12",
        "PO1*2*24*EA*4.25*PE*UP*012345678905*IB*9781234567897",
        "CTT*2*27",
    ),
)
EXPECTED_PO_5010 = PurchaseOrder(
    po_number="2XQ7ABCD",
    po_type="NE",
    purpose="00",
    po_date=date(2024, 3, 1),
    currency="USD",
    ship_to_qualifier="92",
    ship_to_id="LTN1",
    buyer_id="AMZNBY",
    supplier_id="VENDOR1",
    window_start=date(2024, 3, 5),
    window_end=date(2024, 3, 12),
    backorder_allowed=True,
    customer_reference="VENDORX",
    deal_number="DEAL42",
    lines=(
        PurchaseOrderLine(
            line_id="1",
            quantity=D("3"),
            unit_of_measure="CA",
            unit_size=D("12"),
            unit_price=D("12.50"),
            price_basis="PE",
            identifiers=(
                ProductIdentifier("EN", "5012345678900"),
                ProductIdentifier("VN", "WIDGET-1"),
                ProductIdentifier("BP", "B00ASIN123"),
            ),
        ),
        PurchaseOrderLine(
            line_id="2",
            quantity=D("24"),
            unit_of_measure="EA",
            unit_size=None,
            unit_price=D("4.25"),
            price_basis="PE",
            identifiers=(ProductIdentifier("UP", "012345678905"), ProductIdentifier("IB", "9781234567897")),
        ),
    ),
)


@pytest.mark.parametrize(
    ("separators", "layout"),
    [
        pytest.param({"element": "|", "component": "^", "terminator": "!", "repetition": "{"}, "", id="pipe-bang"),
        pytest.param({"element": "|", "component": "^", "terminator": "\n", "repetition": "{"}, "", id="newline"),
        pytest.param({}, "\r\n", id="crlf"),
        pytest.param({}, "", id="one-line"),
    ],
)
def test_850_in_005010_with_any_separators(separators: dict[str, str], layout: str) -> None:
    parsed = read_x12(x12(*PO_5010, isa12="00501", layout=layout, **separators))
    assert parsed.envelope_errors == []
    assert parsed.syntax_version == "00501"
    assert only_document(parsed) == EXPECTED_PO_5010


def test_isa12_00501_around_a_004010_group_reads_with_the_004010_map() -> None:
    group = ["GS*PO*AMAZON*VENDOR*20240301*1200*7*X*004010", *PO_5010[1:]]
    parsed = read_x12(x12(*group, isa12="00501", repetition="^", component=":"))
    assert only_document(parsed) == EXPECTED_PO_5010


REMITTANCE = gs(
    "RA",
    8,
    "004010",
    st(
        "820",
        "0001",
        "BPR*C*1405.00*C*ACH*CTX*01*111000025*DA*123456789*1234567890**01*222000111*DA*987654321*20240315",
        "TRN*1*PAY0001*1234567890",
        "CUR*PR*USD",
        "N1*PR*AMAZON.COM*92*AMAZON",
        "N1*PE*OUR COMPANY*92*VENDOR1",
        "ENT*1",
        "ADX*-25.00*90*IV*4711VCBSINV",
        "NTE**Compliance chargeback",
        "RMR*IV*INV1001**1000.00*1020.00*20.00",
        "REF*PO*2XQ7ABCD",
        "DTM*003*20240105",
        "RMR*IV*INV1001SC**-50.00*-50.00",
        "NTE**Quantity shortage",
        "RMR*IV*INV1002**480.00*500.00",
        "DTM*003*20240110",
        "ADX*-20.00*CS",
    ),
)


def line(invoice: str, gross: str, paid: str, **fields: object) -> RemittanceLine:
    values: dict[str, object] = {
        "invoice_date": None,
        "description": None,
        "discount_amount": D("0"),
        "remaining_amount": None,
        "currency": "USD",
        **fields,
    }
    return RemittanceLine(invoice_number=invoice, gross_amount=D(gross), paid_amount=D(paid), **values)  # type: ignore[arg-type]


def test_820_remittance_with_deductions_and_adjustments() -> None:
    parsed = read_x12(x12(*REMITTANCE, layout="\r\n"))
    payment = only_document(parsed)
    assert payment == RemittancePayment(
        payment_number="PAY0001",
        payment_date=date(2024, 3, 15),
        currency="USD",
        amount=D("1405.00"),
        payer_id="AMAZON",
        payee_id="VENDOR1",
        lines=(
            line("4711VCBSINV", "-25.00", "-25.00", description="Compliance chargeback", transaction_type="ADX 90"),
            line(
                "INV1001",
                "1020.00",
                "1000.00",
                discount_amount=D("20.00"),
                invoice_date=date(2024, 1, 5),
                po_number="2XQ7ABCD",
                transaction_type="IV",
            ),
            line("INV1001SC", "-50.00", "-50.00", description="Quantity shortage", transaction_type="IV"),
            # RMR04 480.00 includes its ADX -20.00: the invoice's own line is paid 500.00, the ADX -20.00.
            line("INV1002", "500.00", "500.00", invoice_date=date(2024, 1, 10), transaction_type="IV"),
            line(
                "INV1002",
                "-20.00",
                "-20.00",
                description="adjustment reason CS",
                transaction_type="ADX CS",
                original_invoice_number="INV1002",
            ),
        ),
    )
    assert isinstance(payment, RemittancePayment)
    assert sum(item.paid_amount for item in payment.lines) == payment.amount


def test_820_without_currency_is_quarantined_not_guessed() -> None:
    group = [segment for segment in REMITTANCE if not segment.startswith("CUR")]
    group = [f"SE*{int(s[3:].split('*')[0]) - 1}*0001" if s.startswith("SE*") else s for s in group]
    parsed = read_x12(x12(*group))
    assert parsed.sets[0].document is None
    assert parsed.sets[0].error == "the remittance has no CUR segment: its currency is unknown"
    assert parsed.sets[0].position == "segment 4 (BPR)"


def test_824_application_advice_gives_one_acknowledgement_per_oti() -> None:
    group = gs(
        "AG",
        9,
        "004010",
        st(
            "824",
            "0001",
            "BGN*00*ADV123*20240301",
            "OTI*TR*TN*0001*****12*0001*810",
            "TED*024*Invalid unit price*IT1*7**4*212*1.23",
            "OTI*TA*TN*0002*****12*0002*810",
        ),
    )
    parsed = read_x12(x12(*group, layout=""))
    assert [result.document for result in parsed.sets] == [
        InboundAcknowledgement(
            kind="824",
            acknowledged_control_number="0001",
            acknowledged_document_type="810",
            status="rejected",
            errors=("TED 024: Invalid unit price (segment IT1 at position 7 element 4 data element 212 value '1.23')",),
        ),
        InboundAcknowledgement(
            kind="824", acknowledged_control_number="0002", acknowledged_document_type="810", status="accepted"
        ),
    ]
    assert {(result.control_number, result.document_type, result.group_control_number) for result in parsed.sets} == {
        ("0001", "824", "9")
    }


def test_997_gives_one_acknowledgement_per_ak2() -> None:
    group = gs(
        "FA",
        10,
        "004010",
        st(
            "997",
            "0001",
            "AK1*SH*12",
            "AK2*856*0001",
            "AK3*TD5*7*HL*8",
            "AK4*5>1*91*7*XX",
            "AK5*R*5",
            "AK2*856*0002",
            "AK5*A",
            "AK9*P*2*2*1",
        ),
    )
    parsed = read_x12(x12(*group, element="|", component="^", terminator="\n", layout=""))
    assert [result.document for result in parsed.sets] == [
        InboundAcknowledgement(
            kind="997",
            acknowledged_control_number="0001",
            acknowledged_document_type="856",
            status="rejected",
            errors=(
                "segment TD5 at position 7 in loop HL: 8 segment has data element errors",
                "element 5-1 (data element 91): 7 invalid code value, value 'XX'",
                "AK5 5: one or more segments in error",
            ),
        ),
        InboundAcknowledgement(
            kind="997", acknowledged_control_number="0002", acknowledged_document_type="856", status="accepted"
        ),
    ]


def test_997_without_ak2_acknowledges_the_whole_group() -> None:
    group = gs("FA", 11, "004010", st("997", "0001", "AK1*IN*44", "AK9*R*1*1*0*5"))
    assert only_document(read_x12(x12(*group))) == InboundAcknowledgement(
        kind="997",
        acknowledged_control_number="44",
        acknowledged_document_type="810",
        status="rejected",
        errors=("AK9 5: number of included transaction sets does not match actual count",),
    )


# --- one bad set never spoils its siblings --------------------------------------------------------------


def test_map_failure_in_one_set_of_two_keeps_the_other() -> None:
    good = st("850", "0001", *PO_5010[2:-2])
    bad_body = [s.replace("PO1*2*24*EA*4.25", "PO1*2*24*XX*4.2X") for s in PO_5010[2:-2]]
    bad = st("850", "0002", *[s for s in bad_body if not s.startswith("DTM*063")])
    group = gs("PO", 7, "004010", good, bad)
    parsed = read_x12(x12(*group))
    assert parsed.envelope_errors == []
    assert parsed.sets[0].document == EXPECTED_PO_5010
    rejected = parsed.sets[1]
    # ISA 1, GS 2, the first set's ST..SE 3-21, the second set starts at 22; its PO1*2 is its 16th segment.
    assert (rejected.control_number, rejected.document, rejected.position) == (
        "0002",
        None,
        "segment 37 (PO1), element 3",
    )
    assert rejected.error == (
        "2 error(s) against our 850 004010 map: "
        "segment 37 (PO1), element 3: (XX) is not a valid code for Unit or Basis for Measurement Code (PO103); "
        'segment 37 (PO1), element 4: Data element "Unit Price" (PO104) is type R, contains an invalid character(4.2X)'
    )


def test_translation_failure_is_quarantined_with_its_position() -> None:
    body = [s.replace("CTT*2*27", "CTT*3*27") for s in PO_5010[2:-2]]
    parsed = read_x12(x12(*gs("PO", 7, "005010", st("850", "0001", *body)), isa12="00501"))
    assert parsed.sets[0].document is None
    assert parsed.sets[0].error == "CTT01 says 3 line items, the set has 2 PO1"
    assert parsed.sets[0].position == "segment 20 (CTT), element 1"


def test_a_set_without_se_is_quarantined_and_the_next_set_still_read() -> None:
    good = st("850", "0002", *PO_5010[2:-2])
    unfinished = ["ST*850*0001", *PO_5010[2:6]]
    parsed = read_x12(x12("GS*PO*AMAZON*VENDOR*20240301*1200*7*X*005010", *unfinished, *good, "GE*2*7", isa12="00501"))
    assert parsed.sets[0].document is None
    assert parsed.sets[0].error == "the transaction set has no SE trailer"
    assert parsed.sets[0].position == "segment 3 (ST)"
    assert parsed.sets[1].document == EXPECTED_PO_5010
    assert parsed.envelope_errors == [
        "segment 8 (ST): the transaction set started at segment 3 (ST) has no SE before this ST"
    ]


def test_validation_can_be_skipped_with_the_same_documents() -> None:
    data = x12(*PO_5010, isa12="00501")
    assert read_x12(data, validate=False) == read_x12(data)


# --- files that are not interchanges --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "reason", "position"),
    [
        pytest.param(b"", "the file is empty", None, id="empty"),
        pytest.param(b"  \r\n", "the file is empty", None, id="blank"),
        pytest.param(
            bytes(range(256)),
            "not an X12 interchange: the file starts with '\\x00\\x01\\x02\\x03\\x04\\x05\\x06\\x07\\x08\\t', not ISA",
            "character 1",
            id="binary",
        ),
        pytest.param(
            b"ISA*00*          *00*          *ZZ*AMAZON",
            "truncated: the ISA segment is 41 characters, an ISA has 106",
            "segment 1 (ISA)",
            id="short-isa",
        ),
        pytest.param(
            b"ISA*00**00**ZZ*AMAZON*ZZ*VENDOR*240301*1200*U*00401*000000001*0*P*>~GS*PO*A*B*20240301*1200*1*X*004010~"
            b"GE*0*1~IEA*1*000000001~",
            "the ISA is not fixed-width: character 18 should be the element separator '*' but is 'A'"
            " (ISA fields must be padded to their full width)",
            "segment 1 (ISA)",
            id="unpadded-isa",
        ),
        pytest.param(
            sample("amz850_predi_1PCPDX1U.edi")[:250],
            "truncated: the file ends inside a segment ('DTM*063*202202' has no terminator '~')",
            "segment 8",
            id="truncated-mid-segment",
        ),
        pytest.param(
            sample("amz850_predi_guide_L8266355.edi").split(b"GE*")[0],
            "truncated: the file ends without the interchange trailer IEA",
            "segment 12 (SE)",
            id="no-iea",
        ),
    ],
)
def test_unreadable_files_are_rejected_with_a_reason(data: bytes, reason: str, position: str | None) -> None:
    with pytest.raises(FileRejected) as rejected:
        read_x12(data)
    assert (rejected.value.reason, rejected.value.position) == (reason, position)


def test_an_isa_field_holding_the_element_separator_is_rejected() -> None:
    data = sample("amz850_predi_guide_L8266355.edi").replace(b"*VENDOR         *", b"*VEN*OR         *")
    with pytest.raises(FileRejected) as rejected:
        read_x12(data)
    assert rejected.value.reason == "ISA08 'VEN*OR         ' contains the element separator"


def test_a_byte_outside_x12_is_an_invalid_character_at_its_position_not_a_rejected_file() -> None:
    data = sample("amz850_predi_1PCPDX1U.edi").replace(b"REF*CR*HOUBX", b"REF*CR*HOU\xe9X")
    (result,) = read_x12(data).sets
    assert (result.document, result.position) == (None, "segment 5 (REF), element 2")
    assert result.error is not None and "invalid character" in result.error


def test_a_second_interchange_in_the_file_is_rejected() -> None:
    one = sample("amz850_predi_guide_L8266355.edi")
    with pytest.raises(FileRejected) as rejected:
        read_x12(one + one)
    assert rejected.value.reason == "ISA after the interchange trailer IEA: one interchange per file"
    assert rejected.value.position == "segment 15 (ISA)"
