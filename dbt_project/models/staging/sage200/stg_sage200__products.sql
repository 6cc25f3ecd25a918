with

source as (
    select * from {{ source('raw_sage200', 'products') }}
),

renamed as (
    select
        ---------- ids
        id as product_id,
        product_group_id,
        tax_code_id,
        base_unit_id,
        stock_unit_id,
        revenue_nominal_code_id,
        stock_nominal_code_id,

        ---------- strings
        -- The vendor's SKU; for Amazon lines the code Amazon orders by.
        code as product_code,
        name as product_name,
        description as product_description,
        barcode,
        product_status_type,

        ---------- numerics
        cast(free_stock_quantity as decimal(18, 5)) as free_stock_quantity,
        cast(standard_cost as decimal(18, 5)) as standard_cost,
        cast(average_buying_price as decimal(18, 5)) as average_buying_price,
        weight,

        ---------- booleans
        allow_sales_order as is_sales_order_allowed,

        ---------- dates
        cast(inactivation_date as timestamptz) as inactivated_date,

        ---------- timestamps
        cast(date_time_created as timestamptz) as created_at,
        cast(date_time_updated as timestamptz) as updated_at
    from source
)

select * from renamed
