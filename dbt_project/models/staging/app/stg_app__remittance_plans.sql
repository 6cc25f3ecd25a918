with

source as (
    select * from {{ source('audit', 'remittance_plans') }}
),

renamed as (
    select
        payment_number,
        -- The plan a payment is posted from, fixed when its posting starts.
        plan_sha256,
        frozen_at,
        run_id
    from source
)

select * from renamed
