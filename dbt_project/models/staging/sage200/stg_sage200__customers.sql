with

source as (
    select * from {{ source('raw_sage200', 'customers') }}
),

renamed as (
    select
        ---------- ids
        id as customer_id,
        currency_id,
        default_tax_code_id,
        -- The customer's price band: the standard band unless the account is linked to another.
        price_band_id,

        ---------- strings
        reference as customer_reference,
        name as customer_name,
        short_name as customer_short_name,
        vat_number,
        account_status_type,
        payment_terms_basis,

        ---------- numerics
        -- What the customer owes us: + is a debt (invoices), − a credit (receipts, credit notes).
        cast(balance as decimal(18, 2)) as balance,
        cast(credit_limit as decimal(18, 2)) as credit_limit,
        cast(value_of_current_orders_in_sop as decimal(18, 2)) as value_of_current_orders_in_sop,
        payment_terms_days,
        average_time_to_pay as average_days_to_pay,

        ---------- booleans
        on_hold as is_on_hold,

        ---------- timestamps
        cast(date_time_created as timestamptz) as created_at,
        cast(date_time_updated as timestamptz) as updated_at
    from source
)

select * from renamed
