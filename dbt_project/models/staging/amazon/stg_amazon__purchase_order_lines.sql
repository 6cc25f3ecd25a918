with

source as (
    select * from {{ source('raw_amazon', 'purchase_order_lines') }}
),

renamed as (
    select
        po_number || ':' || content_sha256 as purchase_order_version_id,
        po_number,
        content_sha256,
        line_number,
        line_id,
        cast(quantity as decimal(18, 5)) as ordered_quantity,
        unit_of_measure,
        cast(unit_size as decimal(18, 5)) as unit_size,
        cast(unit_price as decimal(18, 2)) as unit_price,
        price_basis
    from source
)

select * from renamed
