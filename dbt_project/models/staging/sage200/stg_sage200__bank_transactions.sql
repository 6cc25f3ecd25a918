with

source as (
    select * from {{ source('raw_sage200', 'bank_posted_transactions') }}
),

renamed as (
    select
        ---------- ids
        id as bank_transaction_id,
        bank_id,
        urn as bank_transaction_urn,

        ---------- strings
        bank_transaction_type,
        reference as bank_transaction_reference,
        second_reference,
        entry_description,
        source as source_ledger,
        user_name as posted_by,

        ---------- numerics
        -- Signed as Sage keeps them: money into the bank +, money out −, so a bank's balance is their sum.
        cast(cheque_value as decimal(18, 2)) as signed_value,
        cast(cheque_discount_value as decimal(18, 2)) as signed_discount_value,
        cheque_to_account_currency_rate,
        bank_cheque_to_base_currency_rate,

        ---------- dates
        cast(transaction_date as timestamptz) as transaction_date,
        cast(last_statement_date as timestamptz) as last_statement_date,

        ---------- timestamps
        cast(posted_date as timestamptz) as posted_at,
        cast(date_time_created as timestamptz) as created_at,
        cast(date_time_updated as timestamptz) as updated_at
    from source
)

select * from renamed
