"""Packing a despatch: a carton per case, the part case left over in a carton of its own, eaches lines sharing
cartons in line order, scanned SSCCs first, and pallets taking their SSCCs after every carton has one."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from pipelines.amazon.documents import ProductIdentifier
from pipelines.shipments.model import Carton, PackedItem, Pallet, ShipmentLine
from pipelines.shipments.packing import PackingError, pack

D = Decimal
PO = "4KT9ZQ2M"


def line(line_id: str, shipped: str | int, *, unit_size: int = 1, po_number: str = PO) -> ShipmentLine:
    return ShipmentLine(
        po_number=po_number,
        line_id=line_id,
        identifiers=(ProductIdentifier("EN", f"50123456789{line_id:0>2}"),),
        vendor_product_code=f"HAF-{line_id:0>3}",
        unit_of_measure="CA" if unit_size > 1 else "EA",
        unit_size=D(unit_size),
        shipped_eaches=D(shipped),
        acknowledged_eaches=D(shipped),
        unit_cost=D("3.10"),
    )


def numbered(first: int = 1) -> Callable[[], str]:
    """SSCC stand-ins S1, S2 ... in the order they are asked for."""
    counter = iter(range(first, 1000))
    return lambda: f"S{next(counter)}"


def item(line_id: str, eaches: str | int, po_number: str = PO) -> PackedItem:
    return PackedItem(line_id=line_id, po_number=po_number, eaches=D(eaches))


def test_a_case_packed_line_gets_a_carton_per_case_and_one_for_the_part_case() -> None:
    pallets, cartons = pack(
        [line("1", 15, unit_size=6)], carton_eaches=20, cartons_per_pallet=None, next_sscc=numbered()
    )
    assert pallets == ()
    assert cartons == (
        Carton("S1", (item("1", 6),)),
        Carton("S2", (item("1", 6),)),
        Carton("S3", (item("1", 3),)),
    )


def test_eaches_lines_share_cartons_in_line_order() -> None:
    lines = [line("1", 7), line("2", 5), line("3", 10)]
    _, cartons = pack(lines, carton_eaches=8, cartons_per_pallet=None, next_sscc=numbered())
    assert cartons == (
        Carton("S1", (item("1", 7), item("2", 1))),
        Carton("S2", (item("2", 4), item("3", 4))),
        Carton("S3", (item("3", 6),)),
    )
    assert [carton.is_standard_case for carton in cartons] == [False, False, True]


def test_an_eaches_carton_stays_open_across_a_case_packed_line() -> None:
    lines = [line("1", 3), line("2", 12, unit_size=6), line("3", 2, po_number="7QX2LM4P")]
    _, cartons = pack(lines, carton_eaches=10, cartons_per_pallet=None, next_sscc=numbered())
    assert cartons == (
        Carton("S1", (item("1", 3), item("3", 2, "7QX2LM4P"))),
        Carton("S2", (item("2", 6),)),
        Carton("S3", (item("2", 6),)),
    )


def test_fractional_and_zero_quantities() -> None:
    lines = [line("1", "9.5", unit_size=6), line("2", 0), line("3", "2.5")]
    _, cartons = pack(lines, carton_eaches=2, cartons_per_pallet=None, next_sscc=numbered())
    assert cartons == (
        Carton("S1", (item("1", 6),)),
        Carton("S2", (item("1", "3.5"),)),
        Carton("S3", (item("3", 2),)),
        Carton("S4", (item("3", "0.5"),)),
    )


def test_scanned_ssccs_label_the_first_cartons_as_given() -> None:
    lines = [line("1", 18, unit_size=6)]
    _, cartons = pack(
        lines, carton_eaches=6, cartons_per_pallet=None, next_sscc=numbered(), scanned_ssccs=("A", "not-an-sscc")
    )
    assert [carton.sscc for carton in cartons] == ["A", "not-an-sscc", "S1"]


def test_pallets_take_their_ssccs_after_every_carton() -> None:
    lines = [line("1", 30, unit_size=6)]
    pallets, loose = pack(lines, carton_eaches=6, cartons_per_pallet=2, next_sscc=numbered(), scanned_ssccs=("A",))
    assert loose == ()
    case = (item("1", 6),)
    assert pallets == (
        Pallet("S5", (Carton("A", case), Carton("S1", case))),
        Pallet("S6", (Carton("S2", case), Carton("S3", case))),
        Pallet("S7", (Carton("S4", case),)),
    )
    # The same cartons, loose, have the same SSCCs: the pallet setting does not move a carton's serial.
    _, loose = pack(lines, carton_eaches=6, cartons_per_pallet=None, next_sscc=numbered(), scanned_ssccs=("A",))
    assert loose == tuple(carton for pallet in pallets for carton in pallet.cartons)


def test_packing_is_deterministic() -> None:
    lines = [line("1", 7), line("2", 13, unit_size=6), line("3", 9)]
    first = pack(lines, carton_eaches=5, cartons_per_pallet=3, next_sscc=numbered())
    assert pack(lines, carton_eaches=5, cartons_per_pallet=3, next_sscc=numbered()) == first


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"carton_eaches": 0, "cartons_per_pallet": None}, "carton_eaches must be at least 1, not 0"),
        (
            {"carton_eaches": 6, "cartons_per_pallet": 0},
            "cartons_per_pallet must be at least 1 (None for loose), not 0",
        ),
    ],
)
def test_settings_below_one_are_refused(kwargs: dict[str, int | None], message: str) -> None:
    with pytest.raises(PackingError) as refused:
        pack([line("1", 6)], next_sscc=numbered(), **kwargs)  # type: ignore[arg-type]
    assert str(refused.value) == message


def test_more_scanned_ssccs_than_cartons_is_refused() -> None:
    with pytest.raises(PackingError) as refused:
        pack(
            [line("1", 6, unit_size=6)],
            carton_eaches=6,
            cartons_per_pallet=None,
            next_sscc=numbered(),
            scanned_ssccs=("A", "B"),
        )
    assert str(refused.value) == (
        "the despatch note lists 2 SSCCs but the despatch packs into 1 cartons: check the SSCC: line against the"
        " cartons really shipped"
    )


def test_a_negative_quantity_or_a_unit_size_below_one_is_refused() -> None:
    with pytest.raises(PackingError) as refused:
        pack([line("1", -1)], carton_eaches=6, cartons_per_pallet=None, next_sscc=numbered())
    assert str(refused.value) == f"PO {PO} line 1: shipped -1 is negative"
    with pytest.raises(PackingError) as refused:
        pack([line("1", 1, unit_size=0)], carton_eaches=6, cartons_per_pallet=None, next_sscc=numbered())
    assert str(refused.value) == f"PO {PO} line 1: unit size 0 is below one"
