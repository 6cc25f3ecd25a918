"""A PO acknowledgement as 855, ORDRSP and SP-API JSON: byte-exact against golden files, re-readable by our
readers, valid against our 855 map, our ORDRSP definition and Amazon's schema, written through the outbox.

The golden files are written through `write_acknowledgement` with a fixed outbox clock. After a deliberate
change to a rendering, regenerate them with ``AVC2SAGE_UPDATE_GOLDEN=1 pytest tests/orders`` and review the diff.
"""

from __future__ import annotations

import json
import os
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from pipelines.amazon.documents import ProductIdentifier
from pipelines.edi.edifact import InvalidDocument, read_interchange
from pipelines.edi.edifact.d96a import ORDRSP
from pipelines.edi.edifact.definitions import Validator
from pipelines.edi.outbox import CONTROL_NUMBERS_FILE, Outbox
from pipelines.edi.x12 import X12WriteError, parse_interchange
from pipelines.edi.x12.validator import default_registry
from pipelines.orders.acknowledgement import (
    ACCEPTED,
    BACKORDERED,
    INVALID_PRODUCT_IDENTIFIER,
    OBSOLETE_PRODUCT,
    REJECTED,
    TEMPORARILY_UNAVAILABLE,
    Acknowledgement,
    AcknowledgementLine,
    LineOutcome,
)
from pipelines.orders.documents import (
    ACK_CODES,
    API,
    EDIFACT,
    X12,
    AcknowledgementDocumentError,
    ApiAcknowledgementError,
    render_855,
    render_api_acknowledgement,
    render_ordrsp,
    validate_api_acknowledgement,
    write_acknowledgement,
)

GOLDEN = Path(__file__).parent / "golden"
UPDATE_GOLDEN = os.environ.get("AVC2SAGE_UPDATE_GOLDEN") == "1"
NOW = datetime(2026, 3, 14, 9, 30, tzinfo=UTC)
ACKNOWLEDGED_AT = datetime(2026, 3, 14, 8, 15, tzinfo=UTC)
SHIPS = date(2026, 3, 18)
BACK_IN_STOCK = date(2026, 3, 30)
D = Decimal

OUR_X12_ID = "HAFINEDI"
AMAZON_X12_ID = "AMAZON"
OUR_GLN = "5060123450004"
AMAZON_GLN = "5450534000024"


def identifiers(*pairs: str) -> tuple[ProductIdentifier, ...]:
    return tuple(ProductIdentifier(pairs[i], pairs[i + 1]) for i in range(0, len(pairs), 2))


def accepted(quantity: str | int) -> LineOutcome:
    return LineOutcome(ACCEPTED, D(quantity), SHIPS)


def backordered(quantity: str | int) -> LineOutcome:
    return LineOutcome(BACKORDERED, D(quantity), BACK_IN_STOCK)


def rejected(quantity: str | int, reason: str) -> LineOutcome:
    return LineOutcome(REJECTED, D(quantity), None, reason)


def acknowledgement(lines: tuple[AcknowledgementLine, ...], *, ship_to: tuple[str, str] | None) -> Acknowledgement:
    return Acknowledgement(
        po_number="4KT9ZQ2M",
        po_date=date(2026, 3, 13),
        vendor_code="HAFIN",
        currency="GBP",
        acknowledged_at=ACKNOWLEDGED_AT,
        ship_to_qualifier=ship_to[0] if ship_to else None,
        ship_to_id=ship_to[1] if ship_to else None,
        sales_order_number="SO0001234",
        lines=lines,
    )


def changed_lines(each: str, case: str, *ids: tuple[ProductIdentifier, ...]) -> tuple[AcknowledgementLine, ...]:
    """Five lines: accepted in full, accepted + backordered (in cases), accepted + rejected, and one line
    rejected for each of the other two reasons."""
    return (
        # Ordered as 10.000: a whole quantity is written as 10.
        AcknowledgementLine("1", ids[0], D("10.000"), each, None, D("4.25"), (accepted(10),)),
        AcknowledgementLine("2", ids[1], D(24), case, D(6), D("3.10"), (accepted(16), backordered(8))),
        AcknowledgementLine(
            "3", ids[2], D(5), each, None, D("12.00"), (accepted(3), rejected(2, TEMPORARILY_UNAVAILABLE))
        ),
        AcknowledgementLine("4", ids[3], D(6), each, None, D("1.99"), (rejected(6, INVALID_PRODUCT_IDENTIFIER),)),
        AcknowledgementLine("5", ids[4], D(12), each, None, D("2.50"), (rejected(12, OBSOLETE_PRODUCT),)),
    )


