with

source as (
    select * from {{ source('raw_sage200', 'units') }}
),

renamed as (
    select
        ---------- ids
        id as unit_id,

        ---------- strings
        name as unit_name,

        ---------- numerics
        -- A ratio, not a quantity: kept at Sage's 9 decimal places.
        cast(multiple_of_base_unit as decimal(18, 9)) as multiple_of_base_unit,

        ---------- booleans
        -- Sage's `each_value`: the unit is a single item.
        each_value as is_each,

        ---------- timestamps
        cast(date_time_created as timestamptz) as created_at,
        cast(date_time_updated as timestamptz) as updated_at
    from source
)

select * from renamed
