"""Who the sample vendor is: the single values the generator needs about the company and its Amazon account.

These mirror the project's configuration (vendor code → Amazon customer account, GS1 prefix, bank codes);
the generator takes a profile so a configuration file can supply one without touching the generator.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class VendorProfile:
    company_name: str
    brand: str
    sku_prefix: str
    vendor_code: str  # exchanges EDIFACT; the vendor code Sage's company record names
    x12_vendor_code: str  # the second Amazon UK vendor code, exchanging X12
    x12_interchange_id: str  # our ISA08 / GS03 on X12 from Amazon
    marketplace: str
    gs1_company_prefix: str
    amazon_customer_reference: str
    amazon_customer_name: str
    clearing_bank: str
    real_bank: str
    cash_in_transit_bank: str


HARTLEY_AND_FINCH = VendorProfile(
    company_name="Hartley & Finch Ltd",
    brand="Hartley & Finch",
    sku_prefix="HF",
    vendor_code="HAFIN",
    x12_vendor_code="HAFIX",
    x12_interchange_id="HARTLEYFINCH",
    marketplace="Amazon.co.uk",
    gs1_company_prefix="5060123",
    amazon_customer_reference="AMA001",
    amazon_customer_name="Amazon EU SARL (UK)",
    clearing_bank="AMZCLR",
    real_bank="BARC01",
    cash_in_transit_bank="CIT01",
)