# X12: qualifier/id pairs as an 850 sends them (which ones is a per-vendor setting); ship-to an FC code.
X12_IDS = (
    identifiers("EN", "5012345678900", "VN", "HAF-001", "BP", "B00HAF0001"),
    identifiers("EN", "5012345678917", "VN", "HAF-002"),
    identifiers("UP", "012345678905"),
    identifiers("VN", "HAF-OLD-9"),
    identifiers("EN", "5012345678924"),
)
X12_ACCEPTED = acknowledgement(
    (
        AcknowledgementLine("1", X12_IDS[0], D(10), "EA", None, D("4.25"), (accepted(10),)),
        AcknowledgementLine("2", X12_IDS[1], D(24), "CA", D(6), D("3.10"), (accepted(24),)),
    ),
    ship_to=("92", "LTN1"),
)
X12_CHANGED = acknowledgement(changed_lines("EA", "CA", *X12_IDS), ship_to=("92", "LTN1"))

# EDIFACT: items as Amazon's ORDERS sends them (GTIN in LIN, supplier article in PIA), units as it may send them
# (none, PCE, CS); the delivery party a GLN.
EDIFACT_IDS = (
    identifiers("EN", "5012345678900", "SA", "HAF-001"),
    identifiers("EN", "5012345678917"),
    identifiers("UP", "012345678905"),
    identifiers("SA", "HAF-OLD-9"),
    identifiers("EN", "5012345678924"),
)
EDIFACT_SHIP_TO = ("9", "5450534000109")
EDIFACT_ACCEPTED = acknowledgement(
    (
        AcknowledgementLine("1", EDIFACT_IDS[0], D(10), "", None, D("4.25"), (accepted(10),)),
        AcknowledgementLine("2", EDIFACT_IDS[1], D(24), "CS", D(6), D("3.10"), (accepted(24),)),
    ),
    ship_to=EDIFACT_SHIP_TO,
)
EDIFACT_CHANGED = acknowledgement(changed_lines("PCE", "CS", *EDIFACT_IDS), ship_to=EDIFACT_SHIP_TO)
EDIFACT_REJECTED = acknowledgement(
    (
        AcknowledgementLine("1", EDIFACT_IDS[0], D(10), "PCE", None, D("4.25"), (rejected(10, OBSOLETE_PRODUCT),)),
        AcknowledgementLine(
            "2", EDIFACT_IDS[3], D(3), "PCE", None, D("1.99"), (rejected(3, INVALID_PRODUCT_IDENTIFIER),)
        ),
    ),
    ship_to=EDIFACT_SHIP_TO,
)

# API: the identifiers under the API's own field names, units as the API says them.
API_IDS = (
    identifiers("amazonProductIdentifier", "B00HAF0001", "vendorProductIdentifier", "HAF-001"),
    identifiers("vendorProductIdentifier", "HAF-002"),
    identifiers("amazonProductIdentifier", "B00HAF0003", "vendorProductIdentifier", "HAF-003"),
    identifiers("vendorProductIdentifier", "HAF-OLD-9"),
    identifiers("amazonProductIdentifier", "B00HAF0005"),
)
API_CHANGED = acknowledgement(changed_lines("Eaches", "Cases", *API_IDS), ship_to=None)


def outbox(tmp_path: Path) -> Outbox:
    """A fresh outbox (control numbers from 1) whose clock is fixed, so documents are byte-for-byte stable."""
    return Outbox(tmp_path / "outbox", warehouse=None, clock=lambda: NOW)


