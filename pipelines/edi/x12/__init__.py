"""X12 for Amazon Vendor Central: read any interchange, validate each set with our pyx12 maps, translate it
to the shared document model, write X12 (validated before it leaves) and answer with 997s.

- `read_x12(data, file_name)` → `ParsedFile` (`FileRejected` when the envelope is unreadable)
- `functional_acks(data, parsed, outbox, our_id)` → one 997 per inbound functional group, in the outbox
- `write_x12(OutboundInterchange(...))` → X12 text, validated by its maps
- `default_registry()` / `MapRegistry` → our maps (``maps/maps.xml``), found by GS08 + ST01
"""

from pipelines.edi.x12.ack import functional_acks
from pipelines.edi.x12.inbound import read_x12
from pipelines.edi.x12.reader import Separators, parse_interchange
from pipelines.edi.x12.validator import Issue, MapRegistry, default_registry
from pipelines.edi.x12.writer import OutboundGroup, OutboundInterchange, OutboundSet, X12WriteError, write_x12

__all__ = [
    "Issue",
    "MapRegistry",
    "OutboundGroup",
    "OutboundInterchange",
    "OutboundSet",
    "Separators",
    "X12WriteError",
    "default_registry",
    "functional_acks",
    "parse_interchange",
    "read_x12",
    "write_x12",
]
