with

source as (
    select * from {{ source('audit', 'purchase_order_decisions') }}
),

renamed as (
    select
        -- Orders the rows when their times are equal (a pinned clock, one batch).
        sequence_number,
        decision_id,
        po_number,
        po_number || ':' || content_sha256 as purchase_order_version_id,
        vendor_code,
        decided_at,
        run_id
    from source
)

select * from renamed
