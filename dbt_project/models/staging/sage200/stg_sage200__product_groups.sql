with

source as (
    select * from {{ source('raw_sage200', 'product_groups') }}
),

renamed as (
    select
        ---------- ids
        id as product_group_id,

        ---------- strings
        code as product_group_code,
        description as product_group_description,
        product_type,
        costing_method,

        ---------- numerics
        cast(landed_costs_percentage as decimal(18, 2)) as landed_costs_percent,
        cast(landed_costs_per_item as decimal(18, 2)) as landed_costs_per_item,

        ---------- booleans
        can_levels_go_negative as can_stock_go_negative,
        do_items_use_units as has_units,
        this_is_the_sop_product_group as is_sop_product_group,

        ---------- timestamps
        cast(date_time_created as timestamptz) as created_at,
        cast(date_time_updated as timestamptz) as updated_at
    from source
)

select * from renamed
