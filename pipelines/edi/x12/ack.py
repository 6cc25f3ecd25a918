"""997 functional acknowledgements for an inbound X12 file: one 997 per functional group received.

The 997 says, per set, what `read_x12` did with it: A (a document came out), E (a document came out
although its SE count or control number was wrong), R (quarantined: not supported, no SE, or the segments
in error, with an AK3 per segment and an AK4 per element at fault); AK9 sums the group up (A, E, P, R) with
the GE count/control errors. Groups of 997s are never acknowledged (that would never end).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from datetime import UTC

from pipelines.amazon.documents import ParsedFile
from pipelines.edi.outbox import OutboundDocument, Outbox
from pipelines.edi.x12.inbound import SetOutcome, read_sets
from pipelines.edi.x12.reader import FunctionalGroup, Interchange, Separators, parse_interchange
from pipelines.edi.x12.validator import Issue, default_registry
from pipelines.edi.x12.writer import OutboundGroup, OutboundInterchange, OutboundSet, SegmentValues, write_x12

ACKNOWLEDGEMENT_GROUP = "FA"
# The version we answer in when we have no 997 map for the inbound group's GS08.
FALLBACK_VERSION = "004010"
# AK5 holds at most five error codes (AK502-AK506), AK9 five (AK905-AK909), an AK3 loop 99 AK4s.
MAX_CODES = 5
MAX_AK4 = 99
MAX_BAD_VALUE = 99
# What a 997 can echo (AK101 GS01, AK102 GS06, AK201 ST01, AK301 a segment tag): anything else in a
# partner's header is left out of the answer rather than making the 997 itself invalid.
_FUNCTIONAL_ID = re.compile(r"[A-Z0-9]{2}")
_GROUP_CONTROL_NUMBER = re.compile(r"[0-9]{1,9}")
_SET_ID = re.compile(r"[A-Z0-9]{3}")
_SEGMENT_TAG = re.compile(r"[A-Z][A-Z0-9]{1,2}")
_SET_COUNT = re.compile(r"[0-9]{1,6}")
# The X12 extended character set of 004010 (005010 adds ^ and `); a value starts and ends with no space.
_X12_CHARACTERS = r"""A-Za-z0-9!"&'()*+,\-./:;?=%~@\[\]_{}\\|<>#$"""
_FREE_TEXT = re.compile(f"[{_X12_CHARACTERS}](?:[{_X12_CHARACTERS} ]*[{_X12_CHARACTERS}])?")

log = logging.getLogger(__name__)


def functional_acks(
    data: bytes,
    parsed: ParsedFile,
    outbox: Outbox,
    our_id: str,
    our_qualifier: str = "ZZ",
    *,
    file_name: str | None = None,
) -> list[OutboundDocument]:
    """Write one 997 per functional group of `data` (as `parsed` read it) to `outbox` and return them.

    Control numbers come from the outbox series ``x12:ISA13:<partner>``, ``x12:GS06:<partner>`` and
    ``x12:ST02``, the partner being the inbound ISA06. `file_name` (the inbound file) is recorded as the
    997's related inbound document. Raises ValueError when `parsed` is not what `data` reads as.
    """
    interchange = parse_interchange(data)
    outcomes = read_sets(interchange)
    _check_matches(parsed, interchange, outcomes)
    partner = interchange.sender_id
    prepared_at = outbox.clock().astimezone(UTC)
    registry = default_registry()
    written = []
    for group in interchange.groups:
        if group.functional_id == ACKNOWLEDGEMENT_GROUP:
            continue
        if not (
            _FUNCTIONAL_ID.fullmatch(group.functional_id) and _GROUP_CONTROL_NUMBER.fullmatch(group.control_number)
        ):
            # AK1 must repeat GS01 and GS06; a group without usable ones can only be answered by a TA1.
            log.warning("no 997 for the group at %s: GS01/GS06 cannot be acknowledged", group.header.at())
            continue
        version = group.version if registry.entry(group.version, "997") else FALLBACK_VERSION
        isa13 = outbox.control_numbers.next(f"x12:ISA13:{partner}")
        gs06 = str(outbox.control_numbers.next(f"x12:GS06:{partner}"))
        st02 = f"{outbox.control_numbers.next('x12:ST02'):04d}"
        separators = _separators(interchange.separators, version)
        body = ack_body(group, [o for o in outcomes if o.group is group], separators)
        text = write_x12(
            OutboundInterchange(
                sender_qualifier=our_qualifier,
                sender_id=our_id,
                receiver_qualifier=interchange.sender_qualifier,
                receiver_id=partner,
                control_number=isa13,
                prepared_at=prepared_at,
                version=version[:5],
                usage=interchange.usage,  # a test interchange gets a test acknowledgement
                groups=[
                    OutboundGroup(
                        functional_id=ACKNOWLEDGEMENT_GROUP,
                        application_sender=our_id,
                        application_receiver=group.application_sender,
                        control_number=gs06,
                        version=version,
                        sets=[OutboundSet("997", st02, body)],
                    )
                ],
            ),
            separators,
            registry=registry,
        )
        written.append(
            outbox.write(
                document_type="997",
                standard="X12",
                partner=partner,
                content=text,
                control_numbers={"ISA13": f"{isa13:09d}", "GS06": gs06, "ST02": st02},
                related_inbound=file_name,
            )
        )
    return written


