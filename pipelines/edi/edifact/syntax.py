"""EDIFACT syntax (ISO 9735): service characters, character sets, and segments that know where they are.

pydifact's tokenizer reads one character at a time, loses the release character before it could tell a
repetition separator from a data character, and numbers nothing; every error we report must name its segment
and element, and an Amazon interchange can hold thousands of lines. So segments are split here with `str.split`
where no release character occurs and a regular expression where one does, each keeping its position.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import NamedTuple

# The character set each UNB syntax identifier declares (ISO 9735 / code list 0001). Level A and B are
# subsets of ASCII: lower case and a few punctuation marks are strictly level B only, but real senders
# (Amazon's own sample among them) write lower case under UNOA, so both are read as ASCII.
CODECS = {
    "UNOA": "ascii",
    "UNOB": "ascii",
    "UNOC": "latin-1",
    "UNOD": "iso8859_2",
    "UNOE": "iso8859_5",
    "UNOF": "iso8859_7",
    "UNOW": "utf-8",
    "UNOY": "utf-8",
}

# Characters allowed between segments: line breaks some senders add for readability.
LINE_BREAKS = "\r\n"


class EdifactError(Exception):
    """One problem in a segment, with what a CONTRL needs to report it (ISO 9735 syntax error code 0085).

    `element` counts data elements from 1 after the tag (the convention of our positions; a CONTRL's S011 counts
    the tag as 1, so the writer adds one), `component` counts components from 1. `service` names the service
    segment (UNH, UNT, UNZ ...) a problem is about when it is not `segment` itself, e.g. a missing UNT.
    """

    def __init__(
        self,
        reason: str,
        segment: Segment | None = None,
        *,
        element: int | None = None,
        component: int | None = None,
        code: str = "12",
        service: str | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.segment = segment
        self.element = element
        self.component = component
        self.code = code
        self.service = service

    def position(self, first: int = 1) -> str | None:
        """ "segment 12 (QTY), element 1, component 2", counting segments so that position `first` is 1."""
        if self.segment is None:
            return None
        text = f"segment {self.segment.position - first + 1} ({self.segment.tag})"
        if self.element is not None:
            text += f", element {self.element}"
            if self.component is not None:
                text += f", component {self.component}"
        return text


@dataclass(frozen=True, slots=True)
class ServiceChars:
    """The service string advice (UNA): separators, decimal mark and release character."""

    component: str = ":"
    data: str = "+"
    decimal: str = "."
    release: str | None = "?"
    # UNA position 5: the repetition separator in syntax version 4, reserved (a space) before it.
    repetition: str = " "
    terminator: str = "'"

    @classmethod
    def from_una(cls, advice: str) -> ServiceChars:
        """The six characters after "UNA"; raises ValueError when they cannot work as separators."""
        if len(advice) != 6:
            raise ValueError(f"the service string advice needs 6 characters after UNA, not {len(advice)}")
        component, data, decimal, release, repetition, terminator = advice
        if decimal not in ".,":
            raise ValueError(f"decimal mark {decimal!r} in UNA is neither '.' nor ','")
        separators = [component, data, terminator] + [c for c in (release, repetition) if c != " "]
        if len(set(separators)) != len(separators):
            raise ValueError(f"UNA {advice!r} uses one character for two purposes")
        if any(c.isalnum() for c in separators):
            raise ValueError(f"UNA {advice!r} uses a letter or digit as a separator")
        return cls(component, data, decimal, None if release == " " else release, repetition, terminator)


# Without a UNA, level A and C interchanges use these; level B uses the information separators IS1, IS3, IS4.
DEFAULT_CHARS = ServiceChars()
LEVEL_B_CHARS = ServiceChars("\x1f", "\x1d", ".", None, " ", "\x1c")


class Segment(NamedTuple):
    """One segment: its tag and data elements, each a tuple of components (a simple element has one).

    A named tuple rather than a dataclass: an interchange can hold hundreds of thousands of them.
    """

    tag: str
    elements: tuple[tuple[str, ...], ...]
    position: int  # 1-based: in the interchange (UNB = 1) when read, in the message (UNH = 1) when written
    offset: int = 0  # character offset of the tag in the decoded interchange
    repeated: int = 0  # data element (1-based) that used the syntax 4 repetition separator, 0 if none

    def get(self, element: int, component: int = 1) -> str:
        """The value at `element` (1-based, after the tag) and `component`, "" when absent."""
        elements = self.elements
        if element > len(elements):
            return ""
        parts = elements[element - 1]
        return parts[component - 1] if component <= len(parts) else ""

    def composite(self, element: int) -> tuple[str, ...]:
        """All components of a data element, () when absent."""
        return self.elements[element - 1] if element <= len(self.elements) else ()


def split_segments(text: str, chars: ServiceChars, *, repetitions: bool = False) -> tuple[list[Segment], int]:
    """The segments of `text` and the offset where unterminated text starts (len(text) when none is left).

    `repetitions`: split data elements on the UNA repetition separator (syntax version 4 only; before it the
    fifth UNA character is reserved and is data like any other).
    """
    terminator, release, data, component = chars.terminator, chars.release, chars.data, chars.component
    breaks = "".join(c for c in LINE_BREAKS if c not in (terminator, data, component))
    if release and release in text:
        special = re.escape(release + terminator)
        pattern = re.compile(f"((?:[^{special}]|{re.escape(release)}.)*){re.escape(terminator)}", re.DOTALL)
        # Every character up to the next unreleased terminator matches, so the bodies are contiguous; only a
        # release character at the very end can be left over.
        bodies = pattern.findall(text)
    else:
        bodies = text.split(terminator)[:-1]
    end = sum(len(body) for body in bodies) + len(bodies)
    rest = text[end:]
    end = len(text) if not rest.strip(breaks) else end + len(rest) - len(rest.lstrip(breaks))
    repetition = chars.repetition if repetitions and chars.repetition != " " else ""
    # Bodies without a release character (or repetition separator) split with str.split, in C.
    tokens = _Tokens(chars, repetition) if release or repetition else None
    segments = []
    append = segments.append
    offset = 0
    for position, body in enumerate(bodies, 1):
        start = offset
        offset += len(body) + 1
        if body and body[0] in breaks:
            stripped = body.lstrip(breaks)
            start += len(body) - len(stripped)
            body = stripped
        if tokens is not None and tokens.needed(body):
            append(tokens(body, position, start))
            continue
        fields = body.split(data)
        append(Segment(fields[0], tuple([tuple(field.split(component)) for field in fields[1:]]), position, start))
    return segments, end


class _Tokens:
    """Splits a segment body that holds release characters or repetition separators, token by token."""

    def __init__(self, chars: ServiceChars, repetition: str) -> None:
        self.chars = chars
        self.needed = re.compile(f"[{re.escape(repetition + (chars.release or ''))}]").search
        separators = chars.data + chars.component + repetition
        release = re.escape(chars.release) + "(.)|" if chars.release else ""
        others = re.escape(separators + (chars.release or ""))
        self.pattern = re.compile(f"{release}([{re.escape(separators)}])|([^{others}]+)", re.DOTALL)

    def __call__(self, body: str, position: int, offset: int) -> Segment:
        chars = self.chars
        parts: list[list[str]] = [[""]]  # the tag, then one list of components per element
        repeated = 0
        for match in self.pattern.finditer(body):
            released, separator, text = match.groups() if chars.release else (None, *match.groups())
            if separator == chars.data:
                parts.append([""])
            elif separator == chars.component:
                parts[-1].append("")
            elif separator is not None:  # the repetition separator: D.96A defines no repeating element
                repeated = repeated or len(parts) - 1
                parts[-1].append("")
            else:
                parts[-1][-1] += released if released is not None else text
        tag = parts[0][0] if len(parts[0]) == 1 else chars.component.join(parts[0])
        return Segment(tag, tuple(tuple(components) for components in parts[1:]), position, offset, repeated)


def segment_at(segments: Sequence[Segment], offset: int) -> Segment | None:
    """The segment that holds character `offset` (the last one starting at or before it)."""
    index = bisect_right([segment.offset for segment in segments], offset) - 1
    return segments[index] if index >= 0 else None


def control_characters(text: str, chars: ServiceChars) -> Iterator[int]:
    """Offsets of C0 control characters that are neither a separator nor a line break: binary, not text."""
    allowed = set(LINE_BREAKS) | {chars.component, chars.data, chars.terminator, chars.repetition, chars.release}
    for match in re.finditer(r"[\x00-\x1f\x7f]", text):
        if match.group() not in allowed:
            yield match.start()


def to_decimal(value: str, decimal_mark: str) -> Decimal:
    """A numeric data element value as Decimal; the decimal mark is the one the UNA declared."""
    if ("." if decimal_mark == "," else ",") in value:
        raise InvalidOperation(f"{value!r} uses the wrong decimal mark: the interchange declares {decimal_mark!r}")
    return Decimal(value.replace(",", "."))


def parse_edifact_date(value: str, format_code: str) -> date:
    """The date in a DTM value: 102 CCYYMMDD, 203 CCYYMMDDHHMM, 204 CCYYMMDDHHMMSS, 101 YYMMDD (20YY).

    Raises ValueError for any other format or an impossible date.
    """
    lengths = {"102": 8, "203": 12, "204": 14, "101": 6}
    if format_code not in lengths:
        raise ValueError(f"date/time format {format_code or '(none)'} is not one we read (102, 203, 204, 101)")
    if len(value) != lengths[format_code] or not value.isdigit():
        raise ValueError(f"{value!r} is not a format {format_code} date")
    year = 2000 + int(value[:2]) if format_code == "101" else int(value[:4])
    month, day = (value[2:4], value[4:6]) if format_code == "101" else (value[4:6], value[6:8])
    try:
        return date(year, int(month), int(day))
    except ValueError:
        raise ValueError(f"{value!r} is not a format {format_code} date") from None
