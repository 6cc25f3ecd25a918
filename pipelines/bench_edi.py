"""`avc2sage bench`, the EDI part: how fast the Amazon inbox reads EDI, stage by stage, beside a floor.

A synthetic inbox is written to disk: X12 850s and EDIFACT D.96A ORDERS with the structure of the vendored
samples (tests/fixtures/amazon), renumbered so every interchange, order and line is distinct. The same bytes
are then measured in the same run, each stage in a fresh process (`pipelines.bench.measured`):

(a) floor: every file read and split into segments with `bytes.split`, nothing else;
(b) tokenise + translate: `read_x12(..., validate=False)` and `read_edifact`;
(c) the same with our X12 maps' validation, as the inbox reads X12 (EDIFACT is read as in (b): its definitions
    are always checked);
(d) the full ingest (`pipelines.amazon.ingest.ingest`): classify, dlt into DuckDB, a 997/CONTRL per file,
    every file moved to processed/.

Rows are segments, envelopes included, so every stage's rate compares with the floor's.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipelines.amazon.ingest import ingest
from pipelines.amazon.source import DATASET_NAME
from pipelines.bench import Measurement, measured
from pipelines.edi.edifact import read_edifact
from pipelines.edi.x12 import read_x12
from pipelines.settings import EXAMPLE_CONFIG, Locations, load_business_config

FILES_PER_SYNTAX = 2_000
LINES_PER_ORDER = 40
# Segments around the lines: X12 ISA GS ST BEG REF CSH DTM DTM N1 CTT SE GE IEA; EDIFACT UNB UNH BGM DTM×3
# RFF×3 NAD×3 CUX UNS CNT UNT UNZ. Each X12 line is one PO1, each EDIFACT line LIN QTY PRI.
X12_FIXED_SEGMENTS = 13
EDIFACT_FIXED_SEGMENTS = 17
EDIFACT_SEGMENTS_PER_LINE = 3
EDIFACT_TERMINATOR = b"'"
PRICES = ("39.00", "24.53", "27.50", "10.87", "3.85")


def check_digit(digits: str) -> str:
    """The GS1 check digit of a GTIN body (weights 3, 1, 3 … from the right)."""
    total = sum(int(digit) * (3 if position % 2 == 0 else 1) for position, digit in enumerate(reversed(digits)))
    return str(-total % 10)


def gtin(body: str) -> str:
    """A GTIN (UPC-A from 11 digits, EAN-13 from 12) with its check digit."""
    return body + check_digit(body)


def quantity(order: int, line: int) -> int:
    """The quantity ordered on a line: 1 to 48, varying from line to line and order to order."""
    return 1 + (order * 7 + line) % 48


def x12_purchase_order(order: int, lines: int) -> bytes:
    """An 850 shaped like Amazon's implementation-guide sample, from AMAZON to HAFIN, with `lines` PO1 lines."""
    po1 = [
        f"PO1*{line}*{quantity(order, line)}*EA*{PRICES[line % len(PRICES)]}*PE*UP*{gtin(f'0{order:06d}{line:04d}')}"
        for line in range(1, lines + 1)
    ]
    total = sum(quantity(order, line) for line in range(1, lines + 1))
    transaction_set = [
        "ST*850*0001",
        f"BEG*00*NE*X{order:07d}**20260301",
        "REF*CR*HAFIN",
        "CSH*N",
        "DTM*064*20260303",
        "DTM*063*20260309",
        "N1*ST**15*1794205",
        *po1,
        f"CTT*{lines}*{total}",
    ]
    transaction_set.append(f"SE*{len(transaction_set) + 1}*0001")
    segments = [
        f"ISA*00*          *00*          *ZZ*AMAZON         *ZZ*HAFIN          *260301*0201*U*00401*{order:09d}*0*P*>",
        f"GS*PO*AMAZON*HAFIN*20260301*0201*{order}*X*004010",
        *transaction_set,
        f"GE*1*{order}",
        f"IEA*1*{order:09d}",
    ]
    return "".join(f"{segment}~\n" for segment in segments).encode()


