"""The outbox: control numbers that never repeat, atomic files, and the ``audit.outbound_documents`` registry."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
from datetime import UTC, datetime, timedelta, timezone
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event
from pathlib import Path

import duckdb
import pytest

from pipelines.edi.outbox import ControlNumberExhausted, ControlNumbers, OutboundDocument, Outbox

NOW = datetime(2026, 3, 15, 9, 30, 5, tzinfo=UTC)
X12_997 = "ISA*00*          *00*          *ZZ*SENDER         *ZZ*AMAZON         *260315*0930*U*00401*000000012*0*P*>~"
X12_NUMBERS = {"ISA13": "000000012", "GS06": "12", "ST02": "0001"}


def _outbox(tmp_path: Path, *, warehouse: bool = True) -> Outbox:
    return Outbox(tmp_path / "outbox", tmp_path / "warehouse.duckdb" if warehouse else None, clock=lambda: NOW)


def _write_997(outbox: Outbox, **overrides: object) -> OutboundDocument:
    arguments = {
        "document_type": "997",
        "standard": "X12",
        "partner": "AMAZON",
        "content": X12_997,
        "control_numbers": X12_NUMBERS,
        "related_inbound": "850_sha256",
    }
    return outbox.write(**{**arguments, **overrides})


def _visible_files(folder: Path) -> list[str]:
    """The outbox as a transfer agent sees it, without the control number store."""
    return sorted(path.name for path in folder.iterdir() if not path.name.startswith(".control_numbers"))


# --- control numbers -------------------------------------------------------------------------------------


def test_control_numbers_start_at_one_and_increase_per_series(tmp_path: Path) -> None:
    numbers = ControlNumbers(tmp_path / "numbers.sqlite3")
    assert [numbers.next("x12:ISA13:AMAZON") for _ in range(3)] == [1, 2, 3]
    assert [numbers.next("x12:GS06:AMAZON") for _ in range(2)] == [1, 2]
    assert numbers.next("x12:ISA13:AMAZON") == 4


def test_control_numbers_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "numbers.sqlite3"
    first = ControlNumbers(path)
    first.next("edifact:UNB:5450534000024")
    first.next("edifact:UNB:5450534000024")
    assert ControlNumbers(path).next("edifact:UNB:5450534000024") == 3


def test_control_numbers_refuse_to_pass_the_maximum_and_keep_the_series(tmp_path: Path) -> None:
    numbers = ControlNumbers(tmp_path / "numbers.sqlite3")
    assert [numbers.next("x12:ST02", maximum=2) for _ in range(2)] == [1, 2]
    with pytest.raises(ControlNumberExhausted, match=r"'x12:ST02'.*maximum 2"):
        numbers.next("x12:ST02", maximum=2)
    # The refused increment was rolled back: a larger maximum carries on without a gap.
    assert numbers.next("x12:ST02", maximum=3) == 3


def _draw(path: Path, series: str, count: int, start: Event, results: Queue) -> None:
    numbers = ControlNumbers(path)
    # Spawning takes a while: waiting for the others makes the four processes really draw at the same time.
    start.wait(timeout=60)
    results.put([numbers.next(series) for _ in range(count)])


def test_a_reserved_block_is_taken_whole_and_the_series_goes_on_after_it(tmp_path: Path) -> None:
    numbers = ControlNumbers(tmp_path / "numbers.sqlite3")
    assert numbers.reserve("sscc:5060123", 64) == 1
    assert numbers.next("sscc:5060123") == 65
    assert numbers.reserve("sscc:5060123", 3) == 66
    with pytest.raises(ControlNumberExhausted):
        numbers.reserve("sscc:5060123", 10, maximum=70)
    assert numbers.next("sscc:5060123", maximum=70) == 69  # the refused block took nothing


def test_control_numbers_never_repeat_across_processes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pytestconfig: pytest.Config
) -> None:
    # Spawned children import `_draw` by this module's name, which pytest derives from the root directory.
    monkeypatch.syspath_prepend(str(pytestconfig.rootpath))
    path = tmp_path / "numbers.sqlite3"
    ControlNumbers(path)
    context = multiprocessing.get_context("spawn")
    start, results = context.Event(), context.Queue()
    workers = [context.Process(target=_draw, args=(path, "x12:ISA13:AMAZON", 200, start, results)) for _ in range(4)]
    for worker in workers:
        worker.start()
    start.set()
    # Drain the queue before joining: a child with unread data in a queue does not exit.
    drawn = [number for _ in workers for number in results.get(timeout=120)]
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    assert sorted(drawn) == list(range(1, 801))


# --- writing documents -----------------------------------------------------------------------------------


def test_write_puts_the_exact_content_under_a_unique_name(tmp_path: Path) -> None:
    outbox = _outbox(tmp_path)
    document = _write_997(outbox, content=X12_997 + "\r\n")
    assert document.file_name == "X12_997_AMAZON_000000012_20260315093005.edi"
    assert document.path == tmp_path / "outbox" / document.file_name
    assert document.path.read_bytes() == (X12_997 + "\r\n").encode()
    assert document.sha256 == hashlib.sha256((X12_997 + "\r\n").encode()).hexdigest()
    assert document.size_bytes == len(X12_997) + 2
    assert document.written_at == NOW
    assert _visible_files(outbox.folder) == [document.file_name]


def test_file_names_are_sanitised(tmp_path: Path) -> None:
    document = _outbox(tmp_path).write(
        document_type="SPAPI-ACK",
        standard="SPAPI",
        partner="Amazon EU/UK_Sàrl",
        content=b'{"acknowledgements": []}',
        control_numbers={"transaction": "tx 1/2"},
        extension=".json",
    )
    # A partner id that had to be cleaned carries a short hash of the raw id, so two ids that clean alike
    # (AMAZON.EU, AMAZON-EU) never share a file name.
    assert document.file_name == "SPAPI_SPAPI-ACK_Amazon-EU-UK-S-rl-eb10cf_tx-1-2_20260315093005.json"


def test_write_converts_the_clock_to_utc(tmp_path: Path) -> None:
    london_summer = timezone(timedelta(hours=1))
    outbox = Outbox(tmp_path / "outbox", clock=lambda: datetime(2026, 7, 1, 10, 0, tzinfo=london_summer))
    document = _write_997(outbox)
    assert document.written_at == datetime(2026, 7, 1, 9, 0, tzinfo=UTC)
    assert document.file_name.endswith("_20260701090000.edi")


@pytest.mark.parametrize("content", ["", b"", " \r\n"])
def test_write_refuses_empty_content(tmp_path: Path, content: str | bytes) -> None:
    outbox = _outbox(tmp_path)
    with pytest.raises(ValueError, match="empty X12 997"):
        _write_997(outbox, content=content)
    assert _visible_files(outbox.folder) == []


def test_write_refuses_an_existing_name_and_keeps_the_first_file(tmp_path: Path) -> None:
    outbox = _outbox(tmp_path)
    first = _write_997(outbox)
    with pytest.raises(FileExistsError, match="refusing to overwrite"):
        _write_997(outbox, content="ISA*something else~")
    assert first.path.read_text() == X12_997
    assert _visible_files(outbox.folder) == [first.file_name]
    assert len(outbox.documents()) == 1


def test_a_failed_rename_leaves_no_temp_file_and_no_document(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    outbox = _outbox(tmp_path)

    def failing_replace(source: object, destination: object) -> None:
        raise OSError("disk unplugged")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk unplugged"):
        _write_997(outbox)
    assert _visible_files(outbox.folder) == []
    assert outbox.documents() == []


def test_write_without_a_warehouse_still_writes(tmp_path: Path) -> None:
    outbox = _outbox(tmp_path, warehouse=False)
    document = _write_997(outbox)
    assert document.path.read_text() == X12_997
    assert not (tmp_path / "warehouse.duckdb").exists()
    with pytest.raises(ValueError, match="no warehouse"):
        outbox.documents()


def test_outbox_keeps_its_control_numbers_in_the_folder(tmp_path: Path) -> None:
    outbox = _outbox(tmp_path)
    assert outbox.control_numbers.next("x12:ISA13:AMAZON") == 1
    assert _outbox(tmp_path).control_numbers.next("x12:ISA13:AMAZON") == 2
    assert (tmp_path / "outbox" / ".control_numbers.sqlite3").exists()


# --- the registry ----------------------------------------------------------------------------------------


def test_written_documents_are_registered_and_read_back(tmp_path: Path) -> None:
    ticks = iter([NOW, NOW + timedelta(seconds=1)])
    outbox = Outbox(tmp_path / "outbox", tmp_path / "warehouse.duckdb", clock=lambda: next(ticks))
    first = _write_997(outbox)
    second = outbox.write(
        document_type="DESADV",
        standard="EDIFACT",
        partner="5450534000024",
        content="UNA:+.? 'UNB+UNOA:3+SENDER+5450534000024+260315:0930+7'",
        control_numbers={"UNB": "7", "UNH": "1"},
    )
    assert second.file_name == "EDIFACT_DESADV_5450534000024_7_20260315093006.edi"
    assert outbox.documents() == [first, second]

    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        row = con.execute(
            "select sha256, size_bytes, control_numbers::varchar, related_inbound, written_at"
            " from audit.outbound_documents where document_id = ?",
            [first.document_id],
        ).fetchone()
    sha256, size_bytes, numbers, related_inbound, written_at = row
    assert (sha256, size_bytes, related_inbound) == (first.sha256, first.size_bytes, "850_sha256")
    assert numbers == '{"GS06": "12", "ISA13": "000000012", "ST02": "0001"}'
    assert written_at == NOW


def test_documents_is_empty_before_anything_is_written(tmp_path: Path) -> None:
    assert _outbox(tmp_path).documents() == []
