with

source as (
    select * from {{ source('raw_sage200', 'sop_order_return_invoice_credit_views') }}
),

renamed as (
    select
        ---------- ids
        -- One row per SOP invoice or credit note of an order (or return): an order invoiced in parts has
        -- several, and one invoice may cover several orders.
        sop_order_return_id as sales_order_id,
        sop_invoice_credit_id as invoice_credit_id,
        customer_id,
        sop_order_return_document_type_id as order_document_type_id,
        sop_order_return_document_status_id as order_status_id,

        ---------- strings
        -- The invoice number is the reference of the posted sales transaction it became.
        sop_invoice_credit_document_no as invoice_credit_number,
        -- Sage's schema names these `_id` but gives names ('Invoice', 'Posted'), unlike the line view.
        sop_invoice_credit_type_id as invoice_credit_type,
        sop_invoice_credit_document_status_id as invoice_credit_status,
        sop_order_return_document_no as sales_order_number,
        sop_order_return_customer_document_no as customer_order_number,
        customer_reference,
        customer_name,
        customer_short_name,

        ---------- numerics
        -- Unsigned document totals, as on the printed invoice or credit note.
        cast(sop_invoice_credit_total_net_value as decimal(18, 2)) as invoice_net_value,
        cast(sop_invoice_credit_total_tax_value as decimal(18, 2)) as invoice_tax_value,
        cast(sop_invoice_credit_total_gross_value as decimal(18, 2)) as invoice_gross_value,
        cast(sop_order_return_total_net_value as decimal(18, 2)) as order_net_value,
        cast(sop_order_return_total_tax_value as decimal(18, 2)) as order_tax_value,
        cast(sop_order_return_total_gross_value as decimal(18, 2)) as order_gross_value,

        ---------- dates
        cast(sop_invoice_credit_document_date as timestamptz) as invoice_date,
        cast(sop_order_return_document_date as timestamptz) as order_date
    from source
)

select * from renamed
