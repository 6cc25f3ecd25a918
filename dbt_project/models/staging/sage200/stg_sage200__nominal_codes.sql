with

source as (
    select * from {{ source('raw_sage200', 'nominal_codes') }}
),

renamed as (
    select
        ---------- ids
        id as nominal_code_id,
        report_category_id,

        ---------- strings
        -- A nominal account is reference + cost centre + department; Sage leaves the last two out when
        -- blank, and '' keeps the three-part key comparable.
        reference as nominal_reference,
        coalesce(cost_centre_code, '') as cost_centre,
        coalesce(department_code, '') as department,
        name as nominal_name,
        account_status_type,

        ---------- numerics
        -- Debits and credits are both positive; the balance is debits − credits (debit +, credit −).
        cast(balance_year_to_date as decimal(18, 2)) as balance_year_to_date,
        cast(debit_balance_year_to_date as decimal(18, 2)) as debit_year_to_date,
        cast(credit_balance_year_to_date as decimal(18, 2)) as credit_year_to_date,
        cast(brought_forward_balance as decimal(18, 2)) as brought_forward_balance,

        ---------- timestamps
        cast(date_time_created as timestamptz) as created_at,
        cast(date_time_updated as timestamptz) as updated_at
    from source
)

select * from renamed
