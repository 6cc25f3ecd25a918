with

source as (
    select * from {{ source('raw_amazon', 'purchase_order_line_identifiers') }}
),

renamed as (
    select
        po_number || ':' || content_sha256 as purchase_order_version_id,
        line_number,
        line_id,
        position as identifier_position,
        qualifier as identifier_qualifier,
        value as identifier_value
    from source
)

select * from renamed
