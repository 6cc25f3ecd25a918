with

source as (
    select * from {{ source('raw_sage200', 'sop_order_return_line_invoice_credit_views') }}
),

renamed as (
    select
        ---------- ids
        sop_invoice_credit_id as invoice_credit_id,
        sop_order_return_line_id as sales_order_line_id,
        -- Numeric here, although the header view (order_invoices) gives the type and status as names.
        sop_invoice_credit_type_id as invoice_credit_type_id,
        sop_invoice_credit_document_status_id as invoice_credit_status_id,

        ---------- strings
        sop_invoice_credit_document_no as invoice_credit_number,

        ---------- numerics
        -- In the order line's selling unit.
        cast(sop_invoice_credit_line_invoice_credit_quantity as decimal(18, 5)) as invoiced_quantity,

        ---------- dates
        cast(sop_invoice_credit_document_date as timestamptz) as invoice_date
    from source
)

select * from renamed
