with

source as (
    select * from {{ source('raw_amazon', 'remittance_lines') }}
),

renamed as (
    select
        payment_number || ':' || content_sha256 as remittance_version_id,
        payment_number,
        line_number,
        invoice_number,
        cast(invoice_date as date) as invoice_date,
        description,
        -- Amazon's signs: invoice payments +, deductions −.
        cast(gross_amount as decimal(18, 2)) as gross_amount,
        cast(discount_amount as decimal(18, 2)) as discount_amount,
        cast(paid_amount as decimal(18, 2)) as paid_amount,
        cast(remaining_amount as decimal(18, 2)) as remaining_amount,
        currency,
        po_number,
        transaction_type,
        original_invoice_number
    from source
)

select * from renamed
