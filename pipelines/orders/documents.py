"""A PO acknowledgement rendered three ways: X12 855, EDIFACT ORDRSP and the SP-API `submitAcknowledgement` JSON.

Every renderer is a pure function of the acknowledgement and its envelope values, so a document renders to the
same bytes anywhere, and none returns a document that has not passed its check: the 855 its pyx12 map (through
`write_x12`), the ORDRSP our D.96A definition (through `write_interchange`), the JSON Amazon's own schema from
the Vendor Orders model vendored in ``pipelines/amazon/spapi``. `write_acknowledgement` takes fresh control
numbers from the outbox, renders, and writes one file; a document that fails is refused with a ValueError
(`X12WriteError`, `InvalidDocument` or `AcknowledgementDocumentError`) and nothing is written.

Code values come from Amazon's guides as mirrored by Stedi, the SP-API model, EANCOM and practitioners'
Amazon integrations; each constant says which, and what no source settled is marked unconfirmed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from pipelines.amazon.documents import ProductIdentifier
from pipelines.amazon.spapi_schema import api_product_identifiers, request_validator, schema_problems
from pipelines.edi.edifact import Envelope, OutboundMessage, write_interchange
from pipelines.edi.edifact.d96a import ORDRSP
from pipelines.edi.edifact.writer import Value
from pipelines.edi.outbound import API, EDIFACT, X12, write_outbound
from pipelines.edi.outbox import OutboundDocument, Outbox
from pipelines.edi.x12 import OutboundGroup, OutboundInterchange, OutboundSet, Separators, write_x12
from pipelines.edi.x12.writer import SegmentValues
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

DOCUMENT_TYPES = {X12: "855", EDIFACT: "ORDRSP", API: "ACKNOWLEDGEMENT"}

# How each syntax says "eaches" and "cases": X12 355, UN/ECE Rec. 20 (as our ORDERS reader sees Amazon's
# units and our scenario writes them), SP-API ItemQuantity.unitOfMeasure.
EACHES = "Eaches"
CASES = "Cases"
UNITS = {
    X12: {EACHES: "EA", CASES: "CA"},
    EDIFACT: {EACHES: "PCE", CASES: "CS"},
    API: {EACHES: "Eaches", CASES: "Cases"},
}
UNIT_KINDS = {code: kind for units in UNITS.values() for kind, code in units.items()}

# --- X12 855 codes ---------------------------------------------------------------------------------------
PURCHASE_ORDER_ACKNOWLEDGEMENT_GROUP = "PR"  # GS01
# ISA05/ISA07: Amazon's interchange id and ours are mutually defined ids (Amazon's own ISA06 AMAZON is ZZ).
MUTUALLY_DEFINED_ID = "ZZ"
ORIGINAL = "00"  # BAK01
# BAK02, confirmed by Amazon's retail 855 guide (Stedi's mirror lists exactly these two).
WITHOUT_CHANGE = "AD"
WITH_CHANGE = "AC"
SHIP_TO = "ST"  # N101
PRICE_PER_EACH = "PE"  # PO105: Amazon's prices are per each, even for a quantity in cases
CURRENT_SCHEDULE_SHIP = "068"  # ACK04: the date in ACK05 is when we ship; the conventional qualifier, unconfirmed
# ACK01 per outcome (status, rejection reason). IA / IB / IR are the conventional X12 668 codes for accepted,
# backordered and rejected that the domain notes name (Amazon's exact list unconfirmed). For the two reasons
# with an X12 668 code of their own we use R2 "Item Rejected, Invalid Item Product Number" and ID "Item Deleted"
# (the product is discontinued); no Amazon source confirms that Amazon reads either, so both are unconfirmed
# and kept here, in one place, with the 855 map's ACK01 code list to match.
ACK_CODES: dict[tuple[str, str | None], str] = {
    (ACCEPTED, None): "IA",
    (BACKORDERED, None): "IB",
    (REJECTED, TEMPORARILY_UNAVAILABLE): "IR",
    (REJECTED, INVALID_PRODUCT_IDENTIFIER): "R2",
    (REJECTED, OBSOLETE_PRODUCT): "ID",
}

# --- EDIFACT ORDRSP codes --------------------------------------------------------------------------------
EANCOM_ORDRSP = "EAN005"  # UNH S009 0057: EANCOM 1997's ORDRSP, as practitioners' ORDRSPs to Amazon EU say
# UNB as our ORDERS reader sees Amazon write it (`pipelines.scenario.amazon_documents`): UNOA:2, parties by
# GLN under identification code qualifier 14 (EAN).
SYNTAX = "UNOA"
SYNTAX_VERSION = "2"
EAN_PARTY = "14"
GLN_AGENCY = "9"  # 3055 for a GLN in NAD
ORDER_RESPONSE = "231"  # BGM 1001, confirmed (domain notes)
UNCHANGED = "unchanged"
CHANGED = "changed"
REJECTED_IN_FULL = "rejected"
# BGM (1225 message function, 4343 response type) per answer. The response types AP / AC / RE are the domain
# notes' reading of Amazon's ORDRSP guide; 1225 29 / 4 / 27 is what practitioners' ORDRSPs to Amazon EU send
# alongside (EANCOM: accepted without amendment / change / not accepted): unconfirmed.
MESSAGE_CODES = {UNCHANGED: ("29", "AP"), CHANGED: ("4", "AC"), REJECTED_IN_FULL: ("27", "RE")}
# LIN 1229 per line: 5 accepted without amendment, 6 accepted with amendment, 7 not accepted (D.96A 1229; the
# domain notes give 5/6/7; a practitioner integration sends 10 "not found" for unknown items): unconfirmed.
LINE_ACTIONS = {UNCHANGED: "5", CHANGED: "6", REJECTED_IN_FULL: "7"}
ORDERED_QUANTITY = "21"
# QTY 6063 per outcome: 12 despatch, 83 backorder (both seen in practitioners' ORDRSPs to Amazon), 182
# cancelled (the domain notes; one practitioner integration sends 185 instead): 182 is unconfirmed.
QUANTITY_QUALIFIERS = {ACCEPTED: "12", BACKORDERED: "83", REJECTED: "182"}
# DTM 2005 for an outcome's ship date: 11 despatch date, 44 availability date. One DTM per qualifier ties each
# date to its quantity; which qualifiers Amazon reads is unconfirmed.
SHIP_DATE_QUALIFIERS = {ACCEPTED: "11", BACKORDERED: "44"}
DOCUMENT_DATE = "137"
ORDER_NUMBER = "ON"  # RFF 1153: the order we answer
REFERENCE_DATE = "171"  # DTM with RFF: the order's date
CCYYMMDD = "102"
REFERENCE_CURRENCY = "2"  # CUX 6347
ORDER_CURRENCY = "9"  # CUX 6343
NET_PRICE = "AAA"  # PRI 5125: net unit price, as Amazon's ORDERS sends it
PRODUCT_IDENTIFICATION = "5"  # PIA 4347, as Amazon's ORDERS sends it
# Item number types Amazon's ORDERS carries in LIN itself (its UK example: EN, UP); others come in PIA.
LIN_ITEM_TYPES = frozenset({"EN", "UP"})
PIA_ITEMS = 5  # a PIA holds five item numbers (C212 x 5)
# No Amazon source defines where an ORDRSP carries the rejection reason, so it carries none: the LIN action and
# QTY 182 say "not accepted" and the 855 or the API is where a reason travels.

# --- SP-API model ----------------------------------------------------------------------------------------
SPAPI_MODEL = "vendorOrders.json"
REQUEST_DEFINITION = "SubmitAcknowledgementRequest"


class AcknowledgementDocumentError(ValueError):
    """The acknowledgement cannot be said in this syntax, or breaks a rule Amazon states: nothing was written."""


class ApiAcknowledgementError(AcknowledgementDocumentError):
    """The JSON breaks Amazon's SubmitAcknowledgementRequest schema; `path` names the first place it does."""

    def __init__(self, message: str, path: str, problems: Sequence[str]) -> None:
        super().__init__(message)
        self.path = path
        self.problems = tuple(problems)


