with

source as (
    select * from {{ source('raw_amazon', 'remittance_payments') }}
),

renamed as (
    select
        payment_number || ':' || content_sha256 as remittance_version_id,
        payment_number,
        content_sha256,
        cast(payment_date as date) as payment_date,
        currency,
        cast(amount as decimal(18, 2)) as net_amount,
        payer_id,
        payee_id,
        line_count,
        vendor_code,
        source_format,
        source_file,
        cast(received_at as timestamptz) as received_at
    from source
)

select * from renamed