def write(ack: Acknowledgement, standard: str, tmp_path: Path) -> bytes:
    our_id, partner_id = (OUR_GLN, AMAZON_GLN) if standard == EDIFACT else (OUR_X12_ID, AMAZON_X12_ID)
    document = write_acknowledgement(ack, outbox(tmp_path), standard=standard, our_id=our_id, partner_id=partner_id)
    return document.path.read_bytes()


def matches_golden(content: bytes, name: str) -> bool:
    golden = GOLDEN / name
    if UPDATE_GOLDEN:
        golden.write_bytes(content)
    return content == golden.read_bytes()


GOLDEN_DOCUMENTS = [
    pytest.param(X12_ACCEPTED, X12, "855_accepted.edi", id="855-accepted"),
    pytest.param(X12_CHANGED, X12, "855_changed.edi", id="855-changed"),
    pytest.param(EDIFACT_ACCEPTED, EDIFACT, "ordrsp_accepted.edi", id="ordrsp-accepted"),
    pytest.param(EDIFACT_CHANGED, EDIFACT, "ordrsp_changed.edi", id="ordrsp-changed"),
    pytest.param(EDIFACT_REJECTED, EDIFACT, "ordrsp_rejected.edi", id="ordrsp-rejected"),
    pytest.param(API_CHANGED, API, "api_acknowledgement_changed.json", id="api-changed"),
]


@pytest.mark.parametrize(("ack", "standard", "golden"), GOLDEN_DOCUMENTS)
def test_document_matches_its_golden_file(ack: Acknowledgement, standard: str, golden: str, tmp_path: Path) -> None:
    assert matches_golden(write(ack, standard, tmp_path), golden)


# --- X12 855 ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("golden", ["855_accepted.edi", "855_changed.edi"])
def test_golden_855_reads_back_and_passes_our_855_map(golden: str) -> None:
    interchange = parse_interchange((GOLDEN / golden).read_bytes())
    assert interchange.errors == []
    (group,) = interchange.groups
    assert (group.functional_id, group.version) == ("PR", "004010")
    (transaction_set,) = group.sets
    assert transaction_set.set_id == "855"
    transaction_map = default_registry().find(group.version, "855")
    assert transaction_map is not None
    assert transaction_map.validate(transaction_set.segments, interchange.separators) == []


def test_855_says_each_outcome_in_its_own_ack_and_echoes_the_order() -> None:
    text = render_855(
        X12_CHANGED, sender_id=OUR_X12_ID, receiver_id=AMAZON_X12_ID, isa13=7, gs06="7", st02="0007", prepared_at=NOW
    )
    segments = [segment.strip() for segment in text.split("~") if segment.strip()]
    assert segments[0].startswith("ISA*00*          *00*          *ZZ*HAFINEDI       *ZZ*AMAZON         *")
    assert "BAK*00*AC*4KT9ZQ2M*20260313****SO0001234" in segments
    assert "N1*ST**92*LTN1" in segments
    line_2 = segments.index("PO1*2*24*CA*3.10*PE*EN*5012345678917*VN*HAF-002")
    assert segments[line_2 + 1 : line_2 + 3] == ["ACK*IA*16*CA*068*20260318", "ACK*IB*8*CA*068*20260330"]
    assert {"ACK*IR*2*EA", "ACK*R2*6*EA", "ACK*ID*12*EA"} <= set(segments)
    assert "CTT*5*57" in segments


def test_855_of_an_unchanged_order_says_ad() -> None:
    text = render_855(
        X12_ACCEPTED, sender_id=OUR_X12_ID, receiver_id=AMAZON_X12_ID, isa13=1, gs06="1", st02="0001", prepared_at=NOW
    )
    assert "~BAK*00*AD*4KT9ZQ2M*20260313****SO0001234~" in text.replace("\n", "")


def test_855_in_5010_passes_our_5010_map() -> None:
    text = render_855(
        X12_CHANGED,
        sender_id=OUR_X12_ID,
        receiver_id=AMAZON_X12_ID,
        isa13=1,
        gs06="1",
        st02="0001",
        prepared_at=NOW,
        version="005010",
    )
    interchange = parse_interchange(text.encode())
    assert interchange.errors == []
    assert (interchange.version, interchange.separators.repetition) == ("00501", "^")
    (group,) = interchange.groups
    (transaction_set,) = group.sets
    transaction_map = default_registry().find("005010", "855")
    assert transaction_map.validate(transaction_set.segments, interchange.separators) == []


