"""GS1-128 carton and pallet labels for a ship notice, as a small hand-written PDF.

Amazon receives a carton by scanning its label, and the SSCC in the barcode must be the one the ASN carries,
so the labels are printed from the same `ShipmentNotice` the ASN is rendered from. One 4x6 inch page per pallet,
then one per carton (the notice's label order), each with ship from / ship to, the PO numbers, the shipment id,
"carton n of N", the contents, and the SSCC as a GS1-128 barcode (Code 128 subset C, FNC1, AI 00) with its
human-readable line under it.

The PDF is written by hand (PDF 1.4, the standard Helvetica fonts, no compression, no dates) so the same notice
always renders to the same bytes and the project needs no PDF library.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from pipelines.orders.documents import quantity_text
from pipelines.shipments.model import Carton, ShipmentNotice
from pipelines.shipments.sscc import APPLICATION_IDENTIFIER, human_readable, sscc_problem

PAGE_WIDTH = 288  # 4 inches at 72 points
PAGE_HEIGHT = 432  # 6 inches
MARGIN = 14
# GS1's minimum X-dimension for an SSCC on a logistic label is 0.495 mm, which is 1.4 points.
MODULE_WIDTH = 1.4
QUIET_ZONE_MODULES = 10  # Code 128 needs ten modules of clear space either side
BAR_HEIGHT = 90  # GS1's minimum bar height for logistic labels, 31.75 mm
HUMAN_READABLE_SIZE = 10
BARCODE_BASELINE = 40  # the bars stand on this line; the human-readable text sits under it
# Characters per line of an address block, at its font size, for half the label's width.
SHIP_FROM_CHARACTERS = 28
SHIP_TO_CHARACTERS = 22
CONTENTS_LEADING = 11

# Code 128 symbol values 0..106 as bar/space widths in modules (ISO/IEC 15417 table 1), bar first.
CODE128_WIDTHS = (
    "212222", "222122", "222221", "121223", "121322", "131222", "122213", "122312", "132212", "221213",
    "221312", "231212", "112232", "122132", "122231", "113222", "123122", "123221", "223211", "221132",
    "221231", "213212", "223112", "312131", "311222", "321122", "321221", "312212", "322112", "322211",
    "212123", "212321", "232121", "111323", "131123", "131321", "112313", "132113", "132311", "211313",
    "231113", "231311", "112133", "112331", "132131", "113123", "113321", "133121", "313121", "211331",
    "231131", "213113", "213311", "213131", "311123", "311321", "331121", "312113", "312311", "332111",
    "314111", "221411", "431111", "111224", "111422", "121124", "121421", "141122", "141221", "112214",
    "112412", "122114", "122411", "142112", "142211", "241211", "221114", "413111", "241112", "134111",
    "111242", "121142", "121241", "114212", "124112", "124211", "411212", "421112", "421211", "212141",
    "214121", "412121", "111143", "111341", "131141", "114113", "114311", "411113", "411311", "113141",
    "114131", "311141", "411131", "211412", "211214", "211232", "2331112",
)  # fmt: skip
FNC1 = 102  # in subset C; right after the start it marks the symbol as GS1-128
START_C = 105
STOP = 106
CHECKSUM_MODULUS = 103

REGULAR = "F1"
BOLD = "F2"
FONTS = {REGULAR: "Helvetica", BOLD: "Helvetica-Bold"}
# Helvetica advance widths (per 1000 units of font size) of the characters in a human-readable SSCC line.
HELVETICA_WIDTHS = {**dict.fromkeys("0123456789", 556), "(": 333, ")": 333, " ": 278}


def code128_gs1_modules(data_digits: str) -> str:
    """The GS1-128 symbol for `data_digits` as modules, "1" a bar and "0" a space, quiet zones not included.

    Start C, FNC1, the digits two at a time, the mod-103 check symbol, stop. `data_digits` is an even number
    of digits, the application identifier first (``"00"`` + the SSCC).
    """
    if not data_digits or len(data_digits) % 2 or not data_digits.isascii() or not data_digits.isdigit():
        raise ValueError(f"Code 128 subset C carries an even number of digits, not {data_digits!r}")
    values = [START_C, FNC1, *(int(data_digits[i : i + 2]) for i in range(0, len(data_digits), 2))]
    # The start symbol counts once, every later symbol times its position.
    checksum = (values[0] + sum(position * value for position, value in enumerate(values[1:], 1))) % CHECKSUM_MODULUS
    modules = []
    for value in [*values, checksum, STOP]:
        for index, width in enumerate(CODE128_WIDTHS[value]):
            modules.append(("1" if index % 2 == 0 else "0") * int(width))
    return "".join(modules)


def render_carton_labels(
    notice: ShipmentNotice,
    *,
    company_prefix_length: int,
    ship_from_address: Sequence[str],
    ship_to_address: Sequence[str],
) -> bytes:
    """The notice's labels as a PDF: one page per pallet, then one per carton, in the notice's label order.

    Raises ValueError when the notice has nothing to label or a container's SSCC is not valid (a label must
    never carry an SSCC the ASN would be refused for).
    """
    cartons = notice.cartons
    if not cartons and not notice.pallets:
        raise ValueError(f"shipment {notice.shipment_id} has no pallets or cartons to label")
    for container in (*notice.pallets, *cartons):
        problem = sscc_problem(container.sscc)
        if problem is not None:
            raise ValueError(f"shipment {notice.shipment_id}: {problem}")
    header = _Header(
        ship_from=_wrapped(ship_from_address, SHIP_FROM_CHARACTERS),
        ship_to=_wrapped(ship_to_address, SHIP_TO_CHARACTERS),
        shipment_id=notice.shipment_id,
        company_prefix_length=company_prefix_length,
    )
    skus = {(line.po_number, line.line_id): line.vendor_product_code for line in notice.lines}
    pages = [
        _label(
            header,
            f"PALLET {number} OF {len(notice.pallets)}",
            pallet.sscc,
            pallet.cartons,
            skus,
            f"{len(pallet.cartons)} cartons",
        )
        for number, pallet in enumerate(notice.pallets, 1)
    ]
    pages += [
        _label(header, f"CARTON {number} OF {len(cartons)}", carton.sscc, (carton,), skus, None)
        for number, carton in enumerate(cartons, 1)
    ]
    return _pdf(pages)


@dataclass(frozen=True)
class _Header:
    ship_from: tuple[str, ...]
    ship_to: tuple[str, ...]
    shipment_id: str
    company_prefix_length: int


@dataclass
class _Page:
    """A page's content stream, written top-down."""

    operations: list[str] = field(default_factory=list)

    def text(self, x: float, y: float, size: float, text: str, font: str = REGULAR) -> None:
        self.operations.append(f"BT /{font} {_number(size)} Tf {_number(x)} {_number(y)} Td ({_escaped(text)}) Tj ET")

    def rule(self, y: float) -> None:
        self.operations.append(f"0.5 w {MARGIN} {_number(y)} m {PAGE_WIDTH - MARGIN} {_number(y)} l S")

    def bars(self, x: float, y: float, modules: str, height: float) -> None:
        """Each run of bar modules as one filled rectangle."""
        start = None
        for index, module in enumerate(modules + "0"):
            if module == "1" and start is None:
                start = index
            elif module == "0" and start is not None:
                left, width = x + start * MODULE_WIDTH, (index - start) * MODULE_WIDTH
                self.operations.append(f"{_number(left)} {_number(y)} {_number(width)} {_number(height)} re")
                start = None
        self.operations.append("f")

    def content(self) -> bytes:
        return "\n".join(self.operations).encode("cp1252")


