"""The shipping facts a warehouse writes into a Sage despatch note, read for the ship notice.

Sage's despatch has a courier and a consignment number but nowhere for what Amazon also asks for, so the
warehouse types it into the despatch note's free text, one fact per line as ``KEY: value`` (keys in any case):

    SSCC: 050601230000000016 050601230000000023   carton SSCCs from pre-printed labels, in carton order
    BOL: 7741203                                   bill of lading
    ARN: 5012345678                                Amazon Reference Number (collect freight)
    SCAC: DPDU                                     carrier's Standard Carrier Alpha Code
    LOT: HAF-001 L2603A 2027-03-31                 product code, lot number, expiry (optional), per product
    DELIVERY: 2026-03-18 09:30                     estimated delivery, UTC; without a time, by the day's end

Any other line is free text for people and is ignored. A line whose key is one of these but whose value cannot
be read (a bad date, a second BOL) is not guessed at: it becomes a problem naming the line, which the
`despatch_note_readable` rule turns into a failure, so the fact never silently drops off the ASN.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

SSCC = "SSCC"
BILL_OF_LADING = "BOL"
AMAZON_REFERENCE_NUMBER = "ARN"
CARRIER_SCAC = "SCAC"
LOT = "LOT"
DELIVERY = "DELIVERY"
KEYS = (SSCC, BILL_OF_LADING, AMAZON_REFERENCE_NUMBER, CARRIER_SCAC, LOT, DELIVERY)

_KEYED_LINE = re.compile(r"^\s*([A-Za-z]+)\s*:(.*)$")
_SEPARATORS = re.compile(r"[\s,]+")
_SCAC = re.compile(r"^[A-Z]{2,4}$")  # NMFTA: two to four letters
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DELIVERY = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}:\d{2}))?$")


@dataclass(frozen=True)
class DespatchNotes:
    ssccs: tuple[str, ...] = ()  # as written, in carton order: the rules check them
    bill_of_lading: str | None = None
    amazon_reference_number: str | None = None
    carrier_scac: str | None = None
    lots: dict[str, tuple[str, date | None]] = field(default_factory=dict)  # product code -> (lot, expiry)
    estimated_delivery: datetime | None = None  # UTC
    problems: tuple[str, ...] = ()  # "line 4 ('DELIVERY: tomorrow'): ..." for each line that could not be read


def read_despatch_notes(text: str | None) -> DespatchNotes:
    """Every fact the despatch note `text` states; None or empty text states none."""
    reader = _Reader()
    for number, line in enumerate((text or "").splitlines(), 1):
        keyed = _KEYED_LINE.match(line)
        if keyed is None or keyed.group(1).upper() not in KEYS:
            continue
        key, value = keyed.group(1).upper(), keyed.group(2).strip()
        problem = reader.read(key, value, number) if value else "has no value"
        if problem is not None:
            reader.problems.append(f"line {number} ({line.strip()!r}): {problem}")
    return DespatchNotes(
        ssccs=tuple(reader.ssccs),
        bill_of_lading=reader.single.get(BILL_OF_LADING),
        amazon_reference_number=reader.single.get(AMAZON_REFERENCE_NUMBER),
        carrier_scac=reader.single.get(CARRIER_SCAC),
        lots={code: (lot, expiry) for code, (lot, expiry, _) in reader.lots.items()},
        estimated_delivery=reader.estimated_delivery,
        problems=tuple(reader.problems),
    )


@dataclass
class _Reader:
    ssccs: list[str] = field(default_factory=list)
    single: dict[str, str] = field(default_factory=dict)  # the keys that may be stated once
    single_lines: dict[str, int] = field(default_factory=dict)
    lots: dict[str, tuple[str, date | None, int]] = field(default_factory=dict)  # with the line that stated it
    estimated_delivery: datetime | None = None
    delivery_line: int | None = None
    problems: list[str] = field(default_factory=list)

    def read(self, key: str, value: str, number: int) -> str | None:
        """Take the line's value in; the problem when it cannot be read."""
        if key == SSCC:
            self.ssccs += [part for part in _SEPARATORS.split(value) if part]
            return None
        if key == CARRIER_SCAC:
            return self._scac(value, number)
        if key == LOT:
            return self._lot(value, number)
        if key == DELIVERY:
            return self._delivery(value, number)
        return self._single(key, value, number)

    def _single(self, key: str, value: str, number: int) -> str | None:
        earlier = self.single.get(key)
        if earlier is not None and earlier != value:
            return f"a second {key} ({value}) after line {self.single_lines[key]}'s ({earlier}): keep one"
        self.single[key] = value
        self.single_lines.setdefault(key, number)
        return None

    def _scac(self, value: str, number: int) -> str | None:
        if not _SCAC.match(value.upper()):
            return f"SCAC {value!r} is not two to four letters"
        return self._single(CARRIER_SCAC, value.upper(), number)

    def _lot(self, value: str, number: int) -> str | None:
        parts = value.split()
        if len(parts) not in (2, 3):
            return "a LOT line is '<product code> <lot number> [<expiry YYYY-MM-DD>]'"
        code, lot = parts[0], parts[1]
        expiry = None
        if len(parts) == 3:
            expiry = _date(parts[2])
            if expiry is None:
                return f"expiry {parts[2]!r} is not a date YYYY-MM-DD"
        earlier = self.lots.get(code)
        if earlier is not None and earlier[:2] != (lot, expiry):
            return f"a second LOT for {code} after line {earlier[2]}'s: one LOT line per product"
        self.lots.setdefault(code, (lot, expiry, number))
        return None

    def _delivery(self, value: str, number: int) -> str | None:
        matched = _DELIVERY.match(value)
        day = _date(matched.group(1)) if matched else None
        if matched is None or day is None:
            return f"{value!r} is not a date and time YYYY-MM-DD[ HH:MM]"
        if matched.group(2) is None:
            # A day without an hour: the goods are due some time that day, so the day counts until its end
            # (midnight would hold a notice back all day as "too late" and move its due time a day early).
            moment = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)
        else:
            hour, minute = (int(part) for part in matched.group(2).split(":"))
            if hour > 23 or minute > 59:
                return f"{value!r} is not a date and time YYYY-MM-DD[ HH:MM]"
            moment = datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)
        if self.estimated_delivery is not None and self.estimated_delivery != moment:
            return f"a second DELIVERY after line {self.delivery_line}'s: keep one"
        self.estimated_delivery, self.delivery_line = moment, self.delivery_line or number
        return None


def _date(value: str) -> date | None:
    if not _DATE.match(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None
