"""EDIFACT for Amazon Vendor Central (EU/UK): read interchanges, write them, acknowledge them with CONTRL.

- `read_edifact(data, file_name) -> ParsedFile`: one interchange (UNA optional, UNB..UNZ, functional groups
  allowed); each message UNH..UNT is held to our D.96A definition and translated (ORDERS → PurchaseOrder,
  REMADV → RemittancePayment, CONTRL / APERAK → InboundAcknowledgement), or quarantined with its first problem
  ("segment 12 (QTY), element 1", counted from UNH = 1). UNT/UNE/UNZ count and reference mismatches go to
  `envelope_errors`; a message whose UNT does not add up is also quarantined. Raises `FileRejected` when the
  file is not one readable interchange: empty, binary, no UNB, truncated, bytes its syntax identifier's
  character set does not allow (UNOA/UNOB ASCII, UNOC Latin-1, UNOW/UNOY UTF-8 ...).
- `write_interchange(envelope, messages, chars) -> bytes`: every segment validated before it is written.
- `contrl_acks(data, parsed, outbox, our_id) -> list[OutboundDocument]`: the CONTRL for an interchange.

Definitions are Python data (`definitions`, `d96a`, `service`); `pipelines.amazon.edifact` maps messages to
documents.
"""

from pipelines.edi.edifact.contrl import contrl_acks
from pipelines.edi.edifact.reader import read_edifact, read_interchange
from pipelines.edi.edifact.writer import Envelope, InvalidDocument, OutboundMessage, write_interchange

__all__ = [
    "Envelope",
    "InvalidDocument",
    "OutboundMessage",
    "contrl_acks",
    "read_edifact",
    "read_interchange",
    "write_interchange",
]
