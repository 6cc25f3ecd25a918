with

source as (
    select * from {{ source('raw_app', 'vendor_codes') }}
),

renamed as (
    select
        vendor_code,
        marketplace,
        sage_customer_account,
        -- How this vendor code's documents travel: EDIFACT, X12 or API.
        edi_standard,
        currency,
        config_file
    from source
)

select * from renamed