def test_every_ack_code_we_map_to_is_one_our_855_maps_accept() -> None:
    for version in ("004010", "005010"):
        node = default_registry().find(version, "855").root.getnodebypath("/ST_LOOP/DETAIL/PO1/ACK/ACK")
        accepted_codes = set(node.get_child_node_by_ordinal(1).valid_codes)
        assert set(ACK_CODES.values()) == accepted_codes


def test_an_identifier_the_855_map_does_not_know_is_refused() -> None:
    line = replace(X12_ACCEPTED.lines[0], identifiers=identifiers("SA", "HAF-001"))
    with pytest.raises(X12WriteError, match="breaks its map"):
        render_855(
            replace(X12_ACCEPTED, lines=(line,)),
            sender_id=OUR_X12_ID,
            receiver_id=AMAZON_X12_ID,
            isa13=1,
            gs06="1",
            st02="0001",
            prepared_at=NOW,
        )


# --- EDIFACT ORDRSP --------------------------------------------------------------------------------------


@pytest.mark.parametrize("golden", ["ordrsp_accepted.edi", "ordrsp_changed.edi", "ordrsp_rejected.edi"])
def test_golden_ordrsp_reads_back_and_passes_our_ordrsp_definition(golden: str) -> None:
    interchange = read_interchange((GOLDEN / golden).read_bytes())
    assert interchange.envelope_errors == []
    assert (interchange.syntax, interchange.version, interchange.sender) == ("UNOA", "2", OUR_GLN)
    (result,) = interchange.messages
    message = result.message
    assert message.identifier == ("ORDRSP", "D", "96A", "UN")
    assert message.header.get(2, 5) == "EAN005"
    Validator(interchange.chars).validate(ORDRSP, message.body, message.segments[-1])


@pytest.mark.parametrize(
    ("ack", "bgm", "line_actions"),
    [
        pytest.param(EDIFACT_ACCEPTED, "BGM+231+4KT9ZQ2M+29+AP'", ["5", "5"], id="accepted"),
        pytest.param(EDIFACT_CHANGED, "BGM+231+4KT9ZQ2M+4+AC'", ["5", "6", "6", "7", "7"], id="changed"),
        pytest.param(EDIFACT_REJECTED, "BGM+231+4KT9ZQ2M+27+RE'", ["7", "7"], id="rejected"),
    ],
)
def test_ordrsp_says_how_the_order_and_each_line_were_answered(
    ack: Acknowledgement, bgm: str, line_actions: list[str]
) -> None:
    data = render_ordrsp(
        ack, sender_id=OUR_GLN, receiver_id=AMAZON_GLN, unb_reference="1", unh_reference="1", prepared_at=NOW
    )
    segments = data.decode("ascii").split("'")
    assert bgm.rstrip("'") in segments
    assert [segment.split("+")[2] for segment in segments if segment.startswith("LIN+")] == line_actions


def test_ordrsp_ties_each_quantity_to_its_date_and_echoes_the_items() -> None:
    data = render_ordrsp(
        EDIFACT_CHANGED,
        sender_id=OUR_GLN,
        receiver_id=AMAZON_GLN,
        unb_reference="1",
        unh_reference="1",
        prepared_at=NOW,
    )
    text = data.decode("ascii")
    assert "NAD+DP+5450534000109::9'" in text
    assert "LIN+1+5+5012345678900:EN'PIA+5+HAF-001:SA'QTY+21:10:PCE'QTY+12:10:PCE'DTM+11:20260318:102'" in text
    assert "QTY+21:24:CS'QTY+12:16:CS'QTY+83:8:CS'DTM+11:20260318:102'DTM+44:20260330:102'" in text
    assert "LIN+4+7'PIA+5+HAF-OLD-9:SA'QTY+21:6:PCE'QTY+182:6:PCE'PRI+AAA:1.99:::1:PCE'" in text


