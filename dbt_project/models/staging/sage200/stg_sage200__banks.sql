with

source as (
    select * from {{ source('raw_sage200', 'banks') }}
),

renamed as (
    select
        id as bank_id,
        code as bank_code,
        description as bank_description,
        account_type,
        account_status_type,
        cast(balance as decimal(18, 2)) as balance,
        account_currency_id as currency_id,
        bank_account_nominal_reference as nominal_reference,
        bank_account_nominal_cost_centre as nominal_cost_centre,
        bank_account_nominal_department as nominal_department,
        cast(date_time_created as timestamptz) as created_at,
        cast(date_time_updated as timestamptz) as updated_at
    from source
)

select * from renamed
