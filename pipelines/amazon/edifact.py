"""Amazon's EDIFACT messages → the shared document model.

Each translation gets a message that has already passed its D.96A definition (`pipelines.edi.edifact.d96a`),
so it walks segments in their defined order and only checks what a definition cannot: a qualifier that must be
there, control totals, amounts that must add up. Anything it cannot map with certainty raises `EdifactError`
at the segment and element concerned, which quarantines that message alone.

Mapping choices (Amazon's own EDIFACT usage is confirmed only for ORDERS, from its UK example):

- ORDERS: `po_type` is BGM 1001 as sent ("220"; no translation to X12's NE/NP/RO/CN: EDIFACT has no such
  codes, so the order type stays what Amazon wrote), `purpose` is BGM 1225 as sent (9 original, 5 replace,
  1 cancel). `unit_of_measure` is QTY 6411 as sent, "" when Amazon states none (EANCOM: the quantity is then
  in units of the identified item; which unit that is is a question for the item master, not the reader).
  `price_basis` is the PRI qualifier (AAA net, AAB gross); a price per more than one unit (PRI 5284) is
  quarantined rather than divided.
- REMADV: the payment number is the heading RFF PQ (payment reference) or AEK (payment order number), else the
  BGM number; the payment date is the heading DTM 209 (value date), else 202, 137 or 140. Per document (DOC):
  MOA 9 amount due → gross, MOA 52 → discount, MOA 12 amount remitted → paid; RFF ON → PO number, RFF IV →
  original invoice; the summary MOA 12 is the payment and must equal the documents' MOA 12.
- CONTRL / APERAK: one `InboundAcknowledgement` per message; positions in CONTRL's UCD count the segment tag as
  element 1 and are reported here in our own numbering (first data element = element 1).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from decimal import Decimal
from typing import Literal

from pipelines.amazon.documents import (
    Document,
    InboundAcknowledgement,
    ProductIdentifier,
    PurchaseOrder,
    PurchaseOrderLine,
    RemittanceLine,
    RemittancePayment,
)
from pipelines.edi.edifact.message import Message
from pipelines.edi.edifact.syntax import EdifactError, Segment

# Heading RFF qualifiers that name the payment, in order of preference.
PAYMENT_REFERENCE_QUALIFIERS = ("PQ", "AEK")
# Heading DTM qualifiers that date the payment, in order of preference.
PAYMENT_DATE_QUALIFIERS = ("209", "202", "137", "140")
# DTM qualifiers dating a document referred to in a DOC group: 137 document date, 3 invoice date.
DOCUMENT_DATE_QUALIFIERS = ("137", "3")
# Our outbound documents by the DOC 1001 / RFF qualifier an APERAK uses to name them.
DOCUMENT_TYPES = {"231": "ORDRSP", "351": "DESADV", "380": "INVOIC", "381": "INVOIC", "220": "ORDERS"}
REFERENCE_TYPES = {"AAK": "DESADV", "IV": "INVOIC", "POR": "ORDRSP"}
# ISO 9735 syntax error codes (0085) as a CONTRL reports them, for people reading the errors.
SYNTAX_ERRORS = {
    "2": "syntax version or level not supported",
    "7": "interchange recipient not actual recipient",
    "12": "invalid value",
    "13": "missing",
    "14": "value not supported in this position",
    "15": "not supported in this position",
    "16": "too many constituents",
    "17": "no agreement",
    "18": "unspecified error",
    "19": "invalid decimal notation",
    "21": "invalid character(s)",
    "22": "invalid service character(s)",
    "23": "unknown interchange sender",
    "26": "duplicate detected",
    "28": "references do not match",
    "29": "control count does not match number of instances received",
    "35": "too many repetitions",
    "36": "too many segment group repetitions",
    "37": "invalid type of character(s)",
    "39": "data element too long",
    "40": "data element too short",
}


def purchase_order(message: Message) -> PurchaseOrder:
    """ORDERS → PurchaseOrder."""
    bgm, dates, rest = _heading(message)
    references: dict[str, str] = {}
    parties: dict[str, tuple[str, str]] = {}  # NAD qualifier → (party id, code list agency: 9 = GLN)
    currency = None
    lines: list[PurchaseOrderLine] = []
    line: list[Segment] = []
    seen_party = False
    for segment in rest:
        tag = segment.tag
        if line and tag in ("LIN", "UNS"):
            lines.append(_order_line(message, line))
            line = []
        if tag == "LIN" or line:
            line.append(segment)
        elif tag == "RFF" and not seen_party:  # SG1; RFFs after the first NAD are the parties' (SG3)
            _put(references, segment.get(1, 1), segment.get(1, 2), segment)
        elif tag == "NAD":
            seen_party = True
            _put(parties, segment.get(1), (segment.get(2, 1), segment.get(2, 3)), segment)
        elif tag == "CUX" and currency is None:
            currency = segment.get(1, 2) or None
        elif tag == "CNT":
            _check_control_total(message, segment, lines)
    if "137" not in dates:
        raise EdifactError("the order has no order date (DTM+137)", bgm, code="13")
    ship_to, agency = parties.get("DP", ("", ""))
    return PurchaseOrder(
        po_number=bgm.get(2),
        po_type=bgm.get(1, 1),
        purpose=bgm.get(3),
        po_date=dates["137"],
        currency=currency,
        ship_to_qualifier=(agency or None) if ship_to else None,
        ship_to_id=ship_to or None,
        buyer_id=parties.get("BY", ("",))[0] or None,
        supplier_id=parties.get("SU", ("",))[0] or None,
        window_start=dates.get("64"),
        window_end=dates.get("63"),
        backorder_allowed=None,  # EDIFACT ORDERS carries no backorder flag (X12 CSH)
        customer_reference=references.get("CR"),
        deal_number=references.get("PD"),
        lines=tuple(lines),
        is_test=message.test,
    )


def _heading(message: Message) -> tuple[Segment, dict[str, date], list[Segment]]:
    """BGM, the message dates (the DTMs right after it, by qualifier) and the segments after them."""
    body = message.body
    dates: dict[str, date] = {}
    index = 1
    while index < len(body) and body[index].tag == "DTM":
        _put(dates, body[index].get(1, 1), message.date(body[index]), body[index])
        index += 1
    return body[0], dates, list(body[index:])


def _order_line(message: Message, segments: list[Segment]) -> PurchaseOrderLine:
    """One SG25 (LIN and what follows it) → PurchaseOrderLine."""
    lin = segments[0]
    identifiers = list(_identifiers(lin, 3, 3))
    quantity: Segment | None = None
    prices: list[Segment] = []
    for segment in segments[1:]:
        if segment.tag == "PIA":
            identifiers += _identifiers(segment, 2, 6)
        elif segment.tag == "QTY" and segment.get(1, 1) == "21" and quantity is None:
            quantity = segment
        elif segment.tag == "PRI":
            prices.append(segment)
    if not identifiers:
        raise EdifactError(f"line {lin.get(1)} identifies no product (LIN item number or PIA)", lin, element=3)
    if quantity is None:
        raise EdifactError(f"line {lin.get(1)} has no ordered quantity (QTY+21)", lin, code="13")
    amount = message.decimal(quantity, 1, 2)
    if amount < 0:
        raise EdifactError(f"ordered quantity {amount} is negative", quantity, element=1, component=2)
    price = next((p for p in prices if p.get(1, 1) == "AAA"), prices[0] if prices else None)
    unit_price = None
    if price is not None:
        basis = price.get(1, 5)
        if basis and message.decimal(price, 1, 5) != 1:
            raise EdifactError(
                f"price {price.get(1, 2)} is per {basis} units: we take prices per unit only",
                price,
                element=1,
                component=5,
            )
        unit_price = message.decimal(price, 1, 2) if price.get(1, 2) else None
    return PurchaseOrderLine(
        line_id=lin.get(1),
        quantity=amount,
        unit_of_measure=quantity.get(1, 3),
        unit_size=None,  # EDIFACT ORDERS gives no case size; Sage's item master holds it
        unit_price=unit_price,
        price_basis=price.get(1, 1) if price is not None else None,
        identifiers=tuple(identifiers),
    )


def _identifiers(segment: Segment, first: int, last: int) -> Iterable[ProductIdentifier]:
    """The C212 item numbers in data elements `first`..`last` of a LIN or PIA, as (type, number)."""
    for element, parts in enumerate(segment.elements[first - 1 : last], first):
        number, kind = parts[0], parts[1] if len(parts) > 1 else ""
        if not number:
            continue
        if not kind:
            raise EdifactError(
                f"item number {number!r} has no type (EN, UP, SA ...)",
                segment,
                element=element,
                component=2,
                code="13",
            )
        yield ProductIdentifier(kind, number)


def _check_control_total(message: Message, cnt: Segment, lines: list[PurchaseOrderLine]) -> None:
    """CNT 2 (number of lines) and CNT 1 (total ordered quantity) must match what the message holds."""
    kind, value = cnt.get(1, 1), message.decimal(cnt, 1, 2)
    actual = Decimal(len(lines)) if kind == "2" else sum((line.quantity for line in lines), Decimal(0))
    if value != actual:
        what = "lines" if kind == "2" else "total quantity"
        raise EdifactError(
            f"control total CNT+{kind} says {value} {what}, the order has {actual}",
            cnt,
            element=1,
            component=2,
            code="29",
        )


def _put(mapping: dict, key: str, value: object, segment: Segment) -> None:
    """Keep the first value per qualifier; a second, different one is a contradiction we do not resolve."""
    if key in mapping and mapping[key] != value:
        raise EdifactError(f"qualifier {key} appears twice with different values", segment, element=1)
    mapping.setdefault(key, value)


def remittance_payment(message: Message) -> RemittancePayment:
    """REMADV → RemittancePayment."""
    bgm, dates, rest = _heading(message)
    references: dict[str, str] = {}
    parties: dict[str, str] = {}
    currency = ""
    documents: list[list[Segment]] = []
    summary: list[Segment] = []
    for segment in rest:
        tag = segment.tag
        if summary or tag == "UNS":
            summary.append(segment)
        elif tag == "DOC" or documents:
            if tag == "DOC":
                documents.append([])
            documents[-1].append(segment)
        elif tag == "RFF":
            _put(references, segment.get(1, 1), segment.get(1, 2), segment)
        elif tag == "NAD":
            _put(parties, segment.get(1), segment.get(2, 1), segment)
        elif tag == "CUX" and not currency:
            currency = segment.get(1, 2)
    payment_date = next((dates[q] for q in PAYMENT_DATE_QUALIFIERS if q in dates), None)
    if payment_date is None:
        raise EdifactError("the remittance has no payment date (DTM 209, 202, 137 or 140)", bgm, code="13")
    total = next((s for s in summary if s.tag == "MOA" and s.get(1, 1) == "12"), None)
    if total is None:
        raise EdifactError("the summary has no amount remitted (MOA+12)", summary[0], code="13")
    amount = message.decimal(total, 1, 2)
    lines = tuple(_remittance_line(message, document, currency) for document in documents)
    paid = sum((line.paid_amount for line in lines), Decimal(0))
    if paid != amount:
        raise EdifactError(
            f"amount remitted {amount} is not the documents' total {paid}", total, element=1, component=2, code="12"
        )
    return RemittancePayment(
        payment_number=next((references[q] for q in PAYMENT_REFERENCE_QUALIFIERS if q in references), bgm.get(2)),
        payment_date=payment_date,
        currency=currency,
        amount=amount,
        payer_id=parties.get("PR") or None,
        payee_id=parties.get("PE") or None,
        lines=lines,
    )


def _remittance_line(message: Message, segments: list[Segment], currency: str) -> RemittanceLine:
    """One SG4 (DOC and its amounts, dates, references, adjustments) → RemittanceLine."""
    doc = segments[0]
    amounts: dict[str, Segment] = {}
    dates: dict[str, date] = {}
    references: dict[str, str] = {}
    notes: list[str] = []
    group = "DOC"  # which group a MOA / RFF / FTX belongs to: the document's own, or an adjustment's or line's
    for segment in segments[1:]:
        tag = segment.tag
        if tag in ("CUX", "AJT", "DLI"):
            group = tag
        if group == "DOC" and tag == "MOA":
            amounts.setdefault(segment.get(1, 1), segment)
        elif group == "DOC" and tag == "DTM":
            dates.setdefault(segment.get(1, 1), message.date(segment))
        elif group == "DOC" and tag == "RFF":
            references.setdefault(segment.get(1, 1), segment.get(1, 2))
        elif group == "AJT" and tag == "FTX":
            notes.append(" ".join(part for part in segment.composite(4) if part))
    number = doc.get(2, 1)
    for qualifier, meaning in (("9", "amount due"), ("12", "amount remitted")):
        if qualifier not in amounts:
            raise EdifactError(f"document {number} has no {meaning} (MOA+{qualifier})", doc, code="13")
    discount = amounts.get("52")
    return RemittanceLine(
        invoice_number=number,
        invoice_date=next((dates[q] for q in DOCUMENT_DATE_QUALIFIERS if q in dates), None),
        description=doc.get(1, 4) or "; ".join(notes) or None,
        gross_amount=message.decimal(amounts["9"], 1, 2),
        discount_amount=message.decimal(discount, 1, 2) if discount else Decimal(0),
        paid_amount=message.decimal(amounts["12"], 1, 2),
        remaining_amount=None,  # a remittance advice states what is paid, not what is left
        currency=amounts["9"].get(1, 3) or currency or None,
        po_number=references.get("ON"),
        transaction_type=doc.get(1, 1),
        original_invoice_number=references.get("IV"),
    )


Status = Literal["accepted", "accepted_with_errors", "rejected"]


def contrl_acknowledgement(message: Message) -> InboundAcknowledgement:
    """CONTRL (Amazon's syntax answer to an interchange we sent) → InboundAcknowledgement."""
    uci = message.body[0]
    errors: list[str] = []
    if uci.get(5):
        errors.append(f"interchange {uci.get(1)}: {_syntax_error(uci.get(5), uci.get(6), uci, 7)}")
    responses: list[tuple[str, str]] = []  # (message type, action) per UCM
    current = ""
    for segment in message.body[1:]:
        if segment.tag == "UCM":
            current = f"message {segment.get(1)} ({segment.get(2, 1)})"
            responses.append((segment.get(2, 1), segment.get(3)))
            if segment.get(4):
                errors.append(f"{current}: {_syntax_error(segment.get(4), segment.get(5), segment, 6)}")
            elif segment.get(3) == "4":
                errors.append(f"{current}: rejected")
        elif segment.tag == "UCS":
            where = f"{current}: segment {segment.get(1)}"
            errors.append(f"{where}: error {_describe(segment.get(2))}" if segment.get(2) else where)
        elif segment.tag == "UCD":
            element, component = _element_position(segment, 2)
            errors[-1] += f", element {element}{component}: error {_describe(segment.get(1))}"
        elif segment.tag == "UCF" and segment.get(5):
            errors.append(f"group {segment.get(1)}: {_syntax_error(segment.get(5), segment.get(6), segment, 7)}")
    action = uci.get(4)
    rejected = sum(response == "4" for _, response in responses)
    if action == "4" or (responses and rejected == len(responses)):
        status: Status = "rejected"
    elif rejected or action == "6" or errors:
        status = "accepted_with_errors"
    else:
        status = "accepted"
    types = {kind for kind, _ in responses}
    return InboundAcknowledgement(
        kind="CONTRL",
        acknowledged_control_number=uci.get(1),
        acknowledged_document_type=types.pop() if len(types) == 1 else None,
        status=status,
        errors=tuple(errors),
    )


def _syntax_error(code: str, tag: str, segment: Segment, s011: int) -> str:
    where = f" in {tag}" if tag else ""
    if segment.get(s011):
        element, component = _element_position(segment, s011)
        where += f", element {element}{component}"
    return f"error {_describe(code)}{where}"


def _element_position(segment: Segment, s011: int) -> tuple[int | str, str]:
    """S011 as our numbering: its 0098 counts the segment tag as 1, ours counts the first data element as 1."""
    position = segment.get(s011, 1)
    element: int | str = int(position) - 1 if position.isdigit() else position
    component = segment.get(s011, 2)
    return element, f", component {component}" if component else ""


def _describe(code: str) -> str:
    return f"{code} ({SYNTAX_ERRORS[code]})" if code in SYNTAX_ERRORS else code


def application_acknowledgement(message: Message) -> InboundAcknowledgement:
    """APERAK (Amazon's application answer to a document we sent) → InboundAcknowledgement."""
    bgm = message.body[0]
    document: Segment | None = None
    references: dict[str, str] = {}
    errors: list[str] = []
    in_error = False
    for segment in message.body[1:]:
        tag = segment.tag
        if tag == "DOC" and document is None:
            document = segment
        elif tag == "RFF" and not in_error:
            references.setdefault(segment.get(1, 1), segment.get(1, 2))
        elif tag == "ERC":
            in_error = True
            errors.append(f"error {segment.get(1, 1)}")
        elif tag == "FTX" and in_error:
            errors[-1] += ": " + " ".join(part for part in segment.composite(4) if part)
        elif tag == "RFF":  # SG5: what the error refers to
            errors[-1] += f" (reference {segment.get(1, 1)} {segment.get(1, 2)})"
    number = references.get("ACW") or (document.get(2, 1) if document else "") or next(iter(references.values()), "")
    if not number:
        raise EdifactError("the APERAK names no document it answers (RFF or DOC)", bgm, code="13")
    kind = DOCUMENT_TYPES.get(document.get(1, 1)) if document else None
    kind = kind or next((REFERENCE_TYPES[q] for q in references if q in REFERENCE_TYPES), None)
    response = bgm.get(4)
    if response == "RE" or (not response and errors):
        status: Status = "rejected"
    elif errors or response == "CA":
        status = "accepted_with_errors"
    else:
        status = "accepted"
    return InboundAcknowledgement(
        kind="APERAK",
        acknowledged_control_number=number,
        acknowledged_document_type=kind,
        status=status,
        errors=tuple(errors),
    )


TRANSLATORS: dict[str, Callable[[Message], Document]] = {
    "ORDERS": purchase_order,
    "REMADV": remittance_payment,
    "CONTRL": contrl_acknowledgement,
    "APERAK": application_acknowledgement,
}
