with

source as (
    select * from {{ source('raw_sage200', 'product_price_views') }}
),

renamed as (
    select
        ---------- ids
        product_price_id,
        product_id,
        price_band_id,
        currency_id,

        ---------- strings
        product_code,
        product_name,
        -- The unit the price is for: Sage prices a product per its stock unit.
        product_stock_unit_name as stock_unit_name,
        price_band_name,
        currency_name,
        currency_symbol,

        ---------- numerics
        -- A unit price, not money: kept at the 5 decimal places Sage's selling prices may carry (the
        -- view's schema says 2, the source loads 5), so a price such as 1.23456 is not rounded here.
        cast(product_price_price as decimal(18, 5)) as price_per_stock_unit,

        ---------- booleans
        -- The band's price is linked to the product's price in the standard band (and shows that price).
        product_price_use_standard as is_standard_price,

        ---------- timestamps
        cast(date_time_updated as timestamptz) as updated_at
    from source
)

select * from renamed
