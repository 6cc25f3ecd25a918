with

source as (
    select * from {{ source('raw_sage200', 'control_nominal_codes') }}
),

renamed as (
    select
        ---------- ids
        id as control_account_id,

        ---------- strings
        control_nominal_code_type as control_account_type,
        -- Sage calls the nominal reference `account_number` here.
        account_number as nominal_reference,
        name as control_account_name,
        nominal_reporting_type,

        ---------- timestamps
        cast(date_time_created as timestamptz) as created_at,
        cast(date_time_updated as timestamptz) as updated_at
    from source
)

select * from renamed
