{{ config(materialized='table') }}
-- A table: the invoice batch (pipelines/invoices/batch.py) reads it as its work list, with the exact types it
-- relies on. has_invoice_sent is as of the build; the batch checks audit.invoice_submissions again itself.
-- One row per line of a Sage invoice of an order avc2sage acknowledged, in Amazon's terms (its PO line, unit
-- and cost per each), beside what the checks before sending compare it with: the acknowledged cost, what was
-- shipped and what other invoices already claimed for the same PO line.

with

invoices as (
    select *
    from {{ ref('stg_sage200__order_invoices') }}
    -- Credit notes are not part of this flow.
    where invoice_credit_type = 'Invoice'
),

invoice_lines as (
    select * from {{ ref('stg_sage200__order_invoice_lines') }}
),

order_lines as (
    select * from {{ ref('int_sales_order_lines_mapped') }}
),

customers as (
    select
        customer_id,
        payment_terms_days
    from {{ ref('stg_sage200__customers') }}
),

tax_codes as (
    select
        tax_code_id,
        tax_rate_percent
    from {{ ref('stg_sage200__tax_codes') }}
),

sent_invoices as (
    select distinct sage_invoice_id
    from {{ ref('stg_app__invoice_submissions') }}
    where submission_status = 'sent'
),

-- Everything despatched so far for each PO line of each order (a part fill's two Sage lines are one PO line).
shipped as (
    select
        order_lines.sales_order_id,
        order_lines.po_line_key,
        sum(despatch_lines.despatched_quantity * order_lines.selling_unit_multiple) as shipped_eaches
    from {{ ref('stg_sage200__order_despatch_lines') }} as despatch_lines
    inner join order_lines on despatch_lines.sales_order_line_id = order_lines.sales_order_line_id
    group by order_lines.sales_order_id, order_lines.po_line_key
),

lines as (
    select
        invoice_lines.invoice_credit_id as sage_invoice_id,
        invoices.invoice_credit_number as invoice_number,
        -- Sage's document dates are midnight UTC: the date is the UTC one, whatever the session's zone.
        cast(timezone('UTC', invoices.invoice_date) as date) as invoice_date,
        invoices.invoice_net_value,
        invoices.invoice_tax_value,
        invoices.invoice_gross_value,
        invoice_lines.invoiced_quantity,
        invoice_lines.invoiced_quantity * order_lines.selling_unit_multiple as invoiced_eaches,
        order_lines.*
    from invoice_lines
    inner join order_lines on invoice_lines.sales_order_line_id = order_lines.sales_order_line_id
    -- One invoice may cover several orders: its header row per order says which PO it invoices.
    inner join invoices
        on invoice_lines.invoice_credit_id = invoices.invoice_credit_id
        and order_lines.sales_order_id = invoices.sales_order_id
    where invoices.customer_order_number = order_lines.po_number
        and invoices.sales_order_number = order_lines.sales_order_number
),

sent_per_invoice as (
    select
        lines.sales_order_id,
        lines.po_line_key,
        lines.sage_invoice_id,
        sum(lines.invoiced_eaches) as invoiced_eaches
    from lines
    inner join sent_invoices on lines.sage_invoice_id = sent_invoices.sage_invoice_id
    group by lines.sales_order_id, lines.po_line_key, lines.sage_invoice_id
),

-- What OTHER invoices already sent claimed for the line: an invoice checked again must not count itself.
invoiced_before as (
    select
        invoiced.sales_order_id,
        invoiced.po_line_key,
        invoiced.sage_invoice_id,
        sum(sent_per_invoice.invoiced_eaches) as invoiced_before_eaches
    from (select distinct sales_order_id, po_line_key, sage_invoice_id from lines) as invoiced
    inner join sent_per_invoice
        on invoiced.sales_order_id = sent_per_invoice.sales_order_id
        and invoiced.po_line_key = sent_per_invoice.po_line_key
        and invoiced.sage_invoice_id <> sent_per_invoice.sage_invoice_id
    group by invoiced.sales_order_id, invoiced.po_line_key, invoiced.sage_invoice_id
),

final as (
    select
        cast(lines.sage_invoice_id as bigint) as sage_invoice_id,
        cast(lines.invoice_number as varchar) as invoice_number,
        cast(lines.invoice_date as date) as invoice_date,
        cast(lines.invoice_net_value as decimal(18, 2)) as invoice_net_value,
        cast(lines.invoice_tax_value as decimal(18, 2)) as invoice_tax_value,
        cast(lines.invoice_gross_value as decimal(18, 2)) as invoice_gross_value,
        cast(lines.sales_order_id as bigint) as sales_order_id,
        cast(lines.sales_order_number as varchar) as sales_order_number,
        cast(lines.po_number as varchar) as po_number,
        cast(lines.content_sha256 as varchar) as content_sha256,
        cast(lines.po_date as date) as po_date,
        cast(lines.vendor_code as varchar) as vendor_code,
        cast(lines.marketplace as varchar) as marketplace,
        cast(lines.edi_standard as varchar) as edi_standard,
        cast(lines.currency as varchar) as currency,
        cast(lines.ship_to_qualifier as varchar) as ship_to_qualifier,
        cast(lines.ship_to_id as varchar) as ship_to_id,
        cast(lines.our_party_id as varchar) as our_party_id,
        cast(lines.partner_id as varchar) as partner_id,
        cast(customers.payment_terms_days as integer) as payment_terms_days,
        cast(lines.sales_order_line_id as bigint) as sales_order_line_id,
        cast(lines.line_id as varchar) as line_id,
        cast(lines.line_number as bigint) as line_number,
        cast(lines.unit_of_measure as varchar) as unit_of_measure,
        cast(lines.eaches_per_unit as decimal(18, 5)) as eaches_per_unit,
        cast(lines.product_code as varchar) as product_code,
        cast(lines.invoiced_eaches as decimal(18, 5)) as invoiced_eaches,
        -- Sage prices per selling unit; Amazon per each.
        cast(lines.discounted_unit_price / lines.selling_unit_multiple as decimal(18, 5)) as invoiced_unit_cost,
        cast(round(lines.invoiced_quantity * lines.discounted_unit_price, 2) as decimal(18, 2)) as line_net_amount,
        cast(tax_codes.tax_rate_percent as decimal(9, 2)) as tax_rate,
        cast(
            round(round(lines.invoiced_quantity * lines.discounted_unit_price, 2) * tax_codes.tax_rate_percent / 100, 2)
            as decimal(18, 2)
        ) as line_tax_amount,
        cast(lines.acknowledged_unit_cost as decimal(18, 2)) as acknowledged_unit_cost,
        cast(coalesce(shipped.shipped_eaches, 0) as decimal(18, 5)) as shipped_eaches,
        cast(coalesce(invoiced_before.invoiced_before_eaches, 0) as decimal(18, 5)) as invoiced_before_eaches,
        cast(sent_invoices.sage_invoice_id is not null as boolean) as has_invoice_sent
    from lines
    left join customers on lines.customer_id = customers.customer_id
    left join tax_codes on lines.tax_code_id = tax_codes.tax_code_id
    left join shipped
        on lines.sales_order_id = shipped.sales_order_id
        and lines.po_line_key = shipped.po_line_key
    left join invoiced_before
        on lines.sales_order_id = invoiced_before.sales_order_id
        and lines.po_line_key = invoiced_before.po_line_key
        and lines.sage_invoice_id = invoiced_before.sage_invoice_id
    left join sent_invoices on lines.sage_invoice_id = sent_invoices.sage_invoice_id
)

select * from final
