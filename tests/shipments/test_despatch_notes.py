"""Reading the shipping facts a warehouse types into a Sage despatch note: known keys in any case, free text
ignored, and a known key whose value cannot be read reported with its line, never guessed at."""

from __future__ import annotations

from datetime import UTC, date, datetime

from pipelines.shipments.despatch_notes import DespatchNotes, read_despatch_notes


def test_no_note_states_nothing() -> None:
    assert read_despatch_notes(None) == DespatchNotes()
    assert read_despatch_notes("") == DespatchNotes()
    assert read_despatch_notes("Left at gate 3.\nCall Dave before 10") == DespatchNotes()


def test_every_fact_is_read() -> None:
    note = "\n".join(
        [
            "Packed by Sam, 2 pallets wrapped",
            "SSCC: 050601230000000016, 050601230000000023",
            "  sscc:050601230000000030   050601230000000047",
            "BOL: 7741203",
            "arn: 5012345678",
            "Scac: dpdu",
            "LOT: HAF-001 L2603A 2027-03-31",
            "LOT: HAF-002 B-77",
            "Delivery: 2026-03-18 09:30",
            "Note: fragile",
        ]
    )
    assert read_despatch_notes(note) == DespatchNotes(
        ssccs=("050601230000000016", "050601230000000023", "050601230000000030", "050601230000000047"),
        bill_of_lading="7741203",
        amazon_reference_number="5012345678",
        carrier_scac="DPDU",
        lots={"HAF-001": ("L2603A", date(2027, 3, 31)), "HAF-002": ("B-77", None)},
        estimated_delivery=datetime(2026, 3, 18, 9, 30, tzinfo=UTC),
    )


def test_a_delivery_date_without_a_time_counts_until_the_end_of_that_day() -> None:
    notes = read_despatch_notes("DELIVERY: 2026-03-18")
    assert notes.estimated_delivery == datetime(2026, 3, 19, tzinfo=UTC)


def test_ssccs_are_kept_as_written_for_the_rules_to_check() -> None:
    assert read_despatch_notes("SSCC: 123, ABC").ssccs == ("123", "ABC")


def test_a_fact_stated_twice_alike_is_no_problem() -> None:
    notes = read_despatch_notes("BOL: 77\nBOL: 77\nLOT: HAF-1 L1\nLOT: HAF-1 L1")
    assert (notes.bill_of_lading, notes.lots, notes.problems) == ("77", {"HAF-1": ("L1", None)}, ())


def test_unreadable_values_are_problems_naming_their_line() -> None:
    note = "\n".join(
        [
            "BOL: 7741203",
            "BOL: 9999",
            "SCAC: DPD-UK",
            "LOT: HAF-001",
            "LOT: HAF-002 L1 31/03/2027",
            "LOT: HAF-003 L1 2027-02-30",
            "DELIVERY: tomorrow",
            "DELIVERY: 2026-03-18 25:00",
            "ARN:",
            "LOT: HAF-004 L1 2027-01-01",
            "LOT: HAF-004 L2 2027-01-01",
            "DELIVERY: 2026-03-18",
            "DELIVERY: 2026-03-19",
        ]
    )
    notes = read_despatch_notes(note)
    assert notes.problems == (
        "line 2 ('BOL: 9999'): a second BOL (9999) after line 1's (7741203): keep one",
        "line 3 ('SCAC: DPD-UK'): SCAC 'DPD-UK' is not two to four letters",
        "line 4 ('LOT: HAF-001'): a LOT line is '<product code> <lot number> [<expiry YYYY-MM-DD>]'",
        "line 5 ('LOT: HAF-002 L1 31/03/2027'): expiry '31/03/2027' is not a date YYYY-MM-DD",
        "line 6 ('LOT: HAF-003 L1 2027-02-30'): expiry '2027-02-30' is not a date YYYY-MM-DD",
        "line 7 ('DELIVERY: tomorrow'): 'tomorrow' is not a date and time YYYY-MM-DD[ HH:MM]",
        "line 8 ('DELIVERY: 2026-03-18 25:00'): '2026-03-18 25:00' is not a date and time YYYY-MM-DD[ HH:MM]",
        "line 9 ('ARN:'): has no value",
        "line 11 ('LOT: HAF-004 L2 2027-01-01'): a second LOT for HAF-004 after line 10's: one LOT line per product",
        "line 13 ('DELIVERY: 2026-03-19'): a second DELIVERY after line 12's: keep one",
    )
    # What could be read is kept; the first of two conflicting values stays.
    assert notes.bill_of_lading == "7741203"
    assert notes.carrier_scac is None
    assert notes.amazon_reference_number is None
    assert notes.lots == {"HAF-004": ("L1", date(2027, 1, 1))}
    assert notes.estimated_delivery == datetime(2026, 3, 19, tzinfo=UTC)  # 2026-03-18, until its end