# --- X12 855 ---------------------------------------------------------------------------------------------


def render_855(
    ack: Acknowledgement,
    *,
    sender_id: str,
    receiver_id: str,
    isa13: int,
    gs06: str,
    st02: str,
    prepared_at: datetime,
    version: str = "004010",
    usage: str = "P",
) -> str:
    """The 855 interchange (one group, one set) as X12 text, validated by our 855 map for `version`.

    `sender_id` is our interchange and application id (ISA06, GS02), `receiver_id` Amazon's (ISA08, GS03).
    Raises `X12WriteError` when the set breaks the map, `AcknowledgementDocumentError` for a unit X12 cannot say.
    """
    _check_amazon_rules(ack)
    return write_one_set(
        PURCHASE_ORDER_ACKNOWLEDGEMENT_GROUP,
        OutboundSet("855", st02, _855_body(ack)),
        sender_id=sender_id,
        receiver_id=receiver_id,
        isa13=isa13,
        gs06=gs06,
        prepared_at=prepared_at,
        version=version,
        usage=usage,
    )


def write_one_set(
    functional_id: str,
    transaction_set: OutboundSet,
    *,
    sender_id: str,
    receiver_id: str,
    isa13: int,
    gs06: str,
    prepared_at: datetime,
    version: str,
    usage: str,
) -> str:
    """One transaction set in its own group and interchange, from us to Amazon under mutually defined ids,
    as X12 text checked against our map for `version` (every document we send is one set per interchange)."""
    group = OutboundGroup(functional_id, sender_id, receiver_id, gs06, version, [transaction_set])
    interchange = OutboundInterchange(
        sender_qualifier=MUTUALLY_DEFINED_ID,
        sender_id=sender_id,
        receiver_qualifier=MUTUALLY_DEFINED_ID,
        receiver_id=receiver_id,
        control_number=isa13,
        prepared_at=prepared_at,
        version=version[:5],
        usage=usage,
        groups=[group],
    )
    return write_x12(interchange, x12_separators(version))