def edifact_purchase_order(order: int, lines: int) -> bytes:
    """A D.96A ORDERS shaped like Amazon UK's specification sample, with `lines` LIN/QTY/PRI groups."""
    message = [
        "UNH+1+ORDERS:D:96A:UN:EAN008",
        f"BGM+220+E{order:07d}+9",
        "DTM+137:20260301:102",
        "DTM+63:20260315:102",
        "DTM+64:20260308:102",
        "RFF+ADE:FIRSTORDER",
        "RFF+PD:1704",
        "RFF+CR:HAFIN",
        "NAD+BY+5450534000024::9",
        "NAD+SU+5060123000007::9",
        "NAD+DP+5450534000109::9+++++++GB",
        "CUX+2:GBP:9",
    ]
    for line in range(1, lines + 1):
        message += [
            f"LIN+{line}++{gtin(f'50{order:06d}{line:04d}')}:EN",
            f"QTY+21:{quantity(order, line)}",
            f"PRI+AAA:{PRICES[line % len(PRICES)]}",
        ]
    message += ["UNS+S", f"CNT+2:{lines}"]
    message.append(f"UNT+{len(message) + 1}+1")
    segments = [f"UNB+UNOA:2+5450534000000:14+5060123000007:14+260301:0910+{order}", *message, f"UNZ+1+{order}"]
    return "".join(f"{segment}'\n" for segment in segments).encode()


def build_inbox(inbox: Path, files: int, lines: int) -> int:
    """Write `files` X12 850s and `files` EDIFACT ORDERS of `lines` lines into `inbox`; their segment count."""
    inbox.mkdir(parents=True)
    for order in range(1, files + 1):
        (inbox / f"x12-850-{order:05d}.edi").write_bytes(x12_purchase_order(order, lines))
        (inbox / f"edifact-orders-{order:05d}.edi").write_bytes(edifact_purchase_order(order, lines))
    per_x12 = X12_FIXED_SEGMENTS + lines
    per_edifact = EDIFACT_FIXED_SEGMENTS + EDIFACT_SEGMENTS_PER_LINE * lines
    return files * (per_x12 + per_edifact)


def segment_terminator(data: bytes) -> bytes:
    """The segment terminator a file declares: the ISA's 106th character, UNA's 6th, else EDIFACT's default."""
    if data.startswith(b"ISA"):
        return data[105:106]
    if data.startswith(b"UNA"):
        return data[8:9]
    return EDIFACT_TERMINATOR


def floor_stage(inbox: str) -> int:
    """Read every file and split it into segments, nothing more: the segments found."""
    count = 0
    for path in sorted(Path(inbox).iterdir()):
        data = path.read_bytes()
        count += sum(1 for piece in data.split(segment_terminator(data)) if piece.strip())
    return count


def read_stage(inbox: str, segments: int, validate: bool) -> int:
    """Read every file into documents (X12 map validation on or off); `segments` once every order came out."""
    for path in sorted(Path(inbox).iterdir()):
        data = path.read_bytes()
        if data.startswith(b"ISA"):
            parsed = read_x12(data, path.name, validate=validate)
        else:
            parsed = read_edifact(data, path.name)
        if parsed.envelope_errors or any(result.document is None for result in parsed.sets):
            raise RuntimeError(f"{path.name} did not read cleanly: {parsed.envelope_errors} {parsed.sets}")
    return segments


def ingest_stage(root: str, segments: int) -> int:
    """The whole inbox ingested into a fresh warehouse; `segments` once every order line is in DuckDB."""
    work = Path(root)
    locations = Locations.resolve(
        warehouse=work / "warehouse.duckdb", inbox=work / "inbox", outbox=work / "outbox", config=EXAMPLE_CONFIG
    )
    summary = ingest(locations, load_business_config(EXAMPLE_CONFIG), work / "dlt")
    not_loaded = [outcome.file.name for outcome in summary.outcomes if outcome.outcome != "loaded"]
    if not_loaded:
        raise RuntimeError(f"{len(not_loaded)} files were not loaded, e.g. {not_loaded[:3]}")
    with duckdb.connect(str(locations.warehouse), read_only=True) as con:
        (orders,) = con.execute(f"select count(*) from {DATASET_NAME}.purchase_orders").fetchone()
    if orders != len(summary.outcomes):
        raise RuntimeError(f"{orders} purchase orders stored from {len(summary.outcomes)} files")
    return segments


def run_edi_bench(work: Path, files: int = FILES_PER_SYNTAX, lines: int = LINES_PER_ORDER) -> list[Measurement]:
    """Build the synthetic inbox in `work` (an empty scratch folder) and measure the four stages on it."""
    inbox = work / "inbox"
    segments = build_inbox(inbox, files, lines)
    return [
        measured("edi floor (read + bytes.split)", floor_stage, str(inbox)),
        measured("edi read, no X12 map validation", read_stage, str(inbox), segments, False),
        measured("edi read, X12 map validation", read_stage, str(inbox), segments, True),
        measured("edi ingest (dlt → DuckDB, 997/CONTRL)", ingest_stage, str(work), segments),
    ]
