"""CONTRL: our syntax acknowledgement of every interchange Amazon sends (ISO 9735-4 / EANCOM CONTRL).

One CONTRL per inbound interchange: UCI answers the interchange (7 acknowledged; 6 when its UNZ count or
reference is wrong, so that UNB/UNZ are rejected while the messages are answered one by one), then one UCM
per message, 7 for a message we took and 4 for one we quarantined, with UCS (segment position, counted from
UNH = 1) and UCD (data element position, counted from the segment tag = 1, as S011 requires) saying where.

A CONTRL is never acknowledged with a CONTRL (ISO 9735-4), so an interchange of CONTRLs gets none. The reply
uses the inbound's syntax level and version and, if it had one, its service string advice: what Amazon wrote,
Amazon reads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipelines.amazon.documents import ParsedFile
from pipelines.edi.edifact import service
from pipelines.edi.edifact.reader import Interchange, MessageResult, read_interchange
from pipelines.edi.edifact.syntax import DEFAULT_CHARS, EdifactError
from pipelines.edi.edifact.writer import Envelope, OutboundMessage, Value, write_interchange

if TYPE_CHECKING:
    from pipelines.edi.outbox import OutboundDocument, Outbox

ACCEPTED = "7"
REJECTED = "4"
UNB_UNZ_REJECTED = "6"


def contrl_acks(
    data: bytes, parsed: ParsedFile, outbox: Outbox, our_id: str, *, inbound_name: str | None = None
) -> list[OutboundDocument]:
    """Write the CONTRL for the interchange in `data` (already read into `parsed`) to the outbox.

    `our_id` is our UNB sender identification. `inbound_name` (the inbound file's name) is recorded as the
    document it answers; without it the record names the inbound interchange by sender and reference.
    Returns the documents written: one, or none when the interchange holds only CONTRL messages.
    """
    interchange = read_interchange(data)
    if interchange.reference != parsed.interchange_control_number or interchange.sender != parsed.sender_id:
        raise ValueError(
            f"parsed file (interchange {parsed.interchange_control_number} from {parsed.sender_id}) was not read from"
            f" these bytes (interchange {interchange.reference} from {interchange.sender})"
        )
    if interchange.messages and all(result.message.type == "CONTRL" for result in interchange.messages):
        return []
    partner = interchange.sender
    unb = outbox.control_numbers.next(f"edifact:UNB:{partner}")
    unh = outbox.control_numbers.next("edifact:UNH")
    content = _contrl_interchange(interchange, our_id, unb_reference=str(unb), unh_reference=str(unh), outbox=outbox)
    document = outbox.write(
        document_type="CONTRL",
        standard="EDIFACT",
        partner=partner,
        content=content,
        control_numbers={"UNB": str(unb), "UNH": str(unh)},
        related_inbound=inbound_name or f"EDIFACT interchange {interchange.reference} from {partner}",
    )
    return [document]


def _contrl_interchange(
    interchange: Interchange, our_id: str, *, unb_reference: str, unh_reference: str, outbox: Outbox
) -> bytes:
    """The CONTRL interchange answering `interchange`, validated against our CONTRL definition."""
    header = interchange.header
    sender, recipient = header.composite(2), header.composite(3)
    # Address ourselves the way the partner addressed us (its qualifier for our id), when it is the same id.
    our_qualifier = recipient[1] if len(recipient) > 1 and recipient[0] == our_id else ""
    uci: list[Value] = [interchange.reference, sender, recipient, ACCEPTED]
    if interchange.trailer_error is not None:
        uci[3] = UNB_UNZ_REJECTED
        uci += _service_error(interchange.trailer_error, "UNZ")
    body: list[tuple[str, list[Value]]] = [("UCI", uci)]
    for result in interchange.messages:
        body += _message_response(result)
    spec = service.CONTRL_V2 if interchange.version == "2" else service.CONTRL_D3
    envelope = Envelope(
        syntax=interchange.syntax,
        version=interchange.version,
        sender=(our_id, our_qualifier),
        recipient=(sender[0], sender[1] if len(sender) > 1 else ""),
        prepared=outbox.clock(),
        reference=unb_reference,
        test=interchange.test,
    )
    chars = interchange.chars if interchange.has_una else DEFAULT_CHARS
    return write_interchange(envelope, [OutboundMessage(unh_reference, spec, body)], chars)


def _message_response(result: MessageResult) -> list[tuple[str, list[Value]]]:
    """UCM for one message, then UCS/UCD pointing at its first problem when it was quarantined."""
    message = result.message
    ucm: list[Value] = [message.reference, message.header.composite(2), ACCEPTED]
    error = result.error
    if error is None:
        return [("UCM", ucm)]
    ucm[2] = REJECTED
    tag = error.segment.tag if error.segment is not None else None
    if error.service or tag in ("UNH", "UNT") or error.segment is None:
        return [("UCM", ucm + _service_error(error, error.service or tag or ""))]
    position = str(error.segment.position - message.header.position + 1)
    if error.element is None:
        return [("UCM", ucm), ("UCS", [position, error.code])]
    return [("UCM", ucm), ("UCS", [position]), ("UCD", [error.code, _s011(error)])]


def _service_error(error: EdifactError, tag: str) -> list[Value]:
    """0085, 0013 and S011 for a problem in a service segment (UNH, UNT, UNZ)."""
    return [error.code, tag, _s011(error) if error.element is not None else None]


def _s011(error: EdifactError) -> tuple[str, ...]:
    # S011 0098 counts the segment tag as position 1, so our element 1 is position 2.
    position = str(error.element + 1) if error.element is not None else ""
    return (position, str(error.component)) if error.component is not None else (position,)