def x12_separators(version: str) -> Separators:
    # From 00402 on ISA11 is the repetition separator, which the writer only fills in when it is given one.
    return Separators(repetition="^") if version[:5] >= "00402" else Separators()


def _855_body(ack: Acknowledgement) -> list[SegmentValues]:
    bak02 = WITHOUT_CHANGE if ack.is_unchanged else WITH_CHANGE
    body: list[SegmentValues] = [
        ("BAK", ORIGINAL, bak02, ack.po_number, ccyymmdd(ack.po_date), "", "", "", ack.sales_order_number or "")
    ]
    if ack.ship_to_id:
        body.append(("N1", SHIP_TO, "", ack.ship_to_qualifier or "", ack.ship_to_id))
    for line in ack.lines:
        unit = unit_code(line, X12)
        identifiers = [part for identifier in line.identifiers for part in (identifier.qualifier, identifier.value)]
        body.append(
            ("PO1", line.line_id, quantity_text(line.ordered_quantity), unit, money_text(line.unit_cost),
             PRICE_PER_EACH, *identifiers)
        )  # fmt: skip
        body += [_ack_segment(outcome, unit) for outcome in line.outcomes]
    hash_total = sum((line.ordered_quantity for line in ack.lines), Decimal(0))
    body.append(("CTT", str(len(ack.lines)), quantity_text(hash_total)))
    return body


def _ack_segment(outcome: LineOutcome, unit: str) -> SegmentValues:
    code = ACK_CODES[(outcome.status, outcome.rejection_reason)]
    if outcome.ship_date is None:
        return ("ACK", code, quantity_text(outcome.quantity), unit)
    return ("ACK", code, quantity_text(outcome.quantity), unit, CURRENT_SCHEDULE_SHIP, ccyymmdd(outcome.ship_date))


