with

source as (
    select * from {{ source('raw_sage200', 'sop_orders') }}
),

renamed as (
    select
        ---------- ids
        id as sales_order_id,
        customer_id,
        currency_id,

        ---------- strings
        document_no as sales_order_number,
        -- The customer's own order number: for Amazon, the purchase order (PO) number.
        customer_document_no as customer_order_number,
        document_status,
        despatch_receipt_status as despatch_status,
        invoice_credit_status as invoice_status,
        cancelled_status,
        delivery_address__postal_name as delivery_postal_name,
        delivery_address__address_1 as delivery_address_1,
        delivery_address__city as delivery_city,
        delivery_address__postcode as delivery_postcode,
        delivery_address__country as delivery_country,

        ---------- numerics
        -- Order values are unsigned document totals; they reach the ledger only when invoiced.
        cast(subtotal_goods_value as decimal(18, 2)) as subtotal_goods_value,
        cast(subtotal_charge_net_value as decimal(18, 2)) as subtotal_charge_net_value,
        cast(subtotal_charge_tax_value as decimal(18, 2)) as subtotal_charge_tax_value,
        cast(subtotal_discount_value as decimal(18, 2)) as subtotal_discount_value,
        cast(total_net_value as decimal(18, 2)) as total_net_value,
        cast(total_tax_value as decimal(18, 2)) as total_tax_value,
        cast(total_gross_value as decimal(18, 2)) as total_gross_value,
        exchange_rate,

        ---------- booleans
        is_draft,

        ---------- dates
        cast(document_date as timestamptz) as order_date,
        cast(requested_delivery_date as timestamptz) as requested_delivery_date,
        cast(promised_delivery_date as timestamptz) as promised_delivery_date,

        ---------- timestamps
        cast(date_time_created as timestamptz) as created_at,
        cast(date_time_updated as timestamptz) as updated_at
    from source
)

select * from renamed
