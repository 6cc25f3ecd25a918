"""A ship notice written to Amazon through the outbox: X12 856, EDIFACT DESADV or the SP-API confirmation."""

from __future__ import annotations

from pipelines.edi.outbound import API, EDIFACT, X12, write_outbound
from pipelines.edi.outbox import OutboundDocument, Outbox
from pipelines.shipments.api import render_api_shipment_confirmation
from pipelines.shipments.edifact import render_desadv
from pipelines.shipments.model import ShipmentNotice
from pipelines.shipments.x12 import render_856

DOCUMENT_TYPES = {X12: "856", EDIFACT: "DESADV", API: "SHIPMENT_CONFIRMATION"}


def write_shipment_notice(
    notice: ShipmentNotice,
    outbox: Outbox,
    *,
    our_id: str,
    partner_id: str,
    related_inbound: str,
) -> OutboundDocument:
    """Render `notice` in its standard and write it to the outbox as one new file (ValueError: nothing written).

    `related_inbound` is the despatch the notice is for (``despatch:<Sage id>``): the registry row that lets a
    run after a crash find a notice already written instead of writing a second one.
    """
    return write_outbound(
        outbox,
        standard=notice.standard,
        document_types=DOCUMENT_TYPES,
        partner_id=partner_id,
        x12=lambda controls, prepared_at: render_856(
            notice,
            sender_id=our_id,
            receiver_id=partner_id,
            isa13=controls.isa13,
            gs06=controls.gs06,
            st02=controls.st02,
            prepared_at=prepared_at,
        ),
        edifact=lambda controls, prepared_at: render_desadv(
            notice,
            sender_id=our_id,
            receiver_id=partner_id,
            unb_reference=controls.unb,
            unh_reference=controls.unh,
            prepared_at=prepared_at,
        ),
        api=lambda _prepared_at: render_api_shipment_confirmation(notice),
        related_inbound=related_inbound,
    )