def test_ordrsp_without_units_writes_none() -> None:
    data = render_ordrsp(
        EDIFACT_ACCEPTED,
        sender_id=OUR_GLN,
        receiver_id=AMAZON_GLN,
        unb_reference="1",
        unh_reference="1",
        prepared_at=NOW,
    )
    assert "QTY+21:10'QTY+12:10'" in data.decode("ascii")


def test_ordrsp_refuses_two_quantities_of_one_status_on_a_line() -> None:
    line = AcknowledgementLine(
        "1", EDIFACT_IDS[0], D(10), "PCE", None, D("4.25"), (backordered(4), LineOutcome(BACKORDERED, D(6), SHIPS))
    )
    with pytest.raises(AcknowledgementDocumentError, match="one Backordered quantity per line"):
        render_ordrsp(
            replace(EDIFACT_ACCEPTED, lines=(line,)),
            sender_id=OUR_GLN,
            receiver_id=AMAZON_GLN,
            unb_reference="1",
            unh_reference="1",
            prepared_at=NOW,
        )


def test_ordrsp_refuses_a_value_its_definition_does_not_allow() -> None:
    with pytest.raises(InvalidDocument, match="BGM"):
        render_ordrsp(
            replace(EDIFACT_ACCEPTED, po_number="X" * 36),
            sender_id=OUR_GLN,
            receiver_id=AMAZON_GLN,
            unb_reference="1",
            unh_reference="1",
            prepared_at=NOW,
        )


# --- SP-API JSON -----------------------------------------------------------------------------------------


def golden_payload() -> dict:
    return json.loads((GOLDEN / "api_acknowledgement_changed.json").read_text(encoding="utf-8"))


def test_golden_api_acknowledgement_is_valid_against_amazons_schema() -> None:
    payload = golden_payload()
    validate_api_acknowledgement(payload)
    (acknowledgement_,) = payload["acknowledgements"]
    assert acknowledgement_["sellingParty"] == {"partyId": "HAFIN"}
    assert acknowledgement_["acknowledgementDate"] == "2026-03-14T08:15:00Z"
    line_2 = acknowledgement_["items"][1]
    assert line_2["orderedQuantity"] == {"amount": 24, "unitOfMeasure": "Cases", "unitSize": 6}
    assert line_2["netCost"] == {"currencyCode": "GBP", "amount": "3.10"}
    assert [answer["acknowledgementCode"] for answer in line_2["itemAcknowledgements"]] == ["Accepted", "Backordered"]
    assert line_2["itemAcknowledgements"][1]["scheduledShipDate"] == "2026-03-30T00:00:00Z"
    reasons = [
        answer.get("rejectionReason") for item in acknowledgement_["items"] for answer in item["itemAcknowledgements"]
    ]
    assert [reason for reason in reasons if reason] == [
        TEMPORARILY_UNAVAILABLE,
        INVALID_PRODUCT_IDENTIFIER,
        OBSOLETE_PRODUCT,
    ]


def test_no_amount_in_the_json_is_a_float() -> None:
    def floats(value: object) -> list[float]:
        if isinstance(value, dict):
            return [found for item in value.values() for found in floats(item)]
        if isinstance(value, list):
            return [found for item in value for found in floats(item)]
        return [value] if isinstance(value, float) else []

    assert floats(json.loads(render_api_acknowledgement(API_CHANGED, selling_party_id="HAFIN"))) == []


def test_edi_identifiers_become_the_asin_and_the_vendors_identifier() -> None:
    payload = json.loads(render_api_acknowledgement(X12_CHANGED, selling_party_id="HAFIN"))
    first = payload["acknowledgements"][0]["items"][0]
    assert (first["amazonProductIdentifier"], first["vendorProductIdentifier"]) == ("B00HAF0001", "5012345678900")
    assert first["orderedQuantity"] == {"amount": 10, "unitOfMeasure": "Eaches"}


