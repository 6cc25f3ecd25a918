"""How the generated files spell values, so that the same inputs always give the same bytes.

Money is a decimal string with two places ("12.34"), quantities are integer strings, dates are ISO
"YYYY-MM-DD", and every JSON object is written with sorted keys. No floats reach a file.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

PENNY = Decimal("0.01")


def to_money(value: Decimal) -> Decimal:
    """Round to pence the way a UK invoice does (half up)."""
    return value.quantize(PENNY, rounding=ROUND_HALF_UP)


def money(value: Decimal) -> str:
    return str(to_money(value))


def iso(day: date) -> str:
    return day.isoformat()


def sage_datetime(day: str | date) -> str:
    """A business date as Sage's document date-time fields want it (midnight UTC, 'Z')."""
    text = day if isinstance(day, str) else day.isoformat()
    return f"{text}T00:00:00Z"


def next_weekday(day: date) -> date:
    """The day itself when it is Monday to Friday, else the following Monday."""
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def month_end(day: date) -> date:
    first_of_next = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return first_of_next - timedelta(days=1)


def canonical_json(value: Any, *, indent: int | None = None) -> str:
    """JSON text with sorted keys; compact on one line unless an indent is given."""
    separators = (",", ": ") if indent is not None else (",", ":")
    return json.dumps(value, sort_keys=True, ensure_ascii=False, indent=indent, separators=separators)


def write_json(path: Path, value: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(canonical_json(value, indent=2) + "\n", encoding="utf-8")


# An event stream file is one JSON document whose "events" array holds one event per line, so it can be
# written and read one event at a time however long the history is, and still opens with json.load.
_EVENTS_OPEN = '"events":['
_EVENTS_CLOSE = "]}"


def write_event_stream(path: Path, header: dict[str, Any], events: Iterable[dict[str, Any]]) -> None:
    """Write `header` plus the events; header keys must sort before "events"."""
    if any(key >= "events" for key in header):
        raise ValueError("event stream header keys must sort before 'events'")
    path.parent.mkdir(parents=True, exist_ok=True)
    head = canonical_json(header)[:-1]
    with path.open("w", encoding="utf-8", newline="\n") as out:
        out.write(head + ("," if header else "") + _EVENTS_OPEN + "\n")
        first = True
        for event in events:
            out.write(("" if first else ",\n") + canonical_json(event))
            first = False
        out.write(("" if first else "\n") + _EVENTS_CLOSE + "\n")


def read_event_stream_header(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as stream:
        first = stream.readline().rstrip("\n")
    return json.loads(first.removesuffix(_EVENTS_OPEN).rstrip(",") + "}")


def read_event_stream(path: Path) -> Iterator[dict[str, Any]]:
    """The events of a file written by `write_event_stream`, one at a time."""
    with path.open(encoding="utf-8") as stream:
        stream.readline()
        for line in stream:
            text = line.rstrip("\n")
            if text == _EVENTS_CLOSE:
                return
            yield json.loads(text.removesuffix(","))
    raise ValueError(f"{path}: event stream ends without its closing line")
