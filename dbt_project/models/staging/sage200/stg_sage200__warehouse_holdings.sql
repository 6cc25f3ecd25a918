with

source as (
    select * from {{ source('raw_sage200', 'warehouse_holdings') }}
),

renamed as (
    select
        ---------- ids
        id as warehouse_holding_id,
        product_id,
        warehouse_id,

        ---------- strings
        warehouse_name,

        ---------- numerics
        -- Quantities in the product's stock unit.
        cast(quantity_in_stock as decimal(18, 5)) as quantity_in_stock,
        cast(confirmed_qty_in_stock as decimal(18, 5)) as confirmed_quantity_in_stock,
        cast(unconfirmed_qty_in_stock as decimal(18, 5)) as unconfirmed_quantity_in_stock,
        cast(quantity_reserved as decimal(18, 5)) as quantity_reserved,
        cast(quantity_in_stock_less_reserved as decimal(18, 5)) as quantity_in_stock_less_reserved,
        cast(quantity_allocated as decimal(18, 5)) as quantity_allocated,
        cast(quantity_allocated_sop as decimal(18, 5)) as quantity_allocated_sop,
        cast(quantity_allocated_stock as decimal(18, 5)) as quantity_allocated_stock,
        cast(quantity_allocated_bom as decimal(18, 5)) as quantity_allocated_bom,
        cast(free_stock_available as decimal(18, 5)) as free_stock_quantity,
        cast(free_stock_available_less_reserved as decimal(18, 5)) as free_stock_quantity_less_reserved,
        cast(quantity_on_order as decimal(18, 5)) as quantity_on_order,
        cast(reorder_level as decimal(18, 5)) as reorder_level,
        cast(minimum_level as decimal(18, 5)) as minimum_level,
        cast(maximum_level as decimal(18, 5)) as maximum_level,

        ---------- timestamps
        cast(date_time_created as timestamptz) as created_at,
        cast(date_time_updated as timestamptz) as updated_at
    from source
)

select * from renamed