@pytest.mark.parametrize(
    ("break_it", "path", "message"),
    [
        pytest.param(
            lambda ack: ack["items"][1]["itemAcknowledgements"][0].pop("acknowledgementCode"),
            "$.acknowledgements[0].items[1].itemAcknowledgements[0].acknowledgementCode",
            "'acknowledgementCode' is a required property",
            id="missing-code",
        ),
        pytest.param(
            lambda ack: ack["items"][0]["netCost"].update(amount=4.25),
            "$.acknowledgements[0].items[0].netCost.amount",
            "4.25 is not of type 'string'",
            id="amount-as-number",
        ),
        pytest.param(
            lambda ack: ack["items"][2]["netCost"].update(amount="12,00"),
            "$.acknowledgements[0].items[2].netCost.amount",
            "does not match",
            id="amount-not-a-decimal",
        ),
        pytest.param(
            lambda ack: ack.update(acknowledgementDate="2026-03-14"),
            "$.acknowledgements[0].acknowledgementDate",
            "is not a 'date-time'",
            id="date-without-time",
        ),
        pytest.param(
            lambda ack: ack["items"][3]["itemAcknowledgements"][0].update(rejectionReason="OutOfStock"),
            "$.acknowledgements[0].items[3].itemAcknowledgements[0].rejectionReason",
            "'OutOfStock' is not one of",
            id="unknown-reason",
        ),
    ],
)
def test_a_broken_payload_is_refused_naming_its_path(break_it, path: str, message: str) -> None:
    payload = golden_payload()
    break_it(payload["acknowledgements"][0])
    with pytest.raises(ApiAcknowledgementError) as raised:
        validate_api_acknowledgement(payload)
    assert raised.value.path == path
    assert path in str(raised.value)
    assert message in str(raised.value)
    assert isinstance(raised.value, ValueError)


def test_api_refuses_a_fractional_quantity() -> None:
    line = AcknowledgementLine("1", API_IDS[0], D("2.5"), "Eaches", None, D("4.25"), (accepted("2.5"),))
    with pytest.raises(AcknowledgementDocumentError, match="not whole"):
        render_api_acknowledgement(replace(API_CHANGED, lines=(line,)), selling_party_id="HAFIN")


def test_api_refuses_cases_without_a_case_size() -> None:
    line = AcknowledgementLine("1", API_IDS[0], D(2), "Cases", None, D("4.25"), (accepted(2),))
    with pytest.raises(AcknowledgementDocumentError, match="no case size"):
        render_api_acknowledgement(replace(API_CHANGED, lines=(line,)), selling_party_id="HAFIN")


# --- every syntax --------------------------------------------------------------------------------------


@pytest.mark.parametrize("standard", [X12, EDIFACT, API])
def test_a_unit_cost_of_zero_is_refused_in_every_syntax(standard: str, tmp_path: Path) -> None:
    line = replace(X12_ACCEPTED.lines[0], unit_cost=D("0.00"))
    with pytest.raises(AcknowledgementDocumentError, match="must be above zero"):
        write(replace(X12_ACCEPTED, lines=(line,)), standard, tmp_path)
    assert documents_in(tmp_path / "outbox") == []


def test_a_unit_no_syntax_knows_is_refused() -> None:
    line = replace(X12_ACCEPTED.lines[0], unit_of_measure="DZ")
    with pytest.raises(AcknowledgementDocumentError, match="unit 'DZ'"):
        render_855(
            replace(X12_ACCEPTED, lines=(line,)),
            sender_id=OUR_X12_ID,
            receiver_id=AMAZON_X12_ID,
            isa13=1,
            gs06="1",
            st02="0001",
            prepared_at=NOW,
        )


# --- the outbox ------------------------------------------------------------------------------------------


def documents_in(folder: Path) -> list[Path]:
    return sorted(path for path in folder.iterdir() if path.name != CONTROL_NUMBERS_FILE)


