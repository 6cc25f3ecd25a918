"""functional_acks: one 997 per inbound group, byte-exact against golden files, re-readable by read_x12."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipelines.amazon.documents import InboundAcknowledgement
from pipelines.edi.outbox import Outbox
from pipelines.edi.x12 import functional_acks, parse_interchange, read_x12
from pipelines.edi.x12.validator import default_registry

SAMPLES = Path(__file__).parents[1] / "fixtures" / "amazon"
GOLDEN = Path(__file__).parent / "golden" / "x12"
NOW = datetime(2026, 3, 15, 9, 30, tzinfo=UTC)

GOOD_850 = (SAMPLES / "amz850_predi_1PCPDX1U.edi").read_bytes()
# SE01 says 11 while the set has 10 segments: accepted (we read the order) with the error noted.
MISCOUNTED_850 = GOOD_850.replace(b"SE*10*0001", b"SE*11*0001")
# An invalid date, an unknown unit of measure and a segment no 850 has: rejected, with an AK3 per segment.
BAD_850 = GOOD_850.replace(b"**20220131~REF", b"**20220231~REF").replace(b"*EA*", b"*XX*")
BAD_850 = BAD_850.replace(b"CTT*1*72~SE*10", b"CTT*1*72~ZZZ*1~SE*11")


def outbox(tmp_path: Path) -> Outbox:
    """A fresh outbox (fresh control numbers) whose clock is fixed, so the 997s are byte-for-byte stable."""
    return Outbox(tmp_path / "outbox", clock=lambda: NOW)


def acknowledge(data: bytes, tmp_path: Path, file_name: str = "inbound.edi") -> list[bytes]:
    parsed = read_x12(data, file_name)
    documents = functional_acks(data, parsed, outbox(tmp_path), "8009225524", "12", file_name=file_name)
    return [document.path.read_bytes() for document in documents]


@pytest.mark.parametrize(
    ("data", "golden"),
    [
        pytest.param(GOOD_850, "997_accepted.edi", id="accepted"),
        pytest.param(MISCOUNTED_850, "997_accepted_with_errors.edi", id="accepted-with-errors"),
        pytest.param(BAD_850, "997_rejected.edi", id="rejected"),
    ],
)
def test_997_matches_its_golden_file(data: bytes, golden: str, tmp_path: Path) -> None:
    (content,) = acknowledge(data, tmp_path)
    assert content.decode() == (GOLDEN / golden).read_text()


@pytest.mark.parametrize("golden", ["997_accepted.edi", "997_accepted_with_errors.edi", "997_rejected.edi"])
def test_golden_997_reads_back_and_passes_our_997_map(golden: str) -> None:
    data = (GOLDEN / golden).read_bytes()
    interchange = parse_interchange(data)
    assert interchange.errors == []
    (group,) = interchange.groups
    (transaction_set,) = group.sets
    transaction_map = default_registry().find(group.version, "997")
    assert transaction_map is not None
    assert transaction_map.validate(transaction_set.segments, interchange.separators) == []
    (result,) = read_x12(data).sets
    assert isinstance(result.document, InboundAcknowledgement)
    assert (result.document.acknowledged_control_number, result.document.acknowledged_document_type) == ("0001", "850")


def test_rejected_997_tells_amazon_where_each_error_is() -> None:
    (result,) = read_x12((GOLDEN / "997_rejected.edi").read_bytes()).sets
    assert result.document == InboundAcknowledgement(
        kind="997",
        acknowledged_control_number="0001",
        acknowledged_document_type="850",
        status="rejected",
        errors=(
            "segment BEG at position 2: 8 segment has data element errors",
            "element 5 (data element 373): 8 invalid date, value '20220231'",
            "segment PO1 at position 8 in loop PO1: 8 segment has data element errors",
            "element 3 (data element 355): 7 invalid code value, value 'XX'",
            "segment ZZZ at position 10: 1 unrecognized segment ID",
            "AK5 5: one or more segments in error",
        ),
    )


def test_997_is_registered_with_its_control_numbers_and_inbound_file(tmp_path: Path) -> None:
    box = outbox(tmp_path)
    parsed = read_x12(GOOD_850)
    (first,) = functional_acks(GOOD_850, parsed, box, "8009225524", "12", file_name="po.edi")
    (second,) = functional_acks(GOOD_850, parsed, box, "8009225524", "12", file_name="po.edi")
    assert first.control_numbers == {"ISA13": "000000001", "GS06": "1", "ST02": "0001"}
    assert second.control_numbers == {"ISA13": "000000002", "GS06": "2", "ST02": "0002"}
    assert (first.document_type, first.standard, first.partner, first.related_inbound) == (
        "997",
        "X12",
        "AMAZON",
        "po.edi",
    )


def test_one_997_per_group_and_partial_acceptance(tmp_path: Path) -> None:
    good_set = GOOD_850.split(b"~ST*")[1].split(b"~GE*")[0]
    bad_set = BAD_850.split(b"~ST*")[1].split(b"~GE*")[0].replace(b"0001", b"0002")
    head = GOOD_850.split(b"~ST*")[0]
    data = head + b"~ST*" + good_set + b"~ST*" + bad_set + b"~GE*2*69737~"
    data += b"GS*PO*AMAZON*8009225524*20220131*1340*69738*X*004010~ST*" + good_set + b"~GE*1*69738~IEA*2*000069737~"
    first, second = acknowledge(data, tmp_path)
    assert b"AK1*PO*69737~\nAK2*850*0001~\nAK5*A~\nAK2*850*0002~\n" in first
    assert first.endswith(b"AK5*R*5~\nAK9*P*2*2*1~\nSE*13*0001~\nGE*1*1~\nIEA*1*000000001~\n")
    assert b"AK1*PO*69738~\nAK2*850*0001~\nAK5*A~\nAK9*A*1*1*1~\n" in second
    assert (
        b"ISA*00*          *00*          *12*8009225524     *ZZ*AMAZON         *260315*0930*U*00401*000000002" in second
    )


def test_unsupported_set_and_group_trailer_errors(tmp_path: Path) -> None:
    (content,) = acknowledge((SAMPLES / "amzdf810_stedi_starterkit_spec.edi").read_bytes(), tmp_path)
    # The 810 is not ours to read (R 1) and its SE01 is wrong (4); GE02 disagrees with GS06 (AK9 4). The answer
    # uses the partner's separators: here a newline ends each segment.
    assert b"\nAK1*IN*95\nAK2*810*000000001\nAK5*R*1*4\nAK9*R*1*1*0*4\nSE*6*0001\n" in content
    # A test interchange is answered with a test acknowledgement.
    assert content.startswith(b"ISA*00*          *00*          *12*8009225524     *ZZ*ATFDS          *")
    assert b"*U*00401*000000001*0*T*>\n" in content


def test_997s_are_never_acknowledged(tmp_path: Path) -> None:
    golden = (GOLDEN / "997_accepted.edi").read_bytes()
    parsed = read_x12(golden)
    assert functional_acks(golden, parsed, outbox(tmp_path), "AMAZON") == []


def test_parsed_must_be_this_data(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="parsed is interchange 000012911"):
        functional_acks(
            GOOD_850, read_x12((SAMPLES / "amz850_predi_guide_L8266355.edi").read_bytes()), outbox(tmp_path), "X"
        )
    # Read without validation the unknown unit of measure goes through; the 997 would have to reject it.
    unchecked = GOOD_850.replace(b"*EA*", b"*XX*")
    with pytest.raises(ValueError, match="parsed does not match"):
        functional_acks(unchecked, read_x12(unchecked, validate=False), outbox(tmp_path), "X")


def test_what_cannot_be_echoed_is_left_out_of_the_997(tmp_path: Path) -> None:
    # A segment tag that is no tag cannot be an AK301, and "^" is no 004010 character for an AK404.
    data = GOOD_850.replace(b"CSH*Y~", b"CSHX9*Y~").replace(b"*EA*", b"*E^*")
    (content,) = acknowledge(data, tmp_path)
    assert b"AK2*850*0001~\nAK3*PO1*8*PO1*8~\nAK4*3*355*7~\nAK4*3*355*6~\nAK5*R*5~\nAK9*R*1*1*0~\n" in content


def test_a_5010_group_is_answered_in_5010_with_the_partners_separators(tmp_path: Path) -> None:
    isa = b"ISA|00|          |00|          |ZZ|AMAZON         |ZZ|VENDOR         |240301|1200|{|00501|000000005|0|P|^!"
    group = b"GS|PO|AMAZON|VENDOR|20240301|1200|5|X|005010!"
    body = GOOD_850.split(b"~ST*")[1].split(b"~GE*")[0].replace(b"*", b"|").replace(b"~", b"!")
    data = isa + group + b"ST|" + body + b"!GE|1|5!IEA|1|000000005!"
    (content,) = acknowledge(data, tmp_path)
    assert content.decode() == (
        "ISA|00|          |00|          |12|8009225524     |ZZ|AMAZON         |260315|0930|{|00501|000000001|0|P|^!\n"
        "GS|FA|8009225524|AMAZON|20260315|0930|1|X|005010!\n"
        "ST|997|0001!\n"
        "AK1|PO|5!\n"
        "AK2|850|0001!\n"
        "AK5|A!\n"
        "AK9|A|1|1|1!\n"
        "SE|6|0001!\n"
        "GE|1|1!\n"
        "IEA|1|000000001!\n"
    )
