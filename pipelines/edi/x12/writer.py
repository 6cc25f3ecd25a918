"""Writing X12: segments → interchange text, validated by our maps before anything is returned.

The caller gives the body of each set (the segments between ST and SE) as tuples of element values; the
writer adds ST/SE, GS/GE and ISA/IEA with their counts, pads the fixed-width ISA fields, drops trailing
empty elements, and refuses a value that contains a separator (X12 has no escape character). The text is
then read back with our own reader and every set validated with its map: a document that does not pass is
never returned (`X12WriteError`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from pipelines.edi.x12.reader import Separators, parse_interchange
from pipelines.edi.x12.validator import Issue, MapRegistry, default_registry

# An element is a value, or the components of a composite.
Element = str | Sequence[str]
SegmentValues = Sequence[Element]  # tag first, then elements 1, 2, …
# ISA fields that are padded with spaces to a fixed width: element → width.
_ISA_WIDTHS = {2: 10, 4: 10, 5: 2, 6: 15, 7: 2, 8: 15}


class X12WriteError(ValueError):
    """The document we were asked to write is not valid X12 or breaks its map: nothing was written."""

    def __init__(self, message: str, issues: Sequence[Issue] = ()) -> None:
        super().__init__(message)
        self.issues = tuple(issues)


@dataclass(frozen=True)
class OutboundSet:
    set_id: str  # ST01
    control_number: str  # ST02
    body: Sequence[SegmentValues]  # the segments between ST and SE


@dataclass(frozen=True)
class OutboundGroup:
    functional_id: str  # GS01
    application_sender: str  # GS02
    application_receiver: str  # GS03
    control_number: str  # GS06
    version: str  # GS08, e.g. 004010
    sets: Sequence[OutboundSet]


@dataclass(frozen=True)
class OutboundInterchange:
    sender_qualifier: str  # ISA05
    sender_id: str  # ISA06
    receiver_qualifier: str  # ISA07
    receiver_id: str  # ISA08
    control_number: int  # ISA13
    prepared_at: datetime  # ISA09/ISA10 and every GS04/GS05
    version: str  # ISA12, e.g. 00401
    usage: str  # ISA15: P production, T test
    groups: Sequence[OutboundGroup]


def write_x12(
    interchange: OutboundInterchange,
    separators: Separators | None = None,
    *,
    line_ending: str = "\n",
    registry: MapRegistry | None = None,
) -> str:
    """The interchange as X12 text, each segment terminator followed by `line_ending`.

    Raises `X12WriteError` when a value holds a separator, an ISA field is too long, a set has no map, or
    the written interchange breaks a map or its own envelope.
    """
    separators = separators or Separators()
    if separators.segment in "\r\n":
        line_ending = ""  # the terminator is already a line break
    segments: list[SegmentValues] = [_isa(interchange, separators)]
    for group in interchange.groups:
        date, time = interchange.prepared_at.strftime("%Y%m%d"), interchange.prepared_at.strftime("%H%M")
        segments.append(
            ("GS", group.functional_id, group.application_sender, group.application_receiver, date, time,
             group.control_number, "X", group.version)
        )  # fmt: skip
        for transaction_set in group.sets:
            segments.append(("ST", transaction_set.set_id, transaction_set.control_number))
            segments += transaction_set.body
            segments.append(("SE", str(len(transaction_set.body) + 2), transaction_set.control_number))
        segments.append(("GE", str(len(group.sets)), group.control_number))
    segments.append(("IEA", str(len(interchange.groups)), f"{interchange.control_number:09d}"))
    text = "".join(_format(segment, separators) + separators.segment + line_ending for segment in segments)
    _check(text, registry or default_registry())
    return text


def _isa(interchange: OutboundInterchange, separators: Separators) -> SegmentValues:
    # From 00402 on ISA11 is the repetition separator; before, it is the standards identifier U.
    isa11 = separators.repetition if interchange.version >= "00402" and separators.repetition else "U"
    fields = {
        1: "00",
        2: "",
        3: "00",
        4: "",
        5: interchange.sender_qualifier,
        6: interchange.sender_id,
        7: interchange.receiver_qualifier,
        8: interchange.receiver_id,
        9: interchange.prepared_at.strftime("%y%m%d"),
        10: interchange.prepared_at.strftime("%H%M"),
        11: isa11,
        12: interchange.version,
        13: f"{interchange.control_number:09d}",
        14: "0",
        15: interchange.usage,
        16: separators.component,
    }
    for element, width in _ISA_WIDTHS.items():
        if len(fields[element]) > width:
            raise X12WriteError(f"ISA{element:02d} {fields[element]!r} is longer than its {width} characters")
        fields[element] = fields[element].ljust(width)
    return ("ISA", *(fields[element] for element in range(1, 17)))


def _format(segment: SegmentValues, separators: Separators) -> str:
    tag, *elements = segment
    values = [_element(value, separators, str(tag)) for value in elements]
    if tag != "ISA":  # the ISA is fixed-width; elsewhere trailing empty elements are not written
        while values and not values[-1]:
            values.pop()
    return separators.element.join([str(tag), *values])


def _element(value: Element, separators: Separators, tag: str) -> str:
    if isinstance(value, str):
        components = [value]
    else:
        components = list(value)
        while components and not components[-1]:
            components.pop()
    reserved = {separators.element, separators.component, separators.segment, separators.repetition} - {None}
    for component in components:
        if tag != "ISA" and any(char in component for char in reserved):
            raise X12WriteError(f"{tag}: the value {component!r} contains an X12 separator")
    return separators.component.join(components)


def _check(text: str, registry: MapRegistry) -> None:
    """Read the text back as an inbound file and validate every set with its map."""
    interchange = parse_interchange(text.encode("utf-8"))
    if interchange.errors:
        raise X12WriteError(f"the written interchange has envelope errors: {interchange.errors}")
    for group in interchange.groups:
        for transaction_set in group.sets:
            transaction_map = registry.find(group.version, transaction_set.set_id)
            if transaction_map is None:
                raise X12WriteError(
                    f"no map for {transaction_set.set_id} {group.version}: we never write what we cannot validate"
                )
            issues = transaction_map.validate(transaction_set.segments, interchange.separators)
            if issues:
                found = "; ".join(f"{issue.position}: {issue.message}" for issue in issues)
                raise X12WriteError(
                    f"the {transaction_set.set_id} {transaction_set.control_number} breaks its map: {found}", issues
                )