def _label(
    header: _Header,
    title: str,
    sscc: str,
    cartons: Sequence[Carton],
    skus: dict[tuple[str, str], str],
    summary: str | None,
) -> bytes:
    page = _Page()
    half = (PAGE_WIDTH - 2 * MARGIN) / 2
    top = PAGE_HEIGHT - MARGIN - 8
    page.text(MARGIN, top, 7, "SHIP FROM", BOLD)
    page.text(MARGIN + half, top, 7, "SHIP TO", BOLD)
    from_bottom = _lines(page, MARGIN, top - 11, 8, 10, header.ship_from, REGULAR)
    to_bottom = _lines(page, MARGIN + half, top - 11, 9, 11, header.ship_to, BOLD)
    y = min(from_bottom, to_bottom) - 2
    page.rule(y)
    purchase_orders = ", ".join(dict.fromkeys(item.po_number for carton in cartons for item in carton.items))
    page.text(MARGIN, y - 13, 9, f"PO: {purchase_orders}")
    page.text(MARGIN, y - 25, 9, f"SHIPMENT: {header.shipment_id}")
    page.text(MARGIN, y - 43, 14, title, BOLD)
    y -= 51
    page.rule(y)
    page.text(MARGIN, y - 11, 7, "CONTENTS", BOLD)
    contents = _contents(cartons, skus)
    if summary is not None:
        contents.insert(0, summary)
    # The lowest contents line stays clear of the "SSCC" caption over the bars.
    barcode_top = BARCODE_BASELINE + BAR_HEIGHT + 14
    first_line = y - 23
    room = max(1, int((first_line - barcode_top) // CONTENTS_LEADING) + 1)
    if len(contents) > room:
        contents = [*contents[: room - 1], f"+ {len(contents) - room + 1} more"]
    _lines(page, MARGIN, first_line, 9, CONTENTS_LEADING, contents, REGULAR)
    page.text(MARGIN, barcode_top - 8, 7, "SSCC", BOLD)
    _barcode(page, sscc, header.company_prefix_length)
    return page.content()


def _lines(page: _Page, x: float, y: float, size: float, leading: float, lines: Sequence[str], font: str) -> float:
    """Write `lines` downwards from `y`; returns the y under the last one."""
    for line in lines:
        page.text(x, y, size, line, font)
        y -= leading
    return y


def _contents(cartons: Sequence[Carton], skus: dict[tuple[str, str], str]) -> list[str]:
    """One line per SKU with its eaches, in the order the SKUs first appear."""
    eaches: dict[str, Decimal] = {}
    for carton in cartons:
        for item in carton.items:
            sku = skus[(item.po_number, item.line_id)]
            eaches[sku] = eaches.get(sku, Decimal(0)) + item.eaches
    return [f"{sku} × {quantity_text(quantity)}" for sku, quantity in eaches.items()]


def _barcode(page: _Page, sscc: str, company_prefix_length: int) -> None:
    modules = code128_gs1_modules(APPLICATION_IDENTIFIER + sscc)
    width = len(modules) * MODULE_WIDTH
    left = (PAGE_WIDTH - width) / 2
    page.bars(left, BARCODE_BASELINE, modules, BAR_HEIGHT)
    text = human_readable(sscc, company_prefix_length)
    text_width = sum(HELVETICA_WIDTHS[character] for character in text) * HUMAN_READABLE_SIZE / 1000
    page.text((PAGE_WIDTH - text_width) / 2, BARCODE_BASELINE - 14, HUMAN_READABLE_SIZE, text)


def _wrapped(lines: Sequence[str], width: int) -> tuple[str, ...]:
    return tuple(part for line in lines for part in (textwrap.wrap(line, width) or [""]))


def _pdf(pages: Sequence[bytes]) -> bytes:
    """A PDF 1.4 file: catalog, page tree, the two fonts, then each page and its content stream."""
    kids = " ".join(f"{5 + 2 * index} 0 R" for index in range(len(pages)))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode(),
        *(
            f"<< /Type /Font /Subtype /Type1 /BaseFont /{name} /Encoding /WinAnsiEncoding >>".encode()
            for name in FONTS.values()
        ),
    ]
    fonts = " ".join(f"/{key} {number} 0 R" for number, key in enumerate(FONTS, 3))
    for index, content in enumerate(pages):
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_WIDTH} {PAGE_HEIGHT}]"
            f" /Resources << /Font << {fonts} >> >> /Contents {6 + 2 * index} 0 R >>".encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content))
    # The comment of high bytes after the header tells transfer tools the file is binary.
    document = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(document))
        document += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref_at = len(document)
    document += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    document += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    document += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref_at)
    return bytes(document)


def _escaped(text: str) -> str:
    """Text as a PDF literal string body in WinAnsi: backslash and parentheses escaped, the unprintable a '?'."""
    printable = "".join(character if character.isprintable() else "?" for character in text)
    encodable = printable.encode("cp1252", errors="replace").decode("cp1252")
    return encodable.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def _number(value: float) -> str:
    """A coordinate in plain notation, two places at most (no exponent, no trailing zeros)."""
    return f"{value:.2f}".rstrip("0").rstrip(".")
