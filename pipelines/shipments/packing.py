"""How a despatch's lines are packed into cartons (and cartons onto pallets) for the ship notice and its labels.

Sage records what left the warehouse per order line, not how it was boxed, so the ASN's cartons are derived
here by a fixed rule the warehouse follows: a case-ordered line ships one carton per case of `unit_size` eaches
(a part case left over gets a carton of its own, so the whole-cases rule sees it rather than packing hiding it);
lines ordered in eaches fill shared cartons of `carton_eaches`, in line order, which makes assortment cartons.
The same lines always pack the same way and take SSCCs in the same order, so a rebuilt notice matches the
labels already printed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from pipelines.shipments.model import Carton, PackedItem, Pallet, ShipmentLine


class PackingError(ValueError):
    """The despatch cannot be packed as asked (a bad setting, or more scanned labels than cartons)."""


@dataclass
class _OpenCarton:
    items: list[PackedItem] = field(default_factory=list)

    @property
    def eaches(self) -> Decimal:
        return sum((item.eaches for item in self.items), Decimal(0))


def pack(
    lines: Sequence[ShipmentLine],
    *,
    carton_eaches: int,
    cartons_per_pallet: int | None,
    next_sscc: Callable[[], str],
    scanned_ssccs: Sequence[str] = (),
) -> tuple[tuple[Pallet, ...], tuple[Carton, ...]]:
    """The despatch packed: (pallets, loose cartons); one of the two is always empty.

    Cartons come in line order. The first cartons take `scanned_ssccs` (the warehouse's pre-printed labels, as
    given: the rules check them), the rest `next_sscc()`. With `cartons_per_pallet`, the cartons go onto pallets
    of at most that many, each pallet taking `next_sscc()` only after every carton has its SSCC, so a carton's
    SSCC does not depend on the pallet setting; None ships them loose.

    Raises PackingError for a setting below one, a line with a negative quantity or a unit size below one, and
    when more SSCCs were scanned than there are cartons: the warehouse packed differently from the rule, and an
    ASN naming only some of the labelled cartons would be wrong.
    """
    if carton_eaches < 1:
        raise PackingError(f"carton_eaches must be at least 1, not {carton_eaches}")
    if cartons_per_pallet is not None and cartons_per_pallet < 1:
        raise PackingError(f"cartons_per_pallet must be at least 1 (None for loose), not {cartons_per_pallet}")
    contents = _carton_contents(lines, carton_eaches)
    if len(scanned_ssccs) > len(contents):
        raise PackingError(
            f"the despatch note lists {len(scanned_ssccs)} SSCCs but the despatch packs into {len(contents)} cartons:"
            " check the SSCC: line against the cartons really shipped"
        )
    ssccs = [*scanned_ssccs, *(next_sscc() for _ in range(len(contents) - len(scanned_ssccs)))]
    cartons = tuple(Carton(sscc, items) for sscc, items in zip(ssccs, contents, strict=True))
    if cartons_per_pallet is None:
        return (), cartons
    loads = [cartons[start : start + cartons_per_pallet] for start in range(0, len(cartons), cartons_per_pallet)]
    return tuple(Pallet(next_sscc(), load) for load in loads), ()


def _carton_contents(lines: Sequence[ShipmentLine], carton_eaches: int) -> list[tuple[PackedItem, ...]]:
    """Each carton's items, cartons in the order they are opened."""
    cartons: list[_OpenCarton] = []
    # The eaches carton still being filled stays open across case-packed lines, so eaches lines share it.
    open_eaches_carton: _OpenCarton | None = None
    for line in lines:
        if line.shipped_eaches < 0:
            raise PackingError(f"PO {line.po_number} line {line.line_id}: shipped {line.shipped_eaches} is negative")
        if line.unit_size < 1:
            raise PackingError(f"PO {line.po_number} line {line.line_id}: unit size {line.unit_size} is below one")
        if line.unit_size > 1:
            cartons += [_OpenCarton([_item(line, eaches)]) for eaches in _cases(line)]
            continue
        remaining = line.shipped_eaches
        while remaining > 0:
            if open_eaches_carton is None or open_eaches_carton.eaches >= carton_eaches:
                open_eaches_carton = _OpenCarton()
                cartons.append(open_eaches_carton)
            portion = min(remaining, carton_eaches - open_eaches_carton.eaches)
            open_eaches_carton.items.append(_item(line, portion))
            remaining -= portion
    return [tuple(carton.items) for carton in cartons]


def _cases(line: ShipmentLine) -> list[Decimal]:
    """Eaches per carton of a case-packed line: whole cases, then the part case left over, if any."""
    whole_cases = int(line.shipped_eaches // line.unit_size)
    part_case = line.shipped_eaches - whole_cases * line.unit_size
    return [line.unit_size] * whole_cases + ([part_case] if part_case else [])


def _item(line: ShipmentLine, eaches: Decimal) -> PackedItem:
    return PackedItem(line_id=line.line_id, po_number=line.po_number, eaches=eaches)
