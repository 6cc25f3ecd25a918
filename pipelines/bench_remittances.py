"""`avc2sage bench`, the remittances part: a year of a large vendor's Amazon payments matched and planned in SQL,
each remittance model beside a floor.

The warehouse is synthesised, not loaded: Sage's invoices and a year of Amazon's payments are written straight
into `raw_sage200` and `raw_amazon` with DuckDB SQL, in a few seconds. The sample vendor pays a few hundred
invoices a year; the remittance models are meant for a large one, and this is one:

- Sage: the Amazon customer (AMA001, which both vendor codes of the example configuration invoice) and 200 trade
  customers; 80,000 posted invoices for Amazon, numbered `0000000001` on, and 8,000 for the trade customers
  after them (never candidates: another customer's). Each invoice has its VAT analysis as dlt's child rows of
  the posted transaction: standard rate (20%) on 85%, standard and zero rate on 10%, zero rate only on 5%;
  and its Amazon PO, one per invoice, through the SOP order-invoice view (and as its second reference, as
  Sage's SOP invoicing writes it). Tax codes 0, 1, 2 and 9 as the sample company numbers them; monthly
  financial periods through 2025 and 2026, so every payment is dated in a period. Each raw table has the
  columns Sage's own schema gives it, typed as the `sage200` source types them.
- Amazon: 104 weekly payments over the year, one a week for each vendor code (EDIFACT and X12), paying the
  invoices due that week (60 days' terms), ~103,000 lines in all:
  - every invoice paid once, in full, 1 in 5 less a 2% terms discount (the line's discount column);
  - 1 in 100 short-paid by 10%, the rest paid by the vendor code's next payment (the year's last week's
    stay short); 1 in 300 written without its leading zeros (matched `normalised`); 1 in 500 written as
    Amazon's own reference, so only its PO and amount find it (`po_amount`);
  - deductions, as a large vendor sees them: a shortage claim on 1 invoice in 7 five weeks after it is paid
    (4 to 12% of the invoice), reversed on 1 claim in 4 four weeks later, and revised (`SCRSC`, half the claim)
    on half of those four weeks after that; a price claim on 1 invoice in 20, in the payment of the invoice;
    a compliance chargeback for 1 PO in 20 two weeks later, naming another PO; price protection on 1 invoice
    in 200; two co-op agreement deductions a payment (one, `QZPK-20260301`, is the one whose VAT invoice the
    seed `amazon_vat_invoices` holds; the rest have none); a provision for receivables every fourth week,
    released four weeks later; an unknown code on 1 invoice in 2,000. Deductions the year ends before are
    left out: they would come next year.
  Every X12 payment comes twice, as Amazon sends it: its 820 (no descriptions) first, then the Vendor Central
  export of the same payment the next day, the version that counts. Each payment's stated net is its lines'
  sum. In the column layout of `pipelines.amazon.source.TABLES`.
- The configuration (`raw_app`, from the example file) and the audit schema, empty: no payment approved,
  frozen or posted yet.

Each stage runs in a fresh process (`pipelines.bench.measured`; (b) as it, counting dbt's memory too), in order:

(a) floor: one DuckDB query doing the core of matching without dbt: every line of each payment's latest
    version, those described as an invoice (every invoice payment here, and only those) joined to the Sage
    invoices of the vendor code's customer on the exact reference, and what each invoice had settled before
    the line (the running sum over every payment in payment order) and what the line allocates, into a table.
    The running sum is in the floor because allocating across payments is the matching's own work, not
    dbt's: a floor without it would flatter the ratio;
(b) `dbt build` of the remittance chain, its upstream and its tests (`+remittance_lines +remittance_payments
    +deductions +remittance_postings +int_exceptions_remittances`): staging, seeds, the classification, the
    three matching methods, allocation, VAT split, the posting plan, the exceptions, and every data and unit
    test whose parents are all built (dbt's cautious indirect selection; the rest test models outside the
    chain, which this warehouse does not build).

Then, from (b)'s `run_results.json`, one row per model of the chain above staging: the time dbt spent running
its SQL (the node's `execute` phase; its compile is left out), and one row for the tests' SQL summed. A view's
row is only the view's creation: its query runs inside each table that reads it, and is counted there.

Rows are the remittance lines of the latest payment versions in every row, so rows/s compares. Peak memory:
(a)'s process; (b)'s larger of its process and dbt's (dbt runs as a subprocess, with DuckDB inside it); the
per-model rows have none of their own (0), as dbt runs them all in one process.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import resource
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from datetime import time as time_of_day
from pathlib import Path
from typing import Any

import duckdb

from pipelines import app
from pipelines.amazon import source as amazon
from pipelines.bench import BENCH_AS_OF, Measurement, measured
from pipelines.bench_orders import AMAZON_TYPES, LOAD_ID, create_sage_tables, create_table, run_statements
from pipelines.sage200.source.settings import TABLES as SAGE_TABLES
from pipelines.sage200.spec import SageSpec
from pipelines.settings import EXAMPLE_CONFIG, load_business_config
from pipelines.transform import dbt_target_path, run_dbt
from pipelines.warehouse.audit import ensure_audit_schema

INVOICES = 80_000
TRADE_CUSTOMERS = 200
WEEKS = 52
WAREHOUSE_FILE = "remittances.duckdb"
AMAZON_CUSTOMER = "AMA001"
REMITTANCE_SELECTION = (
    "+remittance_lines +remittance_payments +deductions +remittance_postings +int_exceptions_remittances"
)
# dbt's clock, pinned so every run sees the same deduction ages and dispute windows: the end of the year.
DBT_NOW = datetime.combine(BENCH_AS_OF, time_of_day(18), tzinfo=UTC)
# The year of payments, one a week, the last the day before the bench's date.
FIRST_DAY = BENCH_AS_OF - timedelta(days=364)
# The Sage tables the remittance models read.
SAGE_RAW_TABLES = (
    "customers",
    "tax_codes",
    "financial_year_period_views",
    "sales_posted_transactions",
    "sop_order_return_invoice_credit_views",
)


# --- the synthetic warehouse -------------------------------------------------------------------------------


SAGE_SIDE = (
    """
    insert into raw_sage200.customers by name
    select
        1 + c as id,
        case when c = 0 then $amazon_customer else 'TRD' || lpad(cast(c as varchar), 5, '0') end as reference,
        case when c = 0 then 'Amazon EU SARL, UK Branch' else 'Trade customer ' || c end as name,
        case when c = 0 then 'AMAZON' else 'TRADE' || c end as short_name,
        cast(0 as decimal(18, 2)) as balance,
        cast(50000 as decimal(18, 2)) as credit_limit,
        cast(0 as decimal(18, 2)) as value_of_current_orders_in_sop,
        false as on_hold,
        'AccountStatusActive' as account_status_type,
        1 as currency_id, 1 as default_tax_code_id,
        'GB' || (100000000 + c) as vat_number,
        case when c = 0 then 60 else 30 end as payment_terms_days,
        'DaysFromInvoice' as payment_terms_basis,
        30 as average_time_to_pay,
        $created as date_time_created, $created as date_time_updated,
        $load_id as _dlt_load_id, 'customer-' || c as _dlt_id
    from range($trade_customers + 1) as customers(c)
    """,
    """
    insert into raw_sage200.tax_codes by name
    select
        id, id as code, name, cast(rate as decimal(18, 2)) as tax_rate, '' as terms, '' as terms_description,
        false as is_notional_acquisition_tax,
        $created as date_time_created, $created as date_time_updated,
        $load_id as _dlt_load_id, 'tax-code-' || id as _dlt_id
    from (values (0, 'Exempt', 0), (1, 'Standard rate', 20), (2, 'Zero rated', 0), (9, 'Outside the scope of VAT', 0))
        as codes(id, name, rate)
    """,
    # Calendar months of 2025 and 2026 (financial years = calendar years); Sage's end dates are the last day.
    """
    insert into raw_sage200.financial_year_period_views by name
    select
        (calendar_year - 2025) * 12 + month_number as accounting_period_id,
        calendar_year - 2024 as financial_year_id,
        month_number as period_number,
        12 as number_of_periods_in_year,
        calendar_year - 2026 as year_relative_to_current_year,
        cast(make_date(calendar_year, month_number, 1) as timestamptz) as period_start_date,
        cast(make_date(calendar_year, month_number, 1) + interval 1 month - interval 1 day as timestamptz)
            as period_end_date,
        cast(make_date(calendar_year, 1, 1) as timestamptz) as financial_year_start_date,
        cast(make_date(calendar_year, 12, 31) as timestamptz) as financial_year_end_date,
        $load_id as _dlt_load_id, 'period-' || calendar_year || '-' || month_number as _dlt_id
    from range(2025, 2027) as years(calendar_year), range(1, 13) as months(month_number)
    """,
    # Amazon's invoices 1 .. $invoices, each paid in week (n - 1) × 52 / $invoices by the payment of its vendor
    # code (odd invoices X12's), dated 60 to 66 days before; the trade customers' invoices after them.
    """
    create or replace temp table bench_invoices as
    with numbered as (
        select
            n,
            n <= $invoices as is_amazon,
            (n - 1) * $weeks // $invoices as week,
            n % 2 as vendor_index,
            cast(cast(15000 + n * 7919 % 480000 as decimal(18, 2)) / 100 as decimal(18, 2)) as goods,
            case when n % 20 = 0 then 'zero' when n % 20 in (1, 2) then 'mixed' else 'standard' end as vat
        from range(1, $invoices + $invoices // 10 + 1) as invoices(n)
    ),
    split as (
        select
            *,
            cast(case vat when 'zero' then 0 when 'mixed' then round(goods * 0.75, 2) else goods end
                as decimal(18, 2)) as standard_goods
        from numbered
    )
    select
        n,
        is_amazon,
        case when is_amazon then 1 else 2 + n % $trade_customers end as customer_id,
        lpad(cast(n as varchar), 10, '0') as reference,
        case when is_amazon then 'PO' || lpad(cast(n as varchar), 7, '0') else 'TR' || n end as po_number,
        week,
        vendor_index,
        week * 2 + vendor_index as payment_index,
        case
            when is_amazon then cast($first_day as date) + cast(week * 7 + 6 - 60 - n % 7 as integer)
            else cast($first_day as date) + cast((n - $invoices) * 364 // greatest(1, $invoices // 10) as integer) - 60
        end as invoice_date,
        standard_goods,
        cast(goods - standard_goods as decimal(18, 2)) as zero_goods,
        goods,
        cast(round(standard_goods * 0.20, 2) as decimal(18, 2)) as tax,
        cast(goods + round(standard_goods * 0.20, 2) as decimal(18, 2)) as gross
    from split
    """,
    """
    insert into raw_sage200.sales_posted_transactions by name
    select
        n as id, customer_id, 'TradingAccountEntryTypeInvoice' as trader_transaction_type,
        reference, po_number as second_reference, '' as queried,
        cast(invoice_date as timestamptz) as transaction_date,
        cast(invoice_date as timestamptz) + interval 18 hour as posted_date,
        cast(invoice_date + 60 as timestamptz) as due_date,
        goods as document_goods_value, gross as document_gross_value, tax as document_tax_value,
        0 as document_discount_value, 0 as discount_percent, 0 as document_tax_discount_value,
        0 as document_allocated_value, gross as document_outstanding_value,
        goods as base_goods_value, gross as base_gross_value, tax as base_tax_value, 0 as base_discount_value,
        0 as base_tax_discount_value, 0 as base_allocated_value, gross as control_value_in_base_currency,
        1 as exchange_rate, false as settled_immediately, 0 as discount_days, n as urn, 'API' as user_name,
        cast(invoice_date as timestamptz) + interval 18 hour as date_time_created,
        cast(invoice_date as timestamptz) + interval 18 hour as date_time_updated,
        $load_id as _dlt_load_id, 'sale-' || n as _dlt_id
    from bench_invoices
    """,
    # What each customer owes is what its transactions leave outstanding (nothing is paid in Sage yet).
    """
    update raw_sage200.customers
    set balance = outstanding.total
    from (
        select customer_id, sum(document_outstanding_value) as total
        from raw_sage200.sales_posted_transactions
        group by customer_id
    ) as outstanding
    where customers.id = outstanding.customer_id
    """,
    # One analysis line per VAT code the invoice uses, standard first, as Sage lists them.
    """
    insert into raw_sage200.sales_posted_transactions__tax_analysis_items by name
    select
        tax_code as id, tax_code as code,
        case tax_code when 1 then 'Standard rate' else 'Zero rated' end as name,
        'TaxEntryTypeSales' as entry_type,
        goods_amount, tax_amount, 0 as tax_discount_amount,
        'sale-' || n as _dlt_parent_id,
        row_number() over (partition by n order by tax_code) - 1 as _dlt_list_idx,
        'sale-' || n || '-tax-' || tax_code as _dlt_id
    from (
        select n, 1 as tax_code, standard_goods as goods_amount, tax as tax_amount
        from bench_invoices where standard_goods <> 0
        union all
        select n, 2, zero_goods, 0 from bench_invoices where zero_goods <> 0
    )
    """,
    """
    insert into raw_sage200.sop_order_return_invoice_credit_views by name
    select
        n as sop_order_return_id, 0 as sop_order_return_document_type_id,
        'SO' || lpad(cast(n as varchar), 7, '0') as sop_order_return_document_no,
        cast(invoice_date - 7 as timestamptz) as sop_order_return_document_date,
        1 as sop_order_return_document_status_id,
        po_number as sop_order_return_customer_document_no,
        goods as sop_order_return_total_net_value, tax as sop_order_return_total_tax_value,
        gross as sop_order_return_total_gross_value,
        customer_id, customers.reference as customer_reference, customers.name as customer_name,
        customers.short_name as customer_short_name,
        n as sop_invoice_credit_id, bench_invoices.reference as sop_invoice_credit_document_no,
        'Invoice' as sop_invoice_credit_type_id, cast(invoice_date as timestamptz) as sop_invoice_credit_document_date,
        'Posted' as sop_invoice_credit_document_status_id,
        goods as sop_invoice_credit_total_net_value, tax as sop_invoice_credit_total_tax_value,
        gross as sop_invoice_credit_total_gross_value,
        $load_id as _dlt_load_id, 'order-invoice-' || n as _dlt_id
    from bench_invoices
    inner join raw_sage200.customers on bench_invoices.customer_id = customers.id
    """,
)

AMAZON_SIDE = (
    # One payment a week per vendor code (payment p is week p // 2, vendor code p % 2: EDIFACT then X12).
    """
    create or replace temp table bench_payments as
    select
        p as payment_index,
        p // 2 as week,
        p % 2 as vendor_index,
        case when p % 2 = 0 then $edifact_vendor_code else $x12_vendor_code end as vendor_code,
        '41' || lpad(cast(p as varchar), 8, '0') as payment_number,
        cast($first_day as date) + cast(p // 2 * 7 + 6 as integer) as payment_date
    from range($weeks * 2) as payments(p)
    """,
    # Every line of every payment's latest version, as (payment, kind order, invoice, ...), numbered below. A
    # line `weeks_later` weeks after its invoice's payment goes to the same vendor code's payment then.
    """
    create or replace temp table bench_line_sources as
    with amazon_invoices as (
        select
            *,
            n % 100 = 37 as is_short_paid,
            cast(round(gross * 0.10, 2) as decimal(18, 2)) as short_amount,
            cast(case when n % 5 = 4 then round(gross * 0.02, 2) else 0 end as decimal(18, 2)) as terms_discount,
            cast(round(gross * (4 + n % 5 * 2) / 100, 2) as decimal(18, 2)) as claim_amount
        from bench_invoices
        where is_amazon
    ),
    invoice_lines as (
        select
            0 as weeks_later, 1 as kind_order, n, 0 as k,
            case
                when n % 500 = 250 then 'AMZ-INV-' || n
                when n % 300 = 150 then cast(n as varchar)
                else reference
            end as invoice_number,
            'Invoice' as description, po_number, invoice_date,
            gross as gross_amount, terms_discount as discount_amount,
            cast(case when is_short_paid then gross - short_amount else gross - terms_discount end
                as decimal(18, 2)) as paid_amount
        from amazon_invoices
        union all
        select 1, 2, n, 0, reference, 'Invoice', po_number, invoice_date, 0, 0, short_amount
        from amazon_invoices where is_short_paid
        union all
        select 0, 3, n, 0, reference, 'Price variance', po_number, invoice_date, 0, 0,
            -cast(round(gross * 0.015, 2) as decimal(18, 2))
        from amazon_invoices where n % 20 = 7
        union all
        select 5, 4, n, 0, reference || 'SC', 'Quantity shortage', po_number, invoice_date + 95, 0, 0, -claim_amount
        from amazon_invoices where n % 7 = 3
        union all
        select 9, 5, n, 0, reference || 'SCR', 'Shortage claim reversal', po_number, invoice_date + 123, 0, 0,
            claim_amount
        from amazon_invoices where n % 28 = 3
        union all
        select 13, 6, n, 0, reference || 'SCRSC', 'Revised shortage claim', po_number, invoice_date + 151, 0, 0,
            -cast(round(claim_amount / 2, 2) as decimal(18, 2))
        from amazon_invoices where n % 56 = 3
        union all
        select 2, 7, n, 0, cast(5000000 + n as varchar) || 'VCBSINV', 'Vendor compliance chargeback',
            'PO' || lpad(cast(greatest(1, n - 3) as varchar), 7, '0'), invoice_date + 70, 0, 0,
            -cast(25 + n % 8 * 25 as decimal(18, 2))
        from amazon_invoices where n % 20 = 11
        union all
        select 1, 8, n, 0, 'IPAPUS' || lpad(cast(n % 10000000 as varchar), 7, '0'), 'Price protection', po_number,
            invoice_date + 65, 0, 0, -cast(round(gross * 0.05, 2) as decimal(18, 2))
        from amazon_invoices where n % 200 = 13
        union all
        select 0, 9, n, 0, 'ADJ-' || n, 'Miscellaneous adjustment', null, invoice_date + 60, 0, 0,
            -cast(5 + n % 10 as decimal(18, 2))
        from amazon_invoices where n % 2000 = 17
    ),
    placed as (
        select bench_payments.payment_index, invoice_lines.* exclude (weeks_later)
        from invoice_lines
        inner join amazon_invoices on invoice_lines.n = amazon_invoices.n
        inner join bench_payments
            on bench_payments.week = amazon_invoices.week + invoice_lines.weeks_later
            and bench_payments.vendor_index = amazon_invoices.vendor_index
    ),
    -- Two co-op agreements a payment, dated five and four days before it; the EDIFACT vendor code's marketing
    -- agreement of 1 March 2026 is the seed's, with its VAT invoice.
    coop_lines as (
        select
            payment_index, 10 as kind_order, 0 as n, k,
            list_extract(case when vendor_index = 0 then ['QZPK', 'HFMK'] else ['XBPK', 'XFMK'] end, 1 + k)
                || '-' || strftime(payment_date - cast(5 - k as integer), '%Y%m%d') as invoice_number,
            'COOP - Service agreement' as description, null as po_number,
            payment_date - cast(5 - k as integer) as invoice_date,
            0 as gross_amount, 0 as discount_amount,
            -cast(150 + (payment_index * 37 + k * 91) % 400 as decimal(18, 2)) as paid_amount
        from bench_payments, range(2) as agreements(k)
    ),
    provision_lines as (
        select
            payment_index, 11 as kind_order, 0 as n, 0 as k,
            cast(7000 + payment_index as varchar) || '-PROVISION FOR RECEIVABLES' as invoice_number,
            'Provision for receivables' as description, null as po_number, payment_date as invoice_date,
            0 as gross_amount, 0 as discount_amount, -cast(500 + payment_index * 10 as decimal(18, 2)) as paid_amount
        from bench_payments where week % 4 = 1
        union all
        select
            released.payment_index, 12, 0, 0,
            cast(7000 + held.payment_index as varchar) || '-PROVISION FOR RECEIVABLESR',
            'Provision for receivables reversal', null, released.payment_date, 0, 0,
            cast(500 + held.payment_index * 10 as decimal(18, 2))
        from bench_payments as held
        inner join bench_payments as released
            on released.week = held.week + 4 and released.vendor_index = held.vendor_index
        where held.week % 4 = 1
    )
    select * from placed
    union all by name
    select * from coop_lines
    union all by name
    select * from provision_lines
    """,
    """
    create or replace temp table bench_lines as
    select
        payment_index,
        row_number() over (partition by payment_index order by kind_order, n, k) as line_number,
        invoice_number, description, po_number, invoice_date,
        cast(case when gross_amount = 0 then paid_amount else gross_amount end as decimal(18, 2)) as gross_amount,
        cast(discount_amount as decimal(18, 2)) as discount_amount,
        cast(paid_amount as decimal(18, 2)) as paid_amount,
        cast(case when gross_amount = 0 then 0 else gross_amount - discount_amount - paid_amount end
            as decimal(18, 2)) as remaining_amount
    from bench_line_sources
    """,
    # The versions: every payment's export (the day after it), and before it each X12 payment's 820.
    """
    create or replace temp table bench_versions as
    select
        bench_payments.*,
        version,
        sha256(payment_number || ':' || version) as content_sha256,
        case version when 'x12' then 'X12' else 'REMITTANCE_CSV' end as source_format,
        case version
            when 'x12' then cast(payment_date as timestamptz) + interval 6 hour
            else cast(payment_date as timestamptz) + interval 31 hour
        end as received_at
    from bench_payments, (values ('x12'), ('export')) as versions(version)
    where version = 'export' or vendor_index = 1
    """,
    """
    insert into raw_amazon.remittance_payments by name
    select
        payment_number, content_sha256, payment_date, 'GBP' as currency,
        (select sum(paid_amount) from bench_lines where bench_lines.payment_index = bench_versions.payment_index)
            as amount,
        'AMAZON' as payer_id, vendor_code as payee_id, source_format,
        vendor_code || '/' || version || '-' || payment_number
            || case version when 'x12' then '.edi' else '.csv' end as source_file,
        received_at, vendor_code,
        (select count(*) from bench_lines where bench_lines.payment_index = bench_versions.payment_index)
            as line_count
    from bench_versions
    """,
    # An 820's lines carry no description.
    """
    insert into raw_amazon.remittance_lines by name
    select
        bench_versions.payment_number, bench_versions.content_sha256, line_number, invoice_number, invoice_date,
        case when version = 'x12' then null else description end as description,
        gross_amount, discount_amount, paid_amount, remaining_amount, 'GBP' as currency, po_number
    from bench_lines
    inner join bench_versions on bench_lines.payment_index = bench_versions.payment_index
    """,
)


def build_warehouse(warehouse: Path, invoices: int = INVOICES) -> int:
    """The synthetic warehouse (see the module docstring); the number of remittance lines of the latest versions."""
    config = load_business_config(EXAMPLE_CONFIG)
    app.run(config, EXAMPLE_CONFIG, warehouse, warehouse.parent / "app-dlt")
    vendor_codes = {vendor.edi_standard: vendor.code for vendor in config.vendor_codes}
    spec = SageSpec.load()
    with duckdb.connect(str(warehouse)) as con:
        # Sage's dates are midnight UTC, whatever this machine's zone.
        con.execute("set TimeZone = 'UTC'")
        ensure_audit_schema(con)
        con.execute("create schema if not exists raw_sage200")
        con.execute("create schema if not exists raw_amazon")
        for table in SAGE_TABLES:
            if table.name in SAGE_RAW_TABLES:
                create_sage_tables(con, spec, table)
        for name, columns in amazon.TABLES.items():
            create_table(con, f"raw_amazon.{name}", {column: AMAZON_TYPES[kind] for column, kind in columns.items()})
        run_statements(
            con,
            SAGE_SIDE,
            created=datetime.combine(FIRST_DAY - timedelta(days=400), time_of_day(9), tzinfo=UTC),
            load_id=LOAD_ID,
            amazon_customer=AMAZON_CUSTOMER,
            trade_customers=TRADE_CUSTOMERS,
            invoices=invoices,
            weeks=WEEKS,
            first_day=FIRST_DAY,
        )
        run_statements(
            con,
            AMAZON_SIDE,
            weeks=WEEKS,
            first_day=FIRST_DAY,
            edifact_vendor_code=vendor_codes["EDIFACT"],
            x12_vendor_code=vendor_codes["X12"],
        )
        (lines,) = con.execute("select count(*) from bench_lines").fetchone()
    return lines


# --- the stages ----------------------------------------------------------------------------------------------


MATCHING_FLOOR = """
create or replace table bench_floor.remittance_lines_matched as
with latest_payments as (
    select payment_number, content_sha256, payment_date, vendor_code
    from raw_amazon.remittance_payments
    qualify row_number() over (partition by payment_number order by received_at desc, content_sha256 desc) = 1
),

customer_invoices as (
    select vendor_codes.vendor_code, invoices.id, invoices.reference, invoices.document_gross_value
    from raw_app.vendor_codes
    inner join raw_sage200.customers on vendor_codes.sage_customer_account = customers.reference
    inner join raw_sage200.sales_posted_transactions as invoices on customers.id = invoices.customer_id
    where invoices.trader_transaction_type = 'TradingAccountEntryTypeInvoice'
),

joined as (
    select
        lines.payment_number,
        lines.line_number,
        latest_payments.payment_date,
        customer_invoices.id as sales_transaction_id,
        customer_invoices.document_gross_value as invoice_gross_amount,
        lines.paid_amount + coalesce(lines.discount_amount, 0) as settlement_amount
    from raw_amazon.remittance_lines as lines
    inner join latest_payments
        on lines.payment_number = latest_payments.payment_number
        and lines.content_sha256 = latest_payments.content_sha256
    left join customer_invoices
        on latest_payments.vendor_code = customer_invoices.vendor_code
        and lines.invoice_number = customer_invoices.reference
        and lines.description = 'Invoice'
),

running as (
    select
        *,
        coalesce(sum(settlement_amount) over (
            partition by sales_transaction_id order by payment_date, payment_number, line_number
            rows between unbounded preceding and 1 preceding
        ), 0) as previous_settlement_amount
    from joined
)

select
    *,
    case when sales_transaction_id is not null
        then greatest(0, least(settlement_amount, invoice_gross_amount - previous_settlement_amount))
    end as allocated_amount
from running
"""


def matching_floor_stage(warehouse: str) -> int:
    """Every latest-version line, invoice payments joined to their invoice with the running sum: lines written."""
    with duckdb.connect(warehouse) as con:
        con.execute("create schema if not exists bench_floor")
        con.execute(MATCHING_FLOOR)
        (lines,) = con.execute("select count(*) from bench_floor.remittance_lines_matched").fetchone()
    return lines


def dbt_stage(warehouse: str) -> int:
    """`dbt build` of the remittance chain, its upstream and its tests: the lines in the mart."""
    # This process is the stage's own (it is spawned): the setting goes with it. Cautious selection leaves out
    # the tests that also read models outside the remittance chain, which this warehouse lacks.
    os.environ["DBT_INDIRECT_SELECTION"] = "cautious"
    run_dbt("build", Path(warehouse), select=REMITTANCE_SELECTION, now=DBT_NOW)
    with duckdb.connect(warehouse, read_only=True) as con:
        (lines,) = con.execute("select count(*) from marts.remittance_lines").fetchone()
    return lines


def measured_with_subprocesses(stage: str, work: Callable[..., int], *args: object) -> Measurement:
    """As `pipelines.bench.measured`, the peak memory the larger of the process's and its largest subprocess's."""
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        seconds, peak_kib, rows = pool.apply(_timed_with_subprocesses, (work, *args))
    return Measurement(stage, seconds, peak_kib / 1024, rows)


def _timed_with_subprocesses(work: Callable[..., int], *args: object) -> tuple[float, int, int]:
    started = time.perf_counter()
    rows = work(*args)
    seconds = time.perf_counter() - started
    peak_kib = max(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    )
    return seconds, peak_kib, rows


def sql_seconds(result: dict[str, Any]) -> float:
    """The time dbt spent running a node's SQL: its `execute` phase."""
    for phase in result.get("timing", []):
        if phase["name"] == "execute" and phase.get("started_at") and phase.get("completed_at"):
            started = datetime.fromisoformat(phase["started_at"])
            return (datetime.fromisoformat(phase["completed_at"]) - started).total_seconds()
    return 0.0


def node_measurements(warehouse: Path, lines: int) -> list[Measurement]:
    """One row per model of the chain above staging, in the order dbt ran them, and one for every test's SQL."""
    target = dbt_target_path(warehouse.resolve())
    results = json.loads((target / "run_results.json").read_text())["results"]
    nodes = json.loads((target / "manifest.json").read_text())["nodes"]
    measurements = []
    tests, test_seconds = 0, 0.0
    for result in results:
        unique_id = result["unique_id"]
        if unique_id.startswith(("test.", "unit_test.")):
            tests += 1
            test_seconds += sql_seconds(result)
            continue
        if not unique_id.startswith("model.") or nodes[unique_id]["original_file_path"].startswith("models/staging/"):
            continue
        node = nodes[unique_id]
        kind = "view" if node["config"]["materialized"] == "view" else "model"
        measurements.append(Measurement(f"dbt {kind} {node['name']}", sql_seconds(result), 0.0, lines))
    return [*measurements, Measurement(f"dbt tests ({tests}, SQL summed)", test_seconds, 0.0, lines)]


def run_remittances_bench(work: Path, invoices: int = INVOICES) -> list[Measurement]:
    """Build the synthetic warehouse in `work` (an empty scratch folder), measure the two stages on it, and
    break the dbt build down by model."""
    warehouse = work / WAREHOUSE_FILE
    build_warehouse(warehouse, invoices)
    floor = measured("remittances floor (join + running sum, SQL)", matching_floor_stage, str(warehouse))
    build = measured_with_subprocesses("remittances dbt build (chain, tests)", dbt_stage, str(warehouse))
    return [floor, build, *node_measurements(warehouse, build.rows)]
