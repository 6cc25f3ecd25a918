with

source as (
    select * from {{ source('raw_sage200', 'customers') }}
),

renamed as (
    select
        id as customer_id,
        reference as customer_reference,
        name as customer_name,
        cast(balance as decimal(18, 2)) as balance,
        cast(credit_limit as decimal(18, 2)) as credit_limit,
        currency_id,
        default_tax_code_id,
        payment_terms_days,
        on_hold as is_on_hold,
        account_status_type,
        cast(date_time_created as timestamptz) as created_at,
        cast(date_time_updated as timestamptz) as updated_at
    from source
)

select * from renamed
