"""X12 envelopes: bytes → one interchange of functional groups of transaction sets, no map involved.

The separators are whatever the ISA declares: the element separator is ISA character 4, the component
(sub-element) separator ISA16 and the segment terminator the character after ISA16; line breaks after a
terminator are allowed and ignored. Every count and control number in the trailers (SE, GE, IEA) is
checked; a mismatch is an envelope error with its position, recorded on the interchange (for
`ParsedFile.envelope_errors`) and on the set or group it concerns, with the 997 code that reports it.

Only what makes the interchange itself unreadable raises `FileRejected`: no ISA, an ISA that is not
106 fixed-width characters, a file that ends inside a segment or before IEA, a second interchange.
Positions are segment numbers in the file, counting the ISA as segment 1.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from itertools import pairwise

from pipelines.amazon.documents import FileRejected

ISA_LENGTH = 106
# Where the element separator must sit in a fixed-width ISA (0-based), after "ISA" and each of ISA01..ISA15.
ISA_SEPARATOR_POSITIONS = (3, 6, 17, 20, 31, 34, 50, 53, 69, 76, 81, 83, 89, 99, 101, 103)
ISA_COMPONENT_POSITION = 104
ISA_TERMINATOR_POSITION = 105
# 997 AK5 transaction set syntax error codes (data element 718) and AK9 group codes (716) the reader reports.
SET_CONTROL_NUMBER_MISMATCH = "3"
SET_SEGMENT_COUNT_MISMATCH = "4"
SET_TRAILER_MISSING = "2"
GROUP_TRAILER_MISSING = "3"
GROUP_CONTROL_NUMBER_MISMATCH = "4"
GROUP_SET_COUNT_MISMATCH = "5"

# CR/LF after a terminator is layout, not data; so is a UTF-8 byte order mark or white space before the ISA.
_LAYOUT = "\r\n"


@dataclass(frozen=True)
class Separators:
    """The delimiters of one interchange."""

    element: str = "*"
    component: str = ">"
    segment: str = "~"
    repetition: str | None = None  # ISA11 from 00402 on; None where ISA11 is the standards identifier "U"

    def __post_init__(self) -> None:
        chars = [self.element, self.component, self.segment] + ([self.repetition] if self.repetition else [])
        if any(len(char) != 1 for char in chars):
            raise ValueError(f"X12 separators are single characters: {chars!r}")
        if len(set(chars)) != len(chars):
            raise ValueError(f"X12 separators must all differ: {chars!r}")
        if any(char.isalnum() or char == " " for char in chars):
            raise ValueError(f"an X12 separator cannot be a letter, digit or space: {chars!r}")


@dataclass(frozen=True, slots=True)
class Segment:
    """One segment: its tag, its elements (element 1 first) and its number in the file (ISA = 1)."""

    tag: str
    elements: tuple[str, ...]
    number: int

    def element(self, position: int) -> str:
        """The element at 1-based `position`; "" when the segment stops before it."""
        return self.elements[position - 1] if 0 < position <= len(self.elements) else ""

    def at(self, element: int | None = None) -> str:
        """This segment's position for humans: ``segment 14 (PO1)`` or ``segment 14 (PO1), element 4``."""
        where = f"segment {self.number} ({self.tag})"
        return f"{where}, element {element}" if element is not None else where


@dataclass(frozen=True)
class EnvelopeError:
    """A trailer count/control problem: the 997 code that reports it and a message with its position."""

    code: str
    message: str


@dataclass
class TransactionSet:
    header: Segment  # ST
    body: list[Segment] = field(default_factory=list)
    trailer: Segment | None = None  # SE; None when the set was never closed
    errors: list[EnvelopeError] = field(default_factory=list)

    @property
    def set_id(self) -> str:
        return self.header.element(1)

    @property
    def control_number(self) -> str:
        return self.header.element(2)

    @property
    def segments(self) -> list[Segment]:
        """ST, the body and SE (when present): what SE01 counts and what a map validates."""
        return [self.header, *self.body, *([self.trailer] if self.trailer else [])]


@dataclass
class FunctionalGroup:
    header: Segment  # GS
    sets: list[TransactionSet] = field(default_factory=list)
    trailer: Segment | None = None  # GE
    errors: list[EnvelopeError] = field(default_factory=list)

    @property
    def functional_id(self) -> str:
        return self.header.element(1)

    @property
    def application_sender(self) -> str:
        return self.header.element(2)

    @property
    def control_number(self) -> str:
        return self.header.element(6)

    @property
    def version(self) -> str:
        return self.header.element(8)


