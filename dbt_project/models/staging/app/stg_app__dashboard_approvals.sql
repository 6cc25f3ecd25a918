with

source as (
    select * from {{ source('audit', 'dashboard_approvals') }}
),

renamed as (
    select
        approval_id,
        payment_number,
        -- The plan the person was shown and approved.
        plan_sha256,
        approved_by,
        identity_source,
        note as approval_note,
        taken_at,
        loaded_at,
        run_id,
        -- approved (now in audit.remittance_approvals), plan_changed or refused, with the message why.
        outcome as approval_outcome,
        message as outcome_message
    from source
)

select * from renamed
