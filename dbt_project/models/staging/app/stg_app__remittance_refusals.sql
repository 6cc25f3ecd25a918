with

source as (
    select * from {{ source('audit', 'remittance_refusals') }}
),

renamed as (
    select
        -- Orders the rows when their times are equal (a pinned clock, one batch).
        sequence_number,
        refusal_id,
        payment_number,
        plan_sha256,
        -- closed_period (Sage's transaction_date_validation said Unacceptable) or figures_do_not_add_up.
        reason as refusal_reason,
        message as refusal_message,
        refused_at,
        run_id
    from source
)

select * from renamed
