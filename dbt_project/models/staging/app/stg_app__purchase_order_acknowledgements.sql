with

source as (
    select * from {{ source('audit', 'purchase_order_acknowledgements') }}
),

renamed as (
    select
        -- Orders the rows when their times are equal (a pinned clock, one batch).
        sequence_number,
        acknowledgement_id,
        decision_id,
        po_number,
        po_number || ':' || content_sha256 as purchase_order_version_id,
        vendor_code,
        standard as acknowledgement_standard,
        sales_order_number,
        document_id,
        file_name as acknowledgement_file_name,
        acknowledged_at,
        run_id
    from source
)

select * from renamed