@pytest.mark.parametrize(
    ("standard", "ack", "our_id", "partner_id", "document_type", "partner", "numbers"),
    [
        pytest.param(
            X12,
            X12_CHANGED,
            OUR_X12_ID,
            AMAZON_X12_ID,
            "855",
            AMAZON_X12_ID,
            [
                {"ISA13": "000000001", "GS06": "1", "ST02": "0001"},
                {"ISA13": "000000002", "GS06": "2", "ST02": "0002"},
            ],
            id="x12",
        ),
        pytest.param(
            EDIFACT,
            EDIFACT_CHANGED,
            OUR_GLN,
            AMAZON_GLN,
            "ORDRSP",
            AMAZON_GLN,
            [{"UNB": "1", "UNH": "1"}, {"UNB": "2", "UNH": "2"}],
            id="edifact",
        ),
        pytest.param(API, API_CHANGED, OUR_X12_ID, AMAZON_X12_ID, "ACKNOWLEDGEMENT", "AMAZON", [{}, {}], id="api"),
    ],
)
def test_each_write_is_one_new_file_with_fresh_control_numbers(
    standard: str,
    ack: Acknowledgement,
    our_id: str,
    partner_id: str,
    document_type: str,
    partner: str,
    numbers: list[dict[str, str]],
    tmp_path: Path,
) -> None:
    box = outbox(tmp_path)
    written = []
    for expected in numbers:
        document = write_acknowledgement(
            ack, box, standard=standard, our_id=our_id, partner_id=partner_id, related_inbound="inbound.edi"
        )
        written.append(document)
        assert (document.document_type, document.standard, document.partner) == (document_type, standard, partner)
        assert document.control_numbers == expected
        assert document.related_inbound == "inbound.edi"
        assert documents_in(box.folder) == sorted(d.path for d in written)
    assert written[0].path.name != written[1].path.name
    assert written[0].path.suffix == (".json" if standard == API else ".edi")


def test_a_document_that_fails_its_check_is_not_written(tmp_path: Path) -> None:
    line = replace(X12_ACCEPTED.lines[0], identifiers=identifiers("SA", "HAF-001"))
    box = outbox(tmp_path)
    with pytest.raises(X12WriteError):
        write_acknowledgement(
            replace(X12_ACCEPTED, lines=(line,)), box, standard=X12, our_id=OUR_X12_ID, partner_id=AMAZON_X12_ID
        )
    assert documents_in(box.folder) == []


def test_an_unknown_standard_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown standard 'XML'"):
        write_acknowledgement(X12_ACCEPTED, outbox(tmp_path), standard="XML", our_id="US", partner_id="THEM")


# --- the model's own rules -------------------------------------------------------------------------------


def test_answered_quantities_must_add_up_to_the_ordered_quantity() -> None:
    with pytest.raises(ValueError, match="must add up"):
        AcknowledgementLine("1", X12_IDS[0], D(10), "EA", None, D("4.25"), (accepted(6), backordered(3)))


def test_every_line_must_be_answered() -> None:
    with pytest.raises(ValueError, match="every line must be answered"):
        AcknowledgementLine("1", X12_IDS[0], D(10), "EA", None, D("4.25"), ())


@pytest.mark.parametrize(
    ("status", "reason", "ship_date"),
    [
        pytest.param(ACCEPTED, TEMPORARILY_UNAVAILABLE, SHIPS, id="reason-on-accepted"),
        pytest.param(BACKORDERED, OBSOLETE_PRODUCT, SHIPS, id="reason-on-backordered"),
        pytest.param(REJECTED, None, None, id="rejected-without-reason"),
    ],
)
def test_a_rejection_reason_is_given_exactly_when_rejected(status: str, reason: str | None, ship_date: date) -> None:
    with pytest.raises(ValueError, match="rejection reason is given exactly when"):
        LineOutcome(status, D(1), ship_date, reason)


def test_an_unknown_rejection_reason_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown rejection reason"):
        LineOutcome(REJECTED, D(1), None, "OutOfStock")


def test_accepted_and_backordered_quantities_need_a_ship_date() -> None:
    with pytest.raises(ValueError, match="needs its ship date"):
        LineOutcome(BACKORDERED, D(1), None)


def test_acknowledged_at_must_be_timezone_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        replace(X12_ACCEPTED, acknowledged_at=datetime(2026, 3, 14, 8, 15))  # noqa: DTZ001 - the point of the test
