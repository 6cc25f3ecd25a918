"""Invoices to Amazon: Sage's invoices for the orders we placed, checked against the PO and the ASN, sent."""
