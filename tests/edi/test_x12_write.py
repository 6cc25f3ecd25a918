"""write_x12 and the map registry: what we write is padded, counted, separated as asked and validated."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from defusedxml import ElementTree

from pipelines.amazon.documents import PurchaseOrder
from pipelines.edi.x12 import (
    OutboundGroup,
    OutboundInterchange,
    OutboundSet,
    Separators,
    X12WriteError,
    default_registry,
    read_x12,
    write_x12,
)
from pipelines.edi.x12.validator import MAP_PATH

PO_BODY = (
    ("BEG", "00", "NE", "2XQ7ABCD", "", "20240301"),
    ("DTM", "064", "20240305", "", "", "", ""),  # trailing empty elements are not written
    ("N1", "ST", "", "92", "LTN1"),
    ("PO1", "1", "3", "CA", "12.50", "PE", "EN", "5012345678900"),
    ("CTP", "", "RES", "19.99", "1", ("EA", "")),  # a composite, its trailing empty component dropped
    ("CTT", "1", "3"),
)


def interchange(body: tuple = PO_BODY, set_id: str = "850", **changes: object) -> OutboundInterchange:
    values: dict[str, object] = {
        "sender_qualifier": "ZZ",
        "sender_id": "AMAZON",
        "receiver_qualifier": "ZZ",
        "receiver_id": "VENDOR",
        "control_number": 42,
        "prepared_at": datetime(2024, 3, 1, 12, 5, tzinfo=UTC),
        "version": "00501",
        "usage": "T",
        "groups": [OutboundGroup("PO", "AMAZON", "VENDOR", "17", "005010", [OutboundSet(set_id, "0001", body)])],
        **changes,
    }
    return OutboundInterchange(**values)  # type: ignore[arg-type]


def test_written_850_is_exact_and_reads_back() -> None:
    text = write_x12(interchange(), Separators("|", "^", "!", "{"), line_ending="")
    assert text == (
        "ISA|00|          |00|          |ZZ|AMAZON         |ZZ|VENDOR         |240301|1205|{|00501|000000042|0|T|^!"
        "GS|PO|AMAZON|VENDOR|20240301|1205|17|X|005010!"
        "ST|850|0001!"
        "BEG|00|NE|2XQ7ABCD||20240301!"
        "DTM|064|20240305!"
        "N1|ST||92|LTN1!"
        "PO1|1|3|CA|12.50|PE|EN|5012345678900!"
        "CTP||RES|19.99|1|EA!"
        "CTT|1|3!"
        "SE|8|0001!"
        "GE|1|17!"
        "IEA|1|000000042!"
    )
    (result,) = read_x12(text.encode()).sets
    assert isinstance(result.document, PurchaseOrder)
    assert (result.document.po_number, result.document.ship_to_id, result.document.is_test) == (
        "2XQ7ABCD",
        "LTN1",
        True,
    )


def test_4010_isa11_is_the_standards_identifier() -> None:
    group = OutboundGroup("PO", "AMAZON", "VENDOR", "17", "004010", [OutboundSet("850", "0001", PO_BODY)])
    text = write_x12(interchange(version="00401", groups=[group]))
    assert text.startswith("ISA*00*          *00*          *ZZ*AMAZON         *ZZ*VENDOR         *240301*1205*U*00401*")
    assert text.endswith("~\nIEA*1*000000042~\n")


def test_a_document_that_breaks_its_map_is_never_returned() -> None:
    body = tuple(("PO1", "1", "3", "XX", "12.50", "PE", "EN", "5") if s[0] == "PO1" else s for s in PO_BODY)
    with pytest.raises(X12WriteError) as error:
        write_x12(interchange(body))
    assert [(issue.position, issue.element_code) for issue in error.value.issues] == [
        ("segment 7 (PO1), element 3", "7")
    ]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        pytest.param({"sender_id": "A" * 16}, "ISA06 'AAAAAAAAAAAAAAAA' is longer than its 15 characters", id="isa06"),
        pytest.param(
            {"body": (*PO_BODY[:2], ("N1", "ST", "A*B", "92", "LTN1"), *PO_BODY[3:])},
            "N1: the value 'A*B' contains an X12 separator",
            id="separator-in-value",
        ),
        pytest.param(
            {"set_id": "846", "body": (("BIA", "00", "MM", "INV1", "20240301"),)},
            "no map for 846 005010: we never write what we cannot validate",
            id="no-map",
        ),
    ],
)
def test_refused_documents(changes: dict[str, object], message: str) -> None:
    with pytest.raises(X12WriteError, match="^" + message.replace("*", r"\*").replace("(", r"\(")):
        write_x12(interchange(**changes))


# --- the maps -------------------------------------------------------------------------------------------


def test_every_map_in_our_index_loads_through_pyx12() -> None:
    registry = default_registry()
    assert {(entry.version, entry.set_id, entry.functional_id) for entry in registry.entries} == {
        (version, set_id, functional_id)
        for version in ("004010", "005010")
        for set_id, functional_id in (
            ("850", "PO"), ("820", "RA"), ("824", "AG"), ("855", "PR"), ("997", "FA"), ("810", "IN")
        )
    } | {("005010", "856", "SH")}  # fmt: skip
    for entry in registry.entries:
        transaction_map = registry.find(entry.version, entry.set_id)
        assert transaction_map is not None
        assert transaction_map.root.id == entry.set_id
    # Amazon's retail 856 is 5010 only: there is no 4010 map to fall back to.
    assert registry.find("004010", "856") is None
    assert registry.find("003050", "850") is None


def test_every_data_element_our_maps_use_is_in_our_dictionary() -> None:
    dictionary = {element.get("ele_num") for element in ElementTree.parse(MAP_PATH / "dataele.xml").iter("data_ele")}
    for map_file in sorted(Path(MAP_PATH).glob("[0-9]*.xml")):
        used = {element.get("data_ele") for element in ElementTree.parse(map_file).iter("element")}
        assert used - dictionary == set(), map_file.name