# --- EDIFACT ORDRSP --------------------------------------------------------------------------------------


def render_ordrsp(
    ack: Acknowledgement,
    *,
    sender_id: str,
    receiver_id: str,
    unb_reference: str,
    unh_reference: str,
    prepared_at: datetime,
) -> bytes:
    """The ORDRSP interchange (one message) as bytes, validated by our D.96A ORDRSP definition.

    `sender_id` is our GLN (UNB sender, NAD+SU), `receiver_id` Amazon's (UNB recipient, NAD+BY). Raises
    `InvalidDocument` when a segment breaks the definition, `AcknowledgementDocumentError` for an answer the
    ORDRSP cannot carry (two quantities of one status on a line, whose dates it could not tell apart).
    """
    _check_amazon_rules(ack)
    envelope = Envelope(
        syntax=SYNTAX,
        version=SYNTAX_VERSION,
        sender=(sender_id, EAN_PARTY),
        recipient=(receiver_id, EAN_PARTY),
        prepared=prepared_at,
        reference=unb_reference,
    )
    message = OutboundMessage(unh_reference, ORDRSP, _ordrsp_body(ack, sender_id, receiver_id), EANCOM_ORDRSP)
    return write_interchange(envelope, [message])


def _ordrsp_body(ack: Acknowledgement, sender_id: str, receiver_id: str) -> list[tuple[str, Sequence[Value]]]:
    function, response_type = MESSAGE_CODES[_answer(ack)]
    body: list[tuple[str, Sequence[Value]]] = [
        ("BGM", [ORDER_RESPONSE, ack.po_number, function, response_type]),
        # The day we answered, in the zone the answer was given in: the business day, not UTC's.
        ("DTM", [(DOCUMENT_DATE, ccyymmdd(ack.acknowledged_at.date()), CCYYMMDD)]),
        ("RFF", [(ORDER_NUMBER, ack.po_number)]),
        ("DTM", [(REFERENCE_DATE, ccyymmdd(ack.po_date), CCYYMMDD)]),
        ("NAD", ["BY", (receiver_id, "", GLN_AGENCY)]),
        ("NAD", ["SU", (sender_id, "", GLN_AGENCY)]),
    ]
    if ack.ship_to_id:
        body.append(("NAD", ["DP", (ack.ship_to_id, "", ack.ship_to_qualifier or "")]))
    body.append(("CUX", [(REFERENCE_CURRENCY, ack.currency, ORDER_CURRENCY)]))
    for line in ack.lines:
        body += _ordrsp_line(line)
    body += [("UNS", ["S"]), ("CNT", [("2", str(len(ack.lines)))])]
    return body


def _ordrsp_line(line: AcknowledgementLine) -> list[tuple[str, Sequence[Value]]]:
    statuses = [outcome.status for outcome in line.outcomes]
    repeated = sorted({status for status in statuses if statuses.count(status) > 1})
    if repeated:
        raise AcknowledgementDocumentError(
            f"line {line.line_id}: an ORDRSP carries one {' / '.join(repeated)} quantity per line; merge the parts"
        )
    unit = unit_code(line, EDIFACT)
    in_lin, in_pia = lin_and_pia_items(line.identifiers)
    segments: list[tuple[str, Sequence[Value]]] = [
        ("LIN", [line.line_id, LINE_ACTIONS[_line_answer(line)], (in_lin.value, in_lin.qualifier) if in_lin else None])
    ]
    for start in range(0, len(in_pia), PIA_ITEMS):
        items = [(item.value, item.qualifier) for item in in_pia[start : start + PIA_ITEMS]]
        segments.append(("PIA", [PRODUCT_IDENTIFICATION, *items]))
    segments.append(("QTY", [(ORDERED_QUANTITY, quantity_text(line.ordered_quantity), unit)]))
    for outcome in line.outcomes:
        segments.append(("QTY", [(QUANTITY_QUALIFIERS[outcome.status], quantity_text(outcome.quantity), unit)]))
    for outcome in line.outcomes:
        if outcome.ship_date is not None:
            segments.append(("DTM", [(SHIP_DATE_QUALIFIERS[outcome.status], ccyymmdd(outcome.ship_date), CCYYMMDD)]))
    # The price per one piece, said explicitly (basis 1 PCE) because the quantity may be in cases.
    price = (NET_PRICE, money_text(line.unit_cost), "", "", "1", UNITS[EDIFACT][EACHES])
    segments.append(("PRI", [price]))
    return segments


