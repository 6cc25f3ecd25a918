with

source as (
    select * from {{ source('raw_sage200', 'banks') }}
),

renamed as (
    select
        ---------- ids
        id as bank_id,
        account_currency_id as currency_id,

        ---------- strings
        code as bank_code,
        description as bank_description,
        bank_name,
        account_name,
        account_no as account_number,
        sort_code,
        account_type,
        account_status_type,
        bank_account_nominal_reference as nominal_reference,
        bank_account_nominal_cost_centre as nominal_cost_centre,
        bank_account_nominal_department as nominal_department,

        ---------- numerics
        -- Money in the account: the sum of its posted transactions (money in +, money out −).
        cast(balance as decimal(18, 2)) as balance,
        cast(balance_in_base as decimal(18, 2)) as balance_in_base,
        cast(statement_balance as decimal(18, 2)) as statement_balance,
        cast(overdraft_limit as decimal(18, 2)) as overdraft_limit,

        ---------- dates
        cast(statement_date as timestamptz) as statement_date,

        ---------- timestamps
        cast(date_time_created as timestamptz) as created_at,
        cast(date_time_updated as timestamptz) as updated_at
    from source
)

select * from renamed
