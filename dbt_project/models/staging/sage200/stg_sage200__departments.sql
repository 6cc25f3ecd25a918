with

source as (
    select * from {{ source('raw_sage200', 'departments') }}
),

renamed as (
    select
        ---------- ids
        id as department_id,

        ---------- strings
        code as department,
        name as department_name,

        ---------- timestamps
        cast(date_time_created as timestamptz) as created_at,
        cast(date_time_updated as timestamptz) as updated_at
    from source
)

select * from renamed