def lin_and_pia_items(
    identifiers: Sequence[ProductIdentifier],
) -> tuple[ProductIdentifier | None, list[ProductIdentifier]]:
    """The item number for LIN (the first, when it is a GTIN type Amazon puts there) and the rest for PIA."""
    if identifiers and identifiers[0].qualifier in LIN_ITEM_TYPES:
        return identifiers[0], list(identifiers[1:])
    return None, list(identifiers)


def _answer(ack: Acknowledgement) -> str:
    if ack.is_rejected:
        return REJECTED_IN_FULL
    return UNCHANGED if ack.is_unchanged else CHANGED


def _line_answer(line: AcknowledgementLine) -> str:
    if line.is_unchanged:
        return UNCHANGED
    return REJECTED_IN_FULL if line.quantity(REJECTED) == line.ordered_quantity else CHANGED


# --- SP-API JSON -----------------------------------------------------------------------------------------


def render_api_acknowledgement(ack: Acknowledgement, *, selling_party_id: str) -> str:
    """The `submitAcknowledgement` body (SubmitAcknowledgementRequest) as indented JSON, held to Amazon's schema.

    Keys follow the order of Amazon's model; money and quantities are never floats (amounts are strings,
    quantities integers as the model requires). Dates are ISO 8601 in UTC; a ship date is that day at 00:00Z.
    Raises `AcknowledgementDocumentError` (or its `ApiAcknowledgementError`) when the JSON cannot be valid.
    """
    _check_amazon_rules(ack)
    payload = {
        "acknowledgements": [
            {
                "purchaseOrderNumber": ack.po_number,
                "sellingParty": {"partyId": selling_party_id},
                "acknowledgementDate": iso_utc(ack.acknowledged_at),
                "items": [_api_item(line, ack.currency) for line in ack.lines],
            }
        ]
    }
    validate_api_acknowledgement(payload)
    return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"


def validate_api_acknowledgement(payload: dict[str, Any]) -> None:
    """Hold `payload` to SubmitAcknowledgementRequest from Amazon's Vendor Orders model.

    Raises `ApiAcknowledgementError` naming the JSON path of the first problem (``$.acknowledgements[0].items[1]
    .netCost.amount``); for a missing property the path ends in that property. `problems` lists them all.
    """
    problems = schema_problems(request_validator(SPAPI_MODEL, REQUEST_DEFINITION), payload)
    if not problems:
        return
    raise ApiAcknowledgementError(
        f"the acknowledgement breaks Amazon's {REQUEST_DEFINITION} schema at {problems[0]}",
        problems[0].path,
        [str(problem) for problem in problems],
    )


def _api_item(line: AcknowledgementLine, currency: str) -> dict[str, Any]:
    item: dict[str, Any] = {"itemSequenceNumber": line.line_id}
    item.update(api_product_identifiers(line.identifiers))
    item["orderedQuantity"] = _api_quantity(line, line.ordered_quantity)
    item["netCost"] = {"currencyCode": currency, "amount": money_text(line.unit_cost)}
    item["itemAcknowledgements"] = [_api_outcome(line, outcome) for outcome in line.outcomes]
    return item


def _api_outcome(line: AcknowledgementLine, outcome: LineOutcome) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "acknowledgementCode": outcome.status,
        "acknowledgedQuantity": _api_quantity(line, outcome.quantity),
    }
    if outcome.ship_date is not None:
        answer["scheduledShipDate"] = f"{outcome.ship_date.isoformat()}T00:00:00Z"
    if outcome.rejection_reason is not None:
        answer["rejectionReason"] = outcome.rejection_reason
    return answer


