"""Writing one business document to Amazon through the outbox, whatever its channel.

An acknowledgement, a ship notice and an invoice each render three ways (X12, EDIFACT, SP-API JSON). What
is common to all of them lives here: fresh control numbers from the outbox's series (so they survive
restarts and never repeat), the document's preparation time from the outbox clock, and the one file
written and registered. A renderer that refuses its document raises a ValueError and nothing is written;
control numbers it took stay unused, which Amazon accepts (it checks they do not repeat, not that they are
consecutive).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from pipelines.edi.outbox import OutboundDocument, Outbox

X12 = "X12"
EDIFACT = "EDIFACT"
API = "API"
STANDARDS = (X12, EDIFACT, API)
# An SP-API request goes to Amazon itself, not to an EDI partner id.
API_PARTNER = "AMAZON"


@dataclass(frozen=True)
class X12Controls:
    isa13: int  # interchange, per partner
    gs06: str  # functional group, per partner
    st02: str  # transaction set, one series for all partners

    def record(self) -> dict[str, str]:
        return {"ISA13": f"{self.isa13:09d}", "GS06": self.gs06, "ST02": self.st02}


@dataclass(frozen=True)
class EdifactControls:
    unb: str  # interchange reference, per partner
    unh: str  # message reference

    def record(self) -> dict[str, str]:
        return {"UNB": self.unb, "UNH": self.unh}


def write_outbound(
    outbox: Outbox,
    *,
    standard: str,
    document_types: Mapping[str, str],
    partner_id: str,
    x12: Callable[[X12Controls, datetime], str | bytes],
    edifact: Callable[[EdifactControls, datetime], str | bytes],
    api: Callable[[datetime], str],
    related_inbound: str | None = None,
) -> OutboundDocument:
    """Render with the renderer of `standard` and write the result to the outbox as one new file.

    X12 takes series ``x12:ISA13:<partner>``, ``x12:GS06:<partner>`` and ``x12:ST02``; EDIFACT
    ``edifact:UNB:<partner>`` and ``edifact:UNH``; an API request has no control numbers and goes to partner
    AMAZON (the outbox names its file by the document id). `document_types` names the document per standard
    (e.g. 856 / DESADV / SHIPMENT_CONFIRMATION).
    """
    prepared_at = outbox.clock()
    if prepared_at.tzinfo is None:
        raise ValueError("the outbox clock must return timezone-aware datetimes")
    prepared_at = prepared_at.astimezone(UTC)
    numbers = outbox.control_numbers
    if standard == X12:
        controls = X12Controls(
            isa13=numbers.next(f"x12:ISA13:{partner_id}"),
            gs06=str(numbers.next(f"x12:GS06:{partner_id}")),
            st02=f"{numbers.next('x12:ST02'):04d}",
        )
        content, partner, record, extension = x12(controls, prepared_at), partner_id, controls.record(), "edi"
    elif standard == EDIFACT:
        interchange = EdifactControls(
            unb=str(numbers.next(f"edifact:UNB:{partner_id}")), unh=str(numbers.next("edifact:UNH"))
        )
        content, partner, record, extension = (
            edifact(interchange, prepared_at),
            partner_id,
            interchange.record(),
            "edi",
        )
    elif standard == API:
        content, partner, record, extension = api(prepared_at), API_PARTNER, {}, "json"
    else:
        raise ValueError(f"unknown standard {standard!r}: one of {', '.join(STANDARDS)}")
    return outbox.write(
        document_type=document_types[standard],
        standard=standard,
        partner=partner,
        content=content,
        control_numbers=record,
        related_inbound=related_inbound,
        extension=extension,
    )