def ack_body(group: FunctionalGroup, outcomes: Sequence[SetOutcome], separators: Separators) -> list[SegmentValues]:
    """The 997 segments between ST and SE for one inbound group: AK1, per set AK2 [AK3 [AK4…]…] AK5, AK9."""
    body: list[SegmentValues] = [("AK1", group.functional_id, group.control_number)]
    accepted = 0
    for outcome in outcomes:
        transaction_set = outcome.transaction_set
        trailer_codes = [error.code for error in transaction_set.errors]
        if not (
            _SET_ID.fullmatch(transaction_set.set_id)
            and 4 <= len(transaction_set.control_number) <= 9
            and _writable(transaction_set.control_number, separators)
        ):
            # AK2 must repeat ST01 and ST02: a set without usable ones is counted in AK9, not listed.
            continue
        body.append(("AK2", transaction_set.set_id, transaction_set.control_number))
        if outcome.rejection is None:
            accepted += 1
            body.append(("AK5", "E" if trailer_codes else "A", *_codes(trailer_codes)))
        else:
            body += _ak3_loops(outcome.rejection.issues, separators)
            body.append(("AK5", "R", *_codes([outcome.rejection.code, *trailer_codes])))
    received = len(outcomes)
    group_codes = [error.code for error in group.errors]
    declared = group.trailer.element(1) if group.trailer is not None else ""
    if received == 0 or accepted == 0:
        status = "R"
    elif accepted < received:
        status = "P"
    else:
        with_errors = group_codes or any(o.transaction_set.errors for o in outcomes)
        status = "E" if with_errors else "A"
    included = declared if _SET_COUNT.fullmatch(declared) else str(received)
    body.append(("AK9", status, included, str(received), str(accepted), *_codes(group_codes)))
    return body


def _ak3_loops(issues: Sequence[Issue], separators: Separators) -> list[SegmentValues]:
    """One AK3 per segment at fault (in order), each followed by the AK4s of its elements."""
    segments: list[SegmentValues] = []
    current: tuple[str, int, str] | None = None
    ak4_count = 0
    for issue in issues:
        if not _SEGMENT_TAG.fullmatch(issue.segment_tag):
            continue  # garbage where a segment tag should be cannot be quoted in AK301; AK5 still says R
        key = (issue.segment_tag, issue.set_position, issue.segment_code)
        if key != current:
            current, ak4_count = key, 0
            segments.append(
                ("AK3", issue.segment_tag, str(issue.set_position), issue.loop_id or "", issue.segment_code)
            )
        if issue.element is None or issue.element_code is None or ak4_count == MAX_AK4:
            continue
        position: str | tuple[str, str] = str(issue.element)
        if issue.component is not None:
            position = (str(issue.element), str(issue.component))
        data_element = issue.data_element if issue.data_element and issue.data_element.isdigit() else ""
        segments.append(("AK4", position, data_element, issue.element_code, _bad_value(issue.bad_value, separators)))
        ak4_count += 1
    return segments


def _bad_value(value: str | None, separators: Separators) -> str:
    """AK404 when it can be written: printable, no separator, at most 99 characters; else nothing."""
    value = (value or "")[:MAX_BAD_VALUE].strip()
    return value if value and _writable(value, separators) else ""


def _writable(value: str, separators: Separators) -> bool:
    """X12 extended characters, none of our separators, no surrounding spaces: safe to copy into the 997."""
    reserved = {separators.element, separators.component, separators.segment, separators.repetition}
    return bool(_FREE_TEXT.fullmatch(value)) and not reserved.intersection(value)


def _codes(codes: Sequence[str]) -> list[str]:
    unique = list(dict.fromkeys(codes))
    return unique[:MAX_CODES]


def _separators(inbound: Separators, version: str) -> Separators:
    """Answer with the partner's own separators, plus a repetition separator (ISA11) for a 5010 answer to an
    interchange that had none."""
    if inbound.repetition is not None or version < "00402":
        return inbound
    used = {inbound.element, inbound.component, inbound.segment}
    repetition = next(char for char in "^|!`" if char not in used)
    return Separators(inbound.element, inbound.component, inbound.segment, repetition)


def _check_matches(parsed: ParsedFile, interchange: Interchange, outcomes: Sequence[SetOutcome]) -> None:
    """`parsed` must be this data read by `read_x12`: the 997 must say what we did, not what we would do now."""
    if (parsed.interchange_control_number, parsed.sender_id) != (interchange.control_number, interchange.sender_id):
        raise ValueError(
            f"parsed is interchange {parsed.interchange_control_number} from {parsed.sender_id}, the data is"
            f" {interchange.control_number} from {interchange.sender_id}"
        )
    verdicts = [
        (result.group_control_number, result.control_number, result.document is None)
        for outcome in outcomes
        for result in outcome.results
    ]
    theirs = [(result.group_control_number, result.control_number, result.document is None) for result in parsed.sets]
    if verdicts != theirs:
        raise ValueError("parsed does not match what the data reads as now: re-read the file before acknowledging it")
