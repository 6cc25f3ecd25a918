with

source as (
    select * from {{ source('raw_sage200', 'cost_centres') }}
),

renamed as (
    select
        ---------- ids
        id as cost_centre_id,

        ---------- strings
        code as cost_centre,
        name as cost_centre_name,

        ---------- timestamps
        cast(date_time_created as timestamptz) as created_at,
        cast(date_time_updated as timestamptz) as updated_at
    from source
)

select * from renamed
