"""Writing EDIFACT: segments → an interchange, validated against our definitions before a byte is returned.

Serialisation is pydifact's (its `Serializer` escapes the separators and the release character with the
release character); this module builds the envelope (UNA, UNB, UNH/UNT counts, UNZ), strips trailing empty
elements and components as ISO 9735 requires, and refuses to return anything that fails its definition or
cannot be encoded in the declared character set.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from pydifact.control import Characters
from pydifact.segments import Segment as PydifactSegment
from pydifact.serializer import Serializer

from pipelines.edi.edifact import service
from pipelines.edi.edifact.definitions import MessageSpec, SegmentRules, Use, Validator
from pipelines.edi.edifact.syntax import CODECS, DEFAULT_CHARS, LINE_BREAKS, EdifactError, Segment, ServiceChars

# A data element as given to the writer: a simple value, a composite's components, or absent.
Value = str | Sequence[str] | None


class InvalidDocument(ValueError):
    """A document we were about to write breaks its definition; nothing was written."""


@dataclass(frozen=True)
class OutboundMessage:
    """A message to write: its reference (UNH 0062), definition, and body segments as (tag, elements)."""

    reference: str
    spec: MessageSpec
    body: Sequence[tuple[str, Sequence[Value]]]
    association: str = ""  # UNH S009 0057, e.g. EAN008


@dataclass(frozen=True)
class Envelope:
    """The interchange around the messages: UNB as ISO 9735 defines it."""

    syntax: str  # UNOA, UNOB, UNOC, UNOY ...
    version: str  # "2", "3" or "4"
    sender: Sequence[str]  # S002: identification, qualifier, routing
    recipient: Sequence[str]  # S003
    prepared: datetime
    reference: str  # 0020, also in UNZ
    test: bool = False


def write_interchange(
    envelope: Envelope, messages: Sequence[OutboundMessage], chars: ServiceChars = DEFAULT_CHARS
) -> bytes:
    """The interchange as bytes in the envelope's character set, always with a UNA.

    Raises InvalidDocument when a segment breaks its definition, a value holds a line break or control
    character, or a character cannot be written in the declared character set.
    """
    if not chars.release:
        raise InvalidDocument("we write only with a release character, so any value can be escaped")
    if envelope.syntax not in CODECS:
        raise InvalidDocument(f"syntax identifier {envelope.syntax} is not one we write")
    validator = Validator(chars)
    date_format = "%Y%m%d" if envelope.version == "4" else "%y%m%d"
    header = [
        (envelope.syntax, envelope.version),
        envelope.sender,
        envelope.recipient,
        (envelope.prepared.strftime(date_format), envelope.prepared.strftime("%H%M")),
        envelope.reference,
        None,
        None,
        None,
        None,
        None,
        "1" if envelope.test else None,
    ]
    unb_spec = service.UNB_V4 if envelope.version == "4" else service.UNB
    segments = [_checked(validator, _segment("UNB", header, 1), SegmentRules(unb_spec, Use("UNB", True, 1)))]
    for message in messages:
        segments += _message(validator, message)
    trailer = _segment("UNZ", [str(len(messages)), envelope.reference], len(segments) + 1)
    segments.append(_checked(validator, trailer, SegmentRules(service.UNZ, Use("UNZ", True, 1))))
    text = _Serializer(chars, repetitions=envelope.version == "4").serialize(
        [PydifactSegment(segment.tag, *_pydifact_elements(segment)) for segment in segments]
    )
    try:
        return text.encode(CODECS[envelope.syntax])
    except UnicodeEncodeError as error:
        raise InvalidDocument(
            f"{text[error.start]!r} cannot be written under {envelope.syntax} ({CODECS[envelope.syntax]})"
        ) from None


def _message(validator: Validator, message: OutboundMessage) -> list[Segment]:
    """UNH, the body and UNT, each validated; positions count from UNH = 1 as a CONTRL would."""
    spec = message.spec
    identifier = (spec.type, spec.version, spec.release, spec.agency, message.association)
    header = _checked(validator, _segment("UNH", [message.reference, identifier], 1), _UNH)
    body = [_segment(tag, elements, position) for position, (tag, elements) in enumerate(message.body, 2)]
    trailer = _segment("UNT", [str(len(body) + 2), message.reference], len(body) + 2)
    try:
        validator.validate(spec, body, trailer)
    except EdifactError as error:
        raise InvalidDocument(f"{spec.name} {message.reference}: {error.reason} at {error.position()}") from None
    return [header, *body, _checked(validator, trailer, _UNT)]


_UNH = SegmentRules(service.UNH, Use("UNH", True, 1))
_UNT = SegmentRules(service.UNT, Use("UNT", True, 1))


def _segment(tag: str, elements: Sequence[Value], position: int) -> Segment:
    """A Segment from writer values, without the trailing empty elements and components ISO 9735 forbids."""
    parts = [_components(value) for value in elements]
    while parts and not any(parts[-1]):
        parts.pop()
    for value in (component for part in parts for component in part):
        if re.search(f"[{LINE_BREAKS}\x00-\x1f\x7f]", value):
            raise InvalidDocument(f"{tag} value {value!r} holds a line break or control character")
    return Segment(tag, tuple(parts), position)


def _components(value: Value) -> tuple[str, ...]:
    if value is None:
        return ("",)
    components = [value] if isinstance(value, str) else list(value)
    while len(components) > 1 and not components[-1]:
        components.pop()
    return tuple(components) or ("",)


def _checked(validator: Validator, segment: Segment, rules: SegmentRules) -> Segment:
    try:
        validator.check_segment(segment, rules)
    except EdifactError as error:
        raise InvalidDocument(f"{error.reason} at {error.position()}") from None
    return segment


def _pydifact_elements(segment: Segment) -> list[str | list[str]]:
    return [list(parts) if len(parts) > 1 else parts[0] for parts in segment.elements]


class _Serializer(Serializer):
    """pydifact's serializer, also releasing the repetition separator in syntax version 4."""

    def __init__(self, chars: ServiceChars, *, repetitions: bool) -> None:
        super().__init__(
            Characters(
                component_separator=chars.component,
                data_separator=chars.data,
                decimal_point=chars.decimal,
                escape_character=chars.release,
                reserved=chars.repetition,
                segment_terminator=chars.terminator,
            )
        )
        if repetitions and chars.repetition != " ":
            self.replace_map[chars.repetition] = f"{chars.release}{chars.repetition}"
            self.regexp = re.compile("|".join(map(re.escape, self.replace_map)))
