with

source as (
    select * from {{ source('audit', 'purchase_order_failures') }}
),

renamed as (
    select
        -- Orders the rows when their times are equal (a pinned clock, one batch).
        sequence_number,
        failure_id,
        po_number,
        po_number || ':' || content_sha256 as purchase_order_version_id,
        -- sales_order or acknowledgement
        step as failed_step,
        message as failure_message,
        failed_at,
        run_id
    from source
)

select * from renamed
