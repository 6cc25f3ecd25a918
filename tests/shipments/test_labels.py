"""Carton and pallet labels: a well-formed PDF (header, objects where the xref says, one page per container),
each page's text, and a GS1-128 barcode that decodes back to "00" + the SSCC with a correct check symbol, drawn
on the page exactly as the module pattern says."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from pipelines.amazon.documents import ProductIdentifier
from pipelines.shipments.labels import MODULE_WIDTH, code128_gs1_modules, render_carton_labels
from pipelines.shipments.model import PREPAID, Carton, PackedItem, Pallet, ShipmentLine, ShipmentNotice

D = Decimal
PO = "4KT9ZQ2M"
SHIP_FROM = ("Hafren Foods Ltd", "Unit 4, Severn Road", "Welshpool SY21 7AA")
SHIP_TO = ("Amazon UK Services Ltd", "LTN1, Marston Gate", "Ridgmont MK43 0ZA")
# SSCCs under company prefix 5060123 (seven digits), serials 1..
SSCCS = ("050601230000000016", "050601230000000023", "050601230000000030", "050601230000000047")
PALLET_SSCC = "050601230000000054"

# Code 128 symbol values 0..106 as bar/space widths (ISO/IEC 15417), for the decoder below.
WIDTHS = [
    "212222",
    "222122",
    "222221",
    "121223",
    "121322",
    "131222",
    "122213",
    "122312",
    "132212",
    "221213",
    "221312",
    "231212",
    "112232",
    "122132",
    "122231",
    "113222",
    "123122",
    "123221",
    "223211",
    "221132",
    "221231",
    "213212",
    "223112",
    "312131",
    "311222",
    "321122",
    "321221",
    "312212",
    "322112",
    "322211",
    "212123",
    "212321",
    "232121",
    "111323",
    "131123",
    "131321",
    "112313",
    "132113",
    "132311",
    "211313",
    "231113",
    "231311",
    "112133",
    "112331",
    "132131",
    "113123",
    "113321",
    "133121",
    "313121",
    "211331",
    "231131",
    "213113",
    "213311",
    "213131",
    "311123",
    "311321",
    "331121",
    "312113",
    "312311",
    "332111",
    "314111",
    "221411",
    "431111",
    "111224",
    "111422",
    "121124",
    "121421",
    "141122",
    "141221",
    "112214",
    "112412",
    "122114",
    "122411",
    "142112",
    "142211",
    "241211",
    "221114",
    "413111",
    "241112",
    "134111",
    "111242",
    "121142",
    "121241",
    "114212",
    "124112",
    "124211",
    "411212",
    "421112",
    "421211",
    "212141",
    "214121",
    "412121",
    "111143",
    "111341",
    "131141",
    "114113",
    "114311",
    "411113",
    "411311",
    "113141",
    "114131",
    "311141",
    "411131",
    "211412",
    "211214",
    "211232",
    "2331112",
]
SYMBOLS = {width: value for value, width in enumerate(WIDTHS)}
START_C, FNC1, STOP = 105, 102, 106


def decode_gs1_128(modules: str) -> str:
    """The digits of a subset C GS1-128 symbol; asserts its start, FNC1, check symbol and stop on the way."""
    runs = [len(run) for run in re.findall(r"1+|0+", modules)]
    assert modules.startswith("1") and modules.endswith("1")
    body, stop = runs[:-7], runs[-7:]
    assert SYMBOLS["".join(map(str, stop))] == STOP
    values = [SYMBOLS["".join(map(str, body[i : i + 6]))] for i in range(0, len(body), 6)]
    assert values[:2] == [START_C, FNC1]
    *data, check = values
    assert (data[0] + sum(position * value for position, value in enumerate(data[1:], 1))) % 103 == check
    return "".join(f"{value:02d}" for value in data[2:])


def shipment_line(line_id: str, sku: str, eaches: int, unit_size: int) -> ShipmentLine:
    return ShipmentLine(
        po_number=PO,
        line_id=line_id,
        identifiers=(ProductIdentifier("EN", f"501234567890{line_id}"),),
        vendor_product_code=sku,
        unit_of_measure="CA" if unit_size > 1 else "EA",
        unit_size=D(unit_size),
        shipped_eaches=D(eaches),
        acknowledged_eaches=D(eaches),
        unit_cost=D("3.10"),
    )


def notice(*, pallets: tuple[Pallet, ...] = (), loose: tuple[Carton, ...] = ()) -> ShipmentNotice:
    return ShipmentNotice(
        shipment_id="DN0000123",
        vendor_code="HAFIN",
        marketplace="UK",
        standard="EDIFACT",
        despatch_number="DN0000123",
        sales_order_number="SO0001234",
        ship_from_id="5060123450004",
        ship_from_name="Hafren Foods Ltd",
        ship_to_qualifier="92",
        ship_to_id="LTN1",
        shipped_at=datetime(2026, 3, 14, 9, 30, tzinfo=UTC),
        estimated_delivery_at=None,
        freight_terms=PREPAID,
        carrier_name="DPD",
        carrier_scac=None,
        tracking_number="DPD123",
        bill_of_lading=None,
        amazon_reference_number=None,
        lines=(shipment_line("1", "HAF-001", 12, 6), shipment_line("2", "HAF-(2)", 3, 1)),
        pallets=pallets,
        loose_cartons=loose,
    )


CASE = (PackedItem("1", PO, D(6)),)
MIXED = (PackedItem("2", PO, D(3)),)
LOOSE = notice(loose=(Carton(SSCCS[0], CASE), Carton(SSCCS[1], CASE), Carton(SSCCS[2], MIXED)))
PALLETISED = notice(
    pallets=(Pallet(PALLET_SSCC, (Carton(SSCCS[0], CASE), Carton(SSCCS[1], CASE), Carton(SSCCS[2], MIXED))),)
)


def render(shipment: ShipmentNotice) -> bytes:
    return render_carton_labels(shipment, company_prefix_length=7, ship_from_address=SHIP_FROM, ship_to_address=SHIP_TO)


def objects(pdf: bytes) -> dict[int, bytes]:
    return {int(number): body for number, body in re.findall(rb"(?m)^(\d+) 0 obj\n(.*?)\nendobj\n", pdf, re.S)}


def page_streams(pdf: bytes) -> list[bytes]:
    found = objects(pdf)
    kids = re.search(rb"/Kids \[([^\]]*)\]", found[2]).group(1)  # type: ignore[union-attr]
    streams = []
    for page in re.findall(rb"(\d+) 0 R", kids):
        contents = int(re.search(rb"/Contents (\d+) 0 R", found[int(page)]).group(1))  # type: ignore[union-attr]
        length, stream = re.match(rb"<< /Length (\d+) >>\nstream\n(.*)\nendstream$", found[contents], re.S).groups()  # type: ignore[union-attr]
        assert len(stream) == int(length)
        streams.append(stream)
    return streams


def texts(stream: bytes) -> list[str]:
    return [
        re.sub(rb"\\(.)", rb"\1", text).decode("cp1252") for text in re.findall(rb"\(((?:[^()\\]|\\.)*)\) Tj", stream)
    ]


def drawn_modules(stream: bytes) -> str:
    """The bars drawn on a page, back as modules (1 bar, 0 space) from the first bar to the last."""
    bars = [(float(x), float(width)) for x, width in re.findall(rb"([\d.]+) [\d.]+ ([\d.]+) [\d.]+ re", stream)]
    start = bars[0][0]
    modules = ["0"] * round((bars[-1][0] + bars[-1][1] - start) / MODULE_WIDTH)
    for x, width in bars:
        first = round((x - start) / MODULE_WIDTH)
        modules[first : first + round(width / MODULE_WIDTH)] = ["1"] * round(width / MODULE_WIDTH)
    return "".join(modules)


def test_the_module_pattern_of_a_known_sscc() -> None:
    assert code128_gs1_modules("00" + SSCCS[0]) == (
        "11010011100"  # start C
        "11110101110"  # FNC1
        "11011001100"  # 00: the SSCC's application identifier
        "10001001100"  # 05
        "10011001000"  # 06
        "11001101100"  # 01
        "11101101110"  # 23
        "11011001100"  # 00
        "11011001100"  # 00
        "11011001100"  # 00
        "11011001100"  # 00
        "10011101100"  # 16
        "11000101110"  # check symbol: (105 + 102 + 2x0 + 3x5 + 4x6 + 5x1 + 6x23 + 11x16) mod 103 = 50
        "1100011101011"  # stop
    )


@pytest.mark.parametrize("sscc", [*SSCCS, "106141411234567897", "999999999999999999"])
def test_the_module_pattern_decodes_back_to_ai_00_and_the_sscc(sscc: str) -> None:
    assert decode_gs1_128(code128_gs1_modules("00" + sscc)) == "00" + sscc


@pytest.mark.parametrize("digits", ["", "123", "12a4"])
def test_the_module_pattern_needs_an_even_number_of_digits(digits: str) -> None:
    with pytest.raises(ValueError) as refused:
        code128_gs1_modules(digits)
    assert str(refused.value) == f"Code 128 subset C carries an even number of digits, not {digits!r}"


def test_the_pdf_is_well_formed_with_offsets_where_the_xref_says() -> None:
    pdf = render(PALLETISED)
    assert pdf.startswith(b"%PDF-1.4\n")
    assert pdf.endswith(b"%%EOF\n")
    startxref = int(re.search(rb"startxref\n(\d+)\n%%EOF\n$", pdf).group(1))  # type: ignore[union-attr]
    assert pdf[startxref:].startswith(b"xref\n0 ")
    count = int(re.match(rb"xref\n0 (\d+)\n", pdf[startxref:]).group(1))  # type: ignore[union-attr]
    entries = re.findall(rb"(\d{10}) (\d{5}) ([nf]) \n", pdf[startxref:])
    assert len(entries) == count == len(objects(pdf)) + 1
    assert entries[0] == (b"0000000000", b"65535", b"f")
    for number, (offset, generation, kind) in enumerate(entries[1:], 1):
        assert (generation, kind) == (b"00000", b"n")
        assert pdf[int(offset) :].startswith(b"%d 0 obj\n" % number)
    assert re.search(rb"trailer\n<< /Size %d /Root 1 0 R >>" % count, pdf)


def test_one_page_per_pallet_then_per_carton() -> None:
    assert b"/Count 4" in objects(render(PALLETISED))[2]
    assert len(page_streams(render(PALLETISED))) == 4
    assert len(page_streams(render(LOOSE))) == 3


def test_a_carton_page_says_where_from_where_to_what_and_which() -> None:
    carton_page = page_streams(render(LOOSE))[2]
    assert texts(carton_page) == [
        "SHIP FROM",
        "SHIP TO",
        *SHIP_FROM,
        "Amazon UK Services Ltd",
        "LTN1, Marston Gate",
        "Ridgmont MK43 0ZA",
        f"PO: {PO}",
        "SHIPMENT: DN0000123",
        "CARTON 3 OF 3",
        "CONTENTS",
        "HAF-(2) × 3",
        "SSCC",
        "(00) 0 5060123 000000003 0",
    ]


def test_a_pallet_page_counts_its_cartons_and_totals_its_contents() -> None:
    pallet_page, first_carton = page_streams(render(PALLETISED))[:2]
    assert texts(pallet_page)[-7:] == [
        "PALLET 1 OF 1",
        "CONTENTS",
        "3 cartons",
        "HAF-001 × 12",
        "HAF-(2) × 3",
        "SSCC",
        "(00) 0 5060123 000000005 4",
    ]
    assert texts(first_carton)[-5:-2] == ["CARTON 1 OF 3", "CONTENTS", "HAF-001 × 6"]


@pytest.mark.parametrize(("page", "sscc"), [(0, PALLET_SSCC), (1, SSCCS[0]), (2, SSCCS[1]), (3, SSCCS[2])])
def test_each_page_draws_its_own_sscc_barcode(page: int, sscc: str) -> None:
    stream = page_streams(render(PALLETISED))[page]
    assert drawn_modules(stream) == code128_gs1_modules("00" + sscc)
    assert decode_gs1_128(drawn_modules(stream)) == "00" + sscc


def test_the_barcode_has_its_quiet_zones_on_the_label() -> None:
    bars = re.findall(rb"([\d.]+) [\d.]+ ([\d.]+) [\d.]+ re", page_streams(render(LOOSE))[0])
    left, right = float(bars[0][0]), float(bars[-1][0]) + float(bars[-1][1])
    assert left >= 10 * MODULE_WIDTH
    assert 288 - right >= 10 * MODULE_WIDTH


def test_rendering_is_deterministic() -> None:
    assert render(PALLETISED) == render(PALLETISED)


def test_a_many_item_carton_lists_what_fits_and_counts_the_rest() -> None:
    lines = tuple(shipment_line(str(number), f"SKU-{number:02d}", 1, 1) for number in range(1, 21))
    items = tuple(PackedItem(line.line_id, PO, D(1)) for line in lines)
    crowded = replace(notice(loose=(Carton(SSCCS[0], items),)), lines=lines)
    contents = texts(page_streams(render(crowded))[0])
    listed = contents[contents.index("CONTENTS") + 1 : contents.index("SSCC")]
    assert listed == [*(f"SKU-{number:02d} × 1" for number in range(1, 14)), "+ 7 more"]


def test_invalid_sscc_or_nothing_to_label_is_refused() -> None:
    with pytest.raises(ValueError) as refused:
        render(notice(loose=(Carton("050601230000000018", CASE),)))
    assert str(refused.value) == "shipment DN0000123: SSCC 050601230000000018 has check digit 8, GS1 gives 6"
    with pytest.raises(ValueError) as refused:
        render(notice())
    assert str(refused.value) == "shipment DN0000123 has no pallets or cartons to label"
