with

source as (
    select * from {{ source('raw_amazon', 'purchase_orders') }}
),

renamed as (
    select
        po_number || ':' || content_sha256 as purchase_order_version_id,
        po_number,
        content_sha256,
        po_type,
        purpose as po_purpose,
        cast(po_date as date) as po_date,
        currency,
        ship_to_qualifier,
        ship_to_id,
        buyer_id,
        supplier_id,
        cast(window_start as date) as window_start_date,
        cast(window_end as date) as window_end_date,
        backorder_allowed as is_backorder_allowed,
        customer_reference,
        deal_number,
        is_test,
        line_count,
        vendor_code,
        source_format,
        source_file,
        cast(received_at as timestamptz) as received_at
    from source
)

select * from renamed