def _api_quantity(line: AcknowledgementLine, quantity: Decimal) -> dict[str, Any]:
    unit = unit_code(line, API)
    amount: dict[str, Any] = {"amount": _whole(quantity, f"line {line.line_id}: quantity"), "unitOfMeasure": unit}
    if unit == UNITS[API][CASES]:
        if line.unit_size is None:
            raise AcknowledgementDocumentError(f"line {line.line_id} is in cases but has no case size (unitSize)")
        amount["unitSize"] = _whole(line.unit_size, f"line {line.line_id}: case size")
    return amount


def _whole(value: Decimal, what: str) -> int:
    if value != value.to_integral_value():
        raise AcknowledgementDocumentError(f"{what} {value} is not whole; Amazon's API takes whole numbers only")
    return int(value)


# --- the outbox ------------------------------------------------------------------------------------------


def write_acknowledgement(
    ack: Acknowledgement,
    outbox: Outbox,
    *,
    standard: str,
    our_id: str,
    partner_id: str,
    related_inbound: str | None = None,
) -> OutboundDocument:
    """Render `ack` in `standard` (X12, EDIFACT or API) and write it to the outbox as one new file.

    X12 and EDIFACT carry `our_id` as sender and `partner_id` as receiver, with fresh control numbers
    (`pipelines.edi.outbound.write_outbound`); API goes to Amazon with the vendor code as selling party. Raises a
    ValueError, writing nothing, when the document fails its map, definition or schema.
    """
    return write_outbound(
        outbox,
        standard=standard,
        document_types=DOCUMENT_TYPES,
        partner_id=partner_id,
        x12=lambda controls, prepared_at: render_855(
            ack,
            sender_id=our_id,
            receiver_id=partner_id,
            isa13=controls.isa13,
            gs06=controls.gs06,
            st02=controls.st02,
            prepared_at=prepared_at,
        ),
        edifact=lambda controls, prepared_at: render_ordrsp(
            ack,
            sender_id=our_id,
            receiver_id=partner_id,
            unb_reference=controls.unb,
            unh_reference=controls.unh,
            prepared_at=prepared_at,
        ),
        api=lambda _prepared_at: render_api_acknowledgement(ack, selling_party_id=ack.vendor_code),
        related_inbound=related_inbound,
    )


# --- shared ----------------------------------------------------------------------------------------------


def _check_amazon_rules(ack: Acknowledgement) -> None:
    """What Amazon states for every channel and the model does not hold: a unit cost above zero."""
    for line in ack.lines:
        if line.unit_cost <= 0:
            raise AcknowledgementDocumentError(
                f"line {line.line_id}: unit cost {line.unit_cost} must be above zero (Amazon rejects it otherwise)"
            )


def unit_code(line: AcknowledgementLine, standard: str) -> str:
    """The line's unit as `standard` says it: echoed when it already is one of its codes, else translated.

    An EDIFACT quantity without a unit (as Amazon's ORDERS sends it) stays without one.
    """
    codes = UNITS[standard]
    if line.unit_of_measure in codes.values() or (standard == EDIFACT and not line.unit_of_measure):
        return line.unit_of_measure
    kind = UNIT_KINDS.get(line.unit_of_measure)
    if kind is None:
        raise AcknowledgementDocumentError(
            f"line {line.line_id}: unit {line.unit_of_measure!r} is not one we can say in {standard}"
            f" ({', '.join(sorted(UNIT_KINDS))})"
        )
    return codes[kind]


def quantity_text(value: Decimal) -> str:
    """A quantity as EDI writes it: 12 (never 12.000 or 1.2E+1), 2.5 when it has a fraction."""
    if value == value.to_integral_value():
        return str(int(value))
    return format(value.normalize(), "f")


def money_text(value: Decimal) -> str:
    """An amount in plain notation at the scale it was given (24.50 stays 24.50; never an exponent)."""
    return format(value, "f")


def ccyymmdd(day: date) -> str:
    return day.strftime("%Y%m%d")


def iso_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
