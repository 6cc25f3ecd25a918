-- One row per Sage invoice of an order avc2sage acknowledged: Sage's totals, whether it passed the checks
-- before sending, when it went and what Amazon said. Documented in docs/warehouse.md.

with

invoices as (
    select
        sage_invoice_id,
        invoice_number,
        -- An invoice covering several orders (not done in this flow) shows the first PO.
        min(po_number) as po_number,
        min(sales_order_number) as sales_order_number,
        min(vendor_code) as vendor_code,
        min(invoice_date) as invoice_date,
        min(invoice_net_value) as net_amount,
        min(invoice_tax_value) as tax_amount,
        min(invoice_gross_value) as gross_amount
    from {{ ref('int_invoice_lines_prepared') }}
    group by sage_invoice_id, invoice_number
),

submissions as (
    select * from {{ ref('stg_app__invoice_submissions') }}
),

latest_submissions as (
    select *
    from submissions
    qualify row_number() over (partition by sage_invoice_id order by sequence_number desc) = 1
),

sent_submissions as (
    select *
    from submissions
    where submission_status = 'sent'
    qualify row_number() over (partition by sage_invoice_id order by sequence_number desc) = 1
),

documents as (
    select
        document_id,
        status,
        written_at
    from {{ ref('int_outbound_documents_answered') }}
),

final as (
    select
        cast(invoices.sage_invoice_id as bigint) as sage_invoice_id,
        cast(invoices.invoice_number as varchar) as invoice_number,
        cast(invoices.po_number as varchar) as purchase_order_number,
        cast(invoices.sales_order_number as varchar) as sales_order_number,
        cast(invoices.vendor_code as varchar) as vendor_code,
        cast(invoices.invoice_date as date) as invoice_date,
        cast(invoices.net_amount as decimal(18, 2)) as net_amount,
        cast(invoices.tax_amount as decimal(18, 2)) as tax_amount,
        cast(invoices.gross_amount as decimal(18, 2)) as gross_amount,
        cast(
            case
                when sent_submissions.submission_id is not null then 'passed'
                when latest_submissions.submission_status = 'failed_validation' then 'failed'
                else 'not_checked'
            end as varchar
        ) as validation_status,
        cast(coalesce(documents.written_at, sent_submissions.checked_at) as timestamptz) as sent_at,
        cast(
            case
                when sent_submissions.submission_id is null then 'not_sent'
                else coalesce(documents.status, 'sent')
            end as varchar
        ) as transmission_status,
        cast(sent_submissions.document_id as varchar) as document_id,
        cast(sent_submissions.submission_file_name as varchar) as file_name
    from invoices
    left join latest_submissions on invoices.sage_invoice_id = latest_submissions.sage_invoice_id
    left join sent_submissions on invoices.sage_invoice_id = sent_submissions.sage_invoice_id
    left join documents on sent_submissions.document_id = documents.document_id
)

select * from final
