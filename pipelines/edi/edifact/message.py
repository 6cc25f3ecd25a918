"""One message (UNH..UNT) as a translation sees it: its segments, and errors that point into it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from pipelines.edi.edifact.syntax import EdifactError, Segment, ServiceChars, parse_edifact_date, to_decimal


@dataclass(frozen=True)
class Message:
    """A message read from an interchange; segment positions in errors count from its UNH (= 1)."""

    segments: Sequence[Segment]  # UNH .. UNT (without a UNT when the message was cut short)
    chars: ServiceChars
    test: bool  # the interchange's UNB test indicator

    @property
    def header(self) -> Segment:
        return self.segments[0]

    @property
    def reference(self) -> str:
        return self.header.get(1)

    @property
    def type(self) -> str:
        return self.header.get(2, 1)

    @property
    def identifier(self) -> tuple[str, str, str, str]:
        """UNH S009: type, version, release, agency, e.g. ("ORDERS", "D", "96A", "UN")."""
        return (self.header.get(2, 1), self.header.get(2, 2), self.header.get(2, 3), self.header.get(2, 4))

    @property
    def body(self) -> Sequence[Segment]:
        """The segments between UNH and UNT."""
        return self.segments[1:-1]

    def position(self, error: EdifactError) -> str | None:
        return error.position(first=self.header.position)

    def decimal(self, segment: Segment, element: int, component: int = 1) -> Decimal:
        """A numeric value as Decimal (the validator has checked its form; this guards the translation)."""
        value = segment.get(element, component)
        try:
            return to_decimal(value, self.chars.decimal)
        except InvalidOperation:
            raise EdifactError(
                f"{value!r} is not a number", segment, element=element, component=component, code="37"
            ) from None

    def date(self, segment: Segment) -> date:
        """The date of a DTM segment (C507: qualifier, value, format)."""
        try:
            return parse_edifact_date(segment.get(1, 2), segment.get(1, 3))
        except ValueError as error:
            raise EdifactError(str(error), segment, element=1, component=2, code="12") from None
