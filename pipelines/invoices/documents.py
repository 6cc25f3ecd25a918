"""An invoice written to Amazon through the outbox: X12 810, EDIFACT INVOIC or the SP-API invoice."""

from __future__ import annotations

from pipelines.edi.outbound import API, EDIFACT, X12, write_outbound
from pipelines.edi.outbox import OutboundDocument, Outbox
from pipelines.invoices.api import render_api_invoice
from pipelines.invoices.edifact import render_invoic
from pipelines.invoices.model import AmazonInvoice
from pipelines.invoices.x12 import render_810

DOCUMENT_TYPES = {X12: "810", EDIFACT: "INVOIC", API: "INVOICE"}
# The X12 release an 810 is written in: Amazon's retail invoice guide is 4010 (only its 856 is 5010).
X12_INVOICE_VERSION = "004010"


def write_invoice(
    invoice: AmazonInvoice,
    outbox: Outbox,
    *,
    our_id: str,
    partner_id: str,
    related_inbound: str,
) -> OutboundDocument:
    """Render `invoice` in its standard and write it to the outbox as one new file (ValueError: nothing written).

    `related_inbound` is the Sage invoice it is (``sage_invoice:<id>``), so a run after a crash finds it.
    """
    return write_outbound(
        outbox,
        standard=invoice.standard,
        document_types=DOCUMENT_TYPES,
        partner_id=partner_id,
        x12=lambda controls, prepared_at: render_810(
            invoice,
            version=X12_INVOICE_VERSION,
            sender_id=our_id,
            receiver_id=partner_id,
            isa13=controls.isa13,
            gs06=controls.gs06,
            st02=controls.st02,
            prepared_at=prepared_at,
        ),
        edifact=lambda controls, prepared_at: render_invoic(
            invoice,
            sender_id=our_id,
            receiver_id=partner_id,
            unb_reference=controls.unb,
            unh_reference=controls.unh,
            prepared_at=prepared_at,
        ),
        api=lambda _prepared_at: render_api_invoice(invoice),
        related_inbound=related_inbound,
    )
