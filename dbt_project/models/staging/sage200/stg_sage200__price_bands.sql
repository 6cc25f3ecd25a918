with

source as (
    select * from {{ source('raw_sage200', 'price_bands') }}
),

renamed as (
    select
        ---------- ids
        id as price_band_id,
        currency_id,
        price_band_type_id,

        ---------- strings
        name as price_band_name,
        description as price_band_description,
        -- Universal (any customer may be linked to it) or Limited (only customers given it).
        price_band_type,

        ---------- booleans
        -- The company's one standard band: every product's standard price, and every customer's band
        -- unless the account is linked to another.
        is_standard_band,
        is_active,
        is_time_based,

        ---------- timestamps
        -- Set only on a time-based band.
        cast(active_date_time_from as timestamptz) as active_from_at,
        cast(active_date_time_to as timestamptz) as active_to_at,
        cast(date_time_created as timestamptz) as created_at,
        cast(date_time_updated as timestamptz) as updated_at
    from source
)

select * from renamed
