with

source as (
    select * from {{ source('raw_sage200', 'warehouses') }}
),

renamed as (
    select
        ---------- ids
        id as warehouse_id,

        ---------- strings
        name as warehouse_name,
        description as warehouse_description,
        address_1,
        city,
        county,
        postcode,

        ---------- timestamps
        cast(date_time_created as timestamptz) as created_at,
        cast(date_time_updated as timestamptz) as updated_at
    from source
)

select * from renamed
