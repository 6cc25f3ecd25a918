"""dlt source `app`: what the integration itself knows, loaded into `raw_app` like any other source.

The business configuration: every setting that names something in Sage (a customer account, a bank, a
nominal code) becomes a row, so dbt can check that Sage really has it; the rules the SQL applies (price
tolerance, lead times) become rows too, and each vendor code is a row of its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dlt
from dlt.common.pipeline import LoadInfo

from pipelines.settings import BusinessConfig


def sage_references(config: BusinessConfig) -> Iterator[dict[str, Any]]:
    """The configuration's references to Sage entities, one row per setting."""
    for vendor in config.vendor_codes:
        yield {
            "setting": f"vendor_codes.{vendor.code}.sage_customer_account",
            "value": vendor.sage_customer_account,
            "sage_entity": "customer",
        }
    banks = {"clearing": config.banks.clearing, "real": config.banks.real, "in_transit": config.banks.in_transit}
    for name, code in banks.items():
        if code:
            yield {"setting": f"banks.{name}", "value": code, "sage_entity": "bank"}
    nominals = {
        "suspense": config.nominal.suspense,
        "deductions_under_dispute": config.nominal.deductions_under_dispute,
    }
    for name, reference in nominals.items():
        if reference:
            yield {"setting": f"nominal.{name}", "value": reference, "sage_entity": "nominal_code"}


def business_rules(config: BusinessConfig) -> Iterator[dict[str, Any]]:
    """The single values dbt applies, as text (exact decimals, `true`/`false`; the models cast them)."""
    rules = {
        "company.timezone": config.company.timezone,
        "tolerances.price_tolerance_percent": config.tolerances.price_tolerance_percent,
        "tolerances.remittance_amount_tolerance": config.tolerances.remittance_amount_tolerance,
        "lead_times.backorder_days": config.lead_times.backorder_days,
        "lead_times.ack_deadline_hours": config.lead_times.ack_deadline_hours,
        "approval.posting_threshold": config.approval.posting_threshold,
        "approval.auto_approve": config.approval.auto_approve,
        "banks.use_in_transit": config.banks.use_in_transit,
    }
    for setting, value in rules.items():
        yield {"setting": setting, "value": _text(value), "sage_entity": None}


def _text(value: object) -> str:
    # SQL's spelling of a boolean, which `cast(... as boolean)` reads back; Python's str() would say "True".
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def vendor_code_rows(config: BusinessConfig) -> Iterator[dict[str, Any]]:
    for vendor in config.vendor_codes:
        yield {
            "vendor_code": vendor.code,
            "marketplace": vendor.marketplace,
            "sage_customer_account": vendor.sage_customer_account,
            "edi_standard": vendor.edi_standard,
            "currency": vendor.currency,
        }


@dlt.source(name="app")
def app_source(config: BusinessConfig, config_file: str) -> Any:
    """The integration's own data: the business configuration in force."""

    # Replace, not merge: the table is the configuration as it is now; a setting removed from the file
    # must disappear, and its history is the configuration file's own (version control).
    @dlt.resource(
        name="business_settings",
        primary_key="setting",
        write_disposition="replace",
        columns={"sage_entity": {"data_type": "text", "nullable": True}},
    )
    def business_settings() -> Iterator[dict[str, Any]]:
        for row in (*sage_references(config), *business_rules(config)):
            yield {**row, "config_file": config_file}

    @dlt.resource(name="vendor_codes", primary_key="vendor_code", write_disposition="replace")
    def vendor_codes() -> Iterator[dict[str, Any]]:
        for row in vendor_code_rows(config):
            yield {**row, "config_file": config_file}

    return business_settings, vendor_codes


def run(config: BusinessConfig, config_file: Path, warehouse: Path, pipelines_dir: Path | None = None) -> LoadInfo:
    """Load the configuration into `raw_app` without Dagster."""
    pipeline = dlt.pipeline(
        pipeline_name="app",
        destination=dlt.destinations.duckdb(str(warehouse)),
        dataset_name="raw_app",
        pipelines_dir=str(pipelines_dir) if pipelines_dir else None,
    )
    return pipeline.run(app_source(config, str(config_file)))
