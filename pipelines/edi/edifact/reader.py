"""Reading an EDIFACT interchange: bytes → envelope → messages validated against our definitions → documents.

`read_interchange` keeps everything a CONTRL needs (each message's first problem with its syntax error code);
`read_edifact` turns that into the shared `ParsedFile`. A file we cannot read as one interchange raises
`FileRejected`; a message that fails is quarantined on its own, its siblings unaffected.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime

from pipelines.amazon.documents import Document, FileRejected, ParsedFile, SetResult
from pipelines.amazon.edifact import TRANSLATORS
from pipelines.edi.edifact import d96a, service
from pipelines.edi.edifact.definitions import MessageSpec, SegmentRules, SegmentSpec, Use, Validator
from pipelines.edi.edifact.message import Message
from pipelines.edi.edifact.syntax import (
    CODECS,
    DEFAULT_CHARS,
    LEVEL_B_CHARS,
    EdifactError,
    Segment,
    ServiceChars,
    control_characters,
    segment_at,
    split_segments,
)

log = logging.getLogger(__name__)

# The message definitions we hold messages to, by UNH S009 (type, version, release, agency).
SPECS: dict[tuple[str, str, str, str], MessageSpec] = {
    (spec.type, spec.version, spec.release, spec.agency): spec
    for spec in (d96a.ORDERS, d96a.REMADV, d96a.APERAK, service.CONTRL_V2, service.CONTRL_D3)
}
ENVELOPE = frozenset({"UNB", "UNG", "UNH", "UNT", "UNE", "UNZ"})


def _compiled(spec: SegmentSpec) -> SegmentRules:
    return SegmentRules(spec, Use(spec.tag, True, 1))


_UNB = {False: _compiled(service.UNB), True: _compiled(service.UNB_V4)}
_UNH, _UNT, _UNG, _UNE, _UNZ = (
    _compiled(spec) for spec in (service.UNH, service.UNT, service.UNG, service.UNE, service.UNZ)
)


@dataclass
class MessageResult:
    """A message and what became of it: a document, or the first problem found in it."""

    message: Message
    group: str | None  # UNG reference when the message sits in a functional group
    document: Document | None = None
    error: EdifactError | None = None


@dataclass
class Interchange:
    """An interchange as read: envelope, messages, and problems found in the envelope."""

    chars: ServiceChars
    has_una: bool
    syntax: str  # UNB S001 syntax identifier, e.g. UNOA
    version: str  # UNB S001 syntax version, e.g. 2
    header: Segment  # UNB
    messages: list[MessageResult] = field(default_factory=list)
    envelope_errors: list[str] = field(default_factory=list)
    trailer_error: EdifactError | None = None  # UNZ count or reference mismatch

    @property
    def sender(self) -> str:
        return self.header.get(2, 1)

    @property
    def reference(self) -> str:
        return self.header.get(5)

    @property
    def test(self) -> bool:
        return self.header.get(11) == "1"


def read_interchange(data: bytes) -> Interchange:
    """Read one interchange; raises FileRejected when the file is not one readable interchange."""
    stripped = data.removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n")
    if not stripped:
        raise FileRejected("the file is empty", "byte 0")
    chars, has_una, start = _service_chars(stripped)
    syntax, version = _syntax_identifier(stripped[start:], chars)
    text = _decode(stripped[start:], syntax, chars, len(data) - len(stripped) + start)
    segments, end = split_segments(text, chars, repetitions=version == "4")
    if end < len(text):
        raise FileRejected(
            f"the file ends inside a segment (no segment terminator {chars.terminator!r} after {text[end:][:20]!r}):"
            " it is truncated",
            f"segment {len(segments) + 1} of the interchange",
        )
    validator = Validator(chars)
    header = segments[0]
    try:
        validator.check_segment(header, _UNB[version == "4"])
    except EdifactError as error:
        raise FileRejected(f"UNB: {error.reason}", error.position()) from None
    return _Walker(segments, validator, Interchange(chars, has_una, syntax, version, header)).walk()


def read_edifact(data: bytes, file_name: str = "") -> ParsedFile:
    """Read an EDIFACT file into the shared document model (see the package docstring)."""
    interchange = read_interchange(data)
    header = interchange.header
    # The first message's directory: "D96A" for D.96A messages, "2:2" for a syntax version 2 CONTRL.
    directory = ""
    if interchange.messages:
        _, version, release, _ = interchange.messages[0].message.identifier
        directory = f" {version}{release}" if version == "D" else f" {version}:{release}"
    parsed = ParsedFile(
        format="EDIFACT",
        sender_id=interchange.sender,
        receiver_id=header.get(3, 1),
        interchange_control_number=interchange.reference,
        syntax_version=f"{interchange.syntax}:{interchange.version}{directory}",
        envelope_errors=list(interchange.envelope_errors),
        prepared_at=_prepared_at(header),
    )
    for result in interchange.messages:
        message = result.message
        parsed.sets.append(
            SetResult(
                control_number=message.reference,
                document_type=message.type,
                document=result.document,
                error=result.error.reason if result.error else None,
                position=message.position(result.error) if result.error else None,
                group_control_number=result.group,
            )
        )
    rejected = sum(result.document is None for result in interchange.messages)
    log.info("%s: %d messages, %d quarantined", file_name or "EDIFACT interchange", len(parsed.sets), rejected)
    return parsed


def _service_chars(data: bytes) -> tuple[ServiceChars, bool, int]:
    """The service characters (UNA, else the defaults of the UNB's level) and where UNB starts."""
    if data.startswith(b"UNA"):
        if len(data) < 9:
            raise FileRejected("the file ends inside the UNA service string advice", "UNA")
        try:
            chars = ServiceChars.from_una(data[3:9].decode("latin-1"))
        except ValueError as error:
            raise FileRejected(f"unusable service string advice: {error}", "UNA") from None
        start = 9 + len(data[9:]) - len(data[9:].lstrip(b"\r\n"))
        has_una = True
    else:
        start = 0
        # Without a UNA the character after "UNB" tells level B (IS3) from the usual "+".
        chars = LEVEL_B_CHARS if data[3:4] == b"\x1d" else DEFAULT_CHARS
        has_una = False
    if data[start : start + 3] != b"UNB" or data[start + 3 : start + 4] != chars.data.encode("latin-1"):
        raise FileRejected(
            "not an EDIFACT interchange: no UNB interchange header where one must start", f"byte {start}"
        )
    return chars, has_una, start


def _syntax_identifier(data: bytes, chars: ServiceChars) -> tuple[str, str]:
    """UNB S001: syntax identifier (UNOA ...) and version, read before the rest can be decoded."""
    head = data[:40].decode("latin-1")
    pattern = f"UNB{re.escape(chars.data)}([A-Z]{{4}}){re.escape(chars.component)}([1-4])"
    match = re.match(pattern, head)
    if not match:
        raise FileRejected(
            "UNB does not start with a syntax identifier and version (e.g. UNOA:2)", "segment 1 (UNB), element 1"
        )
    syntax, version = match.groups()
    if syntax not in CODECS:
        raise FileRejected(
            f"syntax identifier {syntax} is not one we read ({', '.join(sorted(CODECS))})",
            "segment 1 (UNB), element 1, component 1",
        )
    return syntax, version


def _decode(data: bytes, syntax: str, chars: ServiceChars, base: int) -> str:
    """The interchange (from UNB) as text in the character set its UNB declares; FileRejected at the first bad byte.

    `base` is where `data` starts in the file, so that positions name the file's own byte offsets.
    """
    try:
        text = data.decode(CODECS[syntax])
    except UnicodeDecodeError as error:
        raise FileRejected(
            f"byte 0x{data[error.start]:02X} is not valid {CODECS[syntax]} text, which {syntax} declares",
            _where(data, error.start, chars, base),
        ) from None
    offset = next(control_characters(text, chars), None)
    if offset is not None:
        raise FileRejected(
            f"control character 0x{ord(text[offset]):02X} in the data: binary content, not an interchange",
            _where(data, len(text[:offset].encode(CODECS[syntax])), chars, base),
        )
    return text


def _where(data: bytes, byte: int, chars: ServiceChars, base: int) -> str:
    """Segment and file byte offset of a bad byte, found on a byte-for-byte (Latin-1) reading of `data`."""
    segments, _ = split_segments(data.decode("latin-1"), chars)
    segment = segment_at(segments, byte)
    where = f"byte {base + byte}"
    return f"segment {segment.position} ({segment.tag}) of the interchange, {where}" if segment else where


def _count(value: str) -> int | None:
    """A control count; None when it is not a plain count (a sign or decimal mark pass the n format)."""
    return int(value) if value.isdigit() else None


def _prepared_at(header: Segment) -> datetime | None:
    """UNB S004 as a naive datetime (EDIFACT gives no time zone); YYMMDD dates are taken as 20YY."""
    day, time = header.get(4, 1), header.get(4, 2)
    if len(day) == 6:
        day = "20" + day
    try:
        return datetime.strptime(day + time, "%Y%m%d%H%M")  # noqa: DTZ007 - UNB carries no time zone
    except ValueError:
        return None


class _Walker:
    """Walks the segments after UNB: functional groups, messages, UNZ."""

    def __init__(self, segments: list[Segment], validator: Validator, interchange: Interchange) -> None:
        self.segments = segments
        self.validator = validator
        self.interchange = interchange
        self.group: Segment | None = None
        self.group_messages = 0
        self.groups = 0

    def walk(self) -> Interchange:
        segments, interchange = self.segments, self.interchange
        i = 1
        while i < len(segments):
            segment = segments[i]
            if segment.tag == "UNZ":
                self._trailer(segment)
                if i + 1 < len(segments):
                    raise FileRejected(
                        "segments follow the UNZ: a second interchange or garbage in the same file",
                        f"segment {i + 2} ({segments[i + 1].tag}) of the interchange",
                    )
                return interchange
            if segment.tag == "UNH":
                i = self._message(i)
                continue
            if segment.tag == "UNG":
                self._group_header(segment)
            elif segment.tag == "UNE":
                self._group_trailer(segment)
            else:
                self._envelope_error(
                    EdifactError(f"segment {segment.tag} outside any message", segment, code="15"), "interchange"
                )
            i += 1
        raise FileRejected(
            "the interchange has no UNZ trailer: the file is truncated",
            f"after segment {len(segments)} of the interchange",
        )

    def _message(self, start: int) -> int:
        """Read the message starting at segments[start] (a UNH); returns the index after it."""
        segments = self.segments
        end = start + 1
        while end < len(segments) and segments[end].tag not in ENVELOPE:
            end += 1
        complete = end < len(segments) and segments[end].tag == "UNT"
        message_segments = segments[start : end + 1] if complete else segments[start:end]
        message = Message(message_segments, self.interchange.chars, self.interchange.test)
        result = MessageResult(message, self.group.get(5) if self.group else None)
        self.interchange.messages.append(result)
        self.group_messages += 1
        try:
            self.validator.check_segment(message.header, _UNH)
            if not complete:
                error = EdifactError(
                    f"message {message.reference} has no UNT: it ends at segment {len(message_segments)}",
                    message_segments[-1],
                    code="13",
                    service="UNT",
                )
                self._envelope_error(error, f"message {message.reference}", first=message.header.position)
                raise error
            self._check_trailer(message)
            spec = SPECS.get(message.identifier)
            if spec is None or message.type not in TRANSLATORS:
                raise EdifactError(
                    f"message {':'.join(message.identifier)} is not one we read"
                    f" ({', '.join(sorted(':'.join(key) for key in SPECS))})",
                    message.header,
                    element=2,
                    code="14",
                )
            self.validator.validate(spec, message.body, message.segments[-1])
            result.document = TRANSLATORS[message.type](message)
        except EdifactError as error:
            result.error = error
        return end + 1 if complete else end

    def _check_trailer(self, message: Message) -> None:
        """UNT: valid, counting the message's segments, naming its reference; a mismatch is an envelope error."""
        trailer = message.segments[-1]
        self.validator.check_segment(trailer, _UNT)
        count, reference = trailer.get(1), trailer.get(2)
        if _count(count) != len(message.segments):
            error = EdifactError(
                f"UNT segment count {count} but message {message.reference} has {len(message.segments)} segments",
                trailer,
                element=1,
                code="29",
            )
        elif reference != message.reference:
            error = EdifactError(
                f"UNT message reference {reference!r} is not the UNH's {message.reference!r}",
                trailer,
                element=2,
                code="28",
            )
        else:
            return
        self._envelope_error(error, f"message {message.reference}", first=message.header.position)
        # A count that does not add up may mean a lost segment: the message is rejected, not guessed at.
        raise error

    def _group_header(self, segment: Segment) -> None:
        try:
            self.validator.check_segment(segment, _UNG)
        except EdifactError as error:
            self._envelope_error(error, "interchange")
        if self.group is not None:
            self._envelope_error(EdifactError("UNG before the previous group's UNE", segment, code="15"), "interchange")
        self.group, self.group_messages = segment, 0
        self.groups += 1

    def _group_trailer(self, segment: Segment) -> None:
        group = self.group
        if group is None:
            self._envelope_error(EdifactError("UNE without a UNG", segment, code="15"), "interchange")
            return
        try:
            self.validator.check_segment(segment, _UNE)
            if _count(segment.get(1)) != self.group_messages:
                raise EdifactError(
                    f"UNE message count {segment.get(1)} but group {group.get(5)} holds {self.group_messages}",
                    segment,
                    element=1,
                    code="29",
                )
            if segment.get(2) != group.get(5):
                raise EdifactError(
                    f"UNE group reference {segment.get(2)!r} is not the UNG's {group.get(5)!r}",
                    segment,
                    element=2,
                    code="28",
                )
        except EdifactError as error:
            self._envelope_error(error, "interchange")
        self.group = None

    def _trailer(self, segment: Segment) -> None:
        """UNZ: counts the groups if there are any, else the messages; names the UNB's reference."""
        interchange = self.interchange
        if self.group is not None:
            self._envelope_error(EdifactError("UNZ before the group's UNE", segment, code="13"), "interchange")
        expected = self.groups or len(interchange.messages)
        try:
            self.validator.check_segment(segment, _UNZ)
            if _count(segment.get(1)) != expected:
                what = "groups" if self.groups else "messages"
                raise EdifactError(
                    f"UNZ control count {segment.get(1)} but the interchange holds {expected} {what}",
                    segment,
                    element=1,
                    code="29",
                )
            if segment.get(2) != interchange.reference:
                raise EdifactError(
                    f"UNZ reference {segment.get(2)!r} is not the UNB's {interchange.reference!r}",
                    segment,
                    element=2,
                    code="28",
                )
        except EdifactError as error:
            interchange.trailer_error = error
            self._envelope_error(error, "interchange")

    def _envelope_error(self, error: EdifactError, where: str, first: int = 1) -> None:
        self.interchange.envelope_errors.append(f"{error.reason} ({where}: {error.position(first)})")
