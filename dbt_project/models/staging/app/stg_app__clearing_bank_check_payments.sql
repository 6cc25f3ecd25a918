with

source as (
    select * from {{ source('audit', 'clearing_bank_check_payments') }}
),

renamed as (
    select
        check_id,
        payment_number,
        -- The payment's net movement on the clearing bank in Sage, and what its plan says it should be (0.00).
        sage_net,
        expected_net
    from source
)

select * from renamed