@dataclass
class Interchange:
    header: Segment  # ISA
    separators: Separators
    groups: list[FunctionalGroup] = field(default_factory=list)
    trailer: Segment | None = None  # IEA
    errors: list[str] = field(default_factory=list)  # every envelope problem, in file order

    @property
    def sender_qualifier(self) -> str:
        return self.header.element(5)

    @property
    def sender_id(self) -> str:
        return self.header.element(6).strip()

    @property
    def receiver_qualifier(self) -> str:
        return self.header.element(7)

    @property
    def receiver_id(self) -> str:
        return self.header.element(8).strip()

    @property
    def version(self) -> str:
        return self.header.element(12)

    @property
    def control_number(self) -> str:
        return self.header.element(13)

    @property
    def usage(self) -> str:
        """ISA15: P production, T test."""
        return self.header.element(15)

    @property
    def prepared_at(self) -> datetime | None:
        """ISA09 + ISA10, without a time zone: X12 does not say which one the sender meant."""
        try:
            return datetime.strptime(self.header.element(9) + self.header.element(10), "%y%m%d%H%M")  # noqa: DTZ007
        except ValueError:
            return None


def decode(data: bytes) -> str:
    """X12 text from bytes: UTF-8 when it is, else Latin-1 (one character per byte, so nothing is lost and a
    stray byte becomes an invalid character that map validation reports with its position)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def parse_interchange(data: bytes) -> Interchange:
    """Split `data` into its interchange, groups and sets; raise `FileRejected` when that is impossible."""
    text = decode(data).lstrip("\ufeff \t\r\n")
    if not text:
        raise FileRejected("the file is empty")
    if not text.startswith("ISA"):
        raise FileRejected(f"not an X12 interchange: the file starts with {text[:10]!r}, not ISA", "character 1")
    separators = _read_separators(text)
    isa = Segment("ISA", _isa_elements(text), 1)
    interchange = Interchange(isa, separators)
    if interchange.prepared_at is None:
        interchange.errors.append(
            f"{isa.at(9)}: ISA09/ISA10 {isa.element(9)!r} {isa.element(10)!r} is not a date and time"
        )
    _read_body(interchange, text[ISA_LENGTH:])
    return interchange


def _read_separators(text: str) -> Separators:
    isa = "segment 1 (ISA)"
    if len(text) < ISA_LENGTH:
        raise FileRejected(f"truncated: the ISA segment is {len(text)} characters, an ISA has {ISA_LENGTH}", isa)
    element = text[3]
    for position in ISA_SEPARATOR_POSITIONS:
        if text[position] != element:
            raise FileRejected(
                f"the ISA is not fixed-width: character {position + 1} should be the element separator"
                f" {element!r} but is {text[position]!r} (ISA fields must be padded to their full width)",
                isa,
            )
    # ISA11 is the repetition separator from version 00402 on; before, it is the standards identifier (U).
    repetition = text[82] if text[84:89] >= "00402" and not text[82].isalnum() else None
    try:
        return Separators(
            element=element,
            component=text[ISA_COMPONENT_POSITION],
            segment=text[ISA_TERMINATOR_POSITION],
            repetition=repetition,
        )
    except ValueError as error:
        raise FileRejected(f"unusable separators in the ISA: {error}", isa) from None


def _isa_elements(text: str) -> tuple[str, ...]:
    """ISA01 … ISA16 cut at their fixed positions (a separator character inside a field is corruption)."""
    bounds = [*ISA_SEPARATOR_POSITIONS, ISA_TERMINATOR_POSITION]
    elements = tuple(text[start + 1 : end] for start, end in pairwise(bounds))
    for number, value in enumerate(elements[:15], start=1):
        if text[3] in value:
            raise FileRejected(f"ISA{number:02d} {value!r} contains the element separator", "segment 1 (ISA)")
    return elements


class _Builder:
    """The state of one pass over the segments after the ISA."""

    def __init__(self, interchange: Interchange) -> None:
        self.interchange = interchange
        self.group: FunctionalGroup | None = None
        self.set: TransactionSet | None = None
        self.outside: Segment | None = None  # first segment of a run outside any set, reported once
        self.handlers = {
            "ISA": self._second_interchange,
            "IEA": self._close_interchange,
            "GS": self._open_group,
            "GE": self._close_group,
            "ST": self._open_set,
            "SE": self._close_set,
        }

    def error(self, message: str) -> None:
        self.interchange.errors.append(message)

    def add(self, segment: Segment) -> None:
        if self.interchange.trailer is not None:
            raise FileRejected(
                f"{segment.tag} after the interchange trailer IEA: one interchange per file", segment.at()
            )
        handler = self.handlers.get(segment.tag)
        if handler is not None:
            handler(segment)
        elif self.set is not None:
            self.set.body.append(segment)
        elif self.outside is None:
            self.outside = segment
            self.error(f"{segment.at()}: outside any transaction set (no ST before it), ignored")

    def _second_interchange(self, segment: Segment) -> None:
        raise FileRejected("a second ISA before the first interchange's IEA: one interchange per file", segment.at())

    def _open_group(self, segment: Segment) -> None:
        self._close_open_group(segment)
        self.group = FunctionalGroup(segment)
        self.interchange.groups.append(self.group)
        self.outside = None

    def _open_set(self, segment: Segment) -> None:
        self._close_open_set(segment)
        if self.group is None:
            self.error(f"{segment.at()}: transaction set outside a functional group (no GS before it), ignored")
            self.outside = segment
            return
        self.set = TransactionSet(segment)
        self.group.sets.append(self.set)

    def _close_set(self, segment: Segment) -> None:
        transaction_set = self.set
        if transaction_set is None:
            if self.outside is None:
                self.error(f"{segment.at()}: SE without ST, ignored")
            self.outside = None
            return
        transaction_set.trailer = segment
        self.set = None
        counted = len(transaction_set.segments)
        declared = segment.element(1)
        if not _same_number(declared, counted):
            self._set_error(
                transaction_set,
                SET_SEGMENT_COUNT_MISMATCH,
                f"{segment.at()}: SE01 says {declared or 'nothing'} segments, the set has {counted}",
            )
        if segment.element(2) != transaction_set.control_number:
            self._set_error(
                transaction_set,
                SET_CONTROL_NUMBER_MISMATCH,
                f"{segment.at()}: SE02 {segment.element(2)!r} does not match ST02 {transaction_set.control_number!r}"
                f" ({transaction_set.header.at()})",
            )

    def _close_group(self, segment: Segment) -> None:
        self._close_open_set(segment)
        group = self.group
        self.outside = None
        if group is None:
            self.error(f"{segment.at()}: GE without GS, ignored")
            return
        group.trailer = segment
        self.group = None
        declared = segment.element(1)
        if not _same_number(declared, len(group.sets)):
            self._group_error(
                group,
                GROUP_SET_COUNT_MISMATCH,
                f"{segment.at()}: GE01 says {declared or 'nothing'} transaction sets, the group has {len(group.sets)}",
            )
        if not _same_number(segment.element(2), group.control_number):
            self._group_error(
                group,
                GROUP_CONTROL_NUMBER_MISMATCH,
                f"{segment.at()}: GE02 {segment.element(2)!r} does not match GS06 {group.control_number!r}"
                f" ({group.header.at()})",
            )

    def _close_interchange(self, segment: Segment) -> None:
        self._close_open_group(segment)
        interchange = self.interchange
        interchange.trailer = segment
        declared = segment.element(1)
        if not _same_number(declared, len(interchange.groups)):
            self.error(
                f"{segment.at()}: IEA01 says {declared or 'nothing'} functional groups,"
                f" the interchange has {len(interchange.groups)}"
            )
        if not _same_number(segment.element(2), interchange.control_number):
            self.error(
                f"{segment.at()}: IEA02 {segment.element(2)!r} does not match ISA13 {interchange.control_number!r}"
            )

    def _close_open_set(self, by: Segment) -> None:
        if self.set is not None:
            self._set_error(
                self.set,
                SET_TRAILER_MISSING,
                f"{by.at()}: the transaction set started at {self.set.header.at()} has no SE before this {by.tag}",
            )
            self.set = None

    def _close_open_group(self, by: Segment) -> None:
        self._close_open_set(by)
        if self.group is not None:
            self._group_error(
                self.group,
                GROUP_TRAILER_MISSING,
                f"{by.at()}: the functional group started at {self.group.header.at()} has no GE before this {by.tag}",
            )
            self.group = None

    def _set_error(self, transaction_set: TransactionSet, code: str, message: str) -> None:
        transaction_set.errors.append(EnvelopeError(code, message))
        self.error(message)

    def _group_error(self, group: FunctionalGroup, code: str, message: str) -> None:
        group.errors.append(EnvelopeError(code, message))
        self.error(message)


def _same_number(declared: str, actual: int | str) -> bool:
    """Whether a numeric (N0) trailer field states `actual`: leading zeros do not matter, anything else does."""
    expected = str(actual)
    if declared.isascii() and declared.isdigit() and expected.isascii() and expected.isdigit():
        return int(declared) == int(expected)
    return declared == expected


def _read_body(interchange: Interchange, body: str) -> None:
    separators = interchange.separators
    pieces = body.split(separators.segment)
    tail = pieces.pop().strip(_LAYOUT + " \t")
    # A newline terminator is often missing after the last segment (editors strip it): accept that one case.
    if tail and separators.segment in _LAYOUT:
        pieces.append(tail)
        tail = ""
    builder = _Builder(interchange)
    number = 1
    last: Segment = interchange.header
    for piece in pieces:
        raw = piece.strip(_LAYOUT)
        if not raw:
            continue
        number += 1
        tag, *elements = raw.split(separators.element)
        # A tag is at most 3 characters; a longer one is garbage, kept short enough to quote in a message.
        last = Segment(tag[:10], tuple(elements), number)
        builder.add(last)
    if tail:
        raise FileRejected(
            f"truncated: the file ends inside a segment ({tail[:30]!r} has no terminator {separators.segment!r})",
            f"segment {number + 1}",
        )
    if interchange.trailer is None:
        raise FileRejected("truncated: the file ends without the interchange trailer IEA", last.at())
