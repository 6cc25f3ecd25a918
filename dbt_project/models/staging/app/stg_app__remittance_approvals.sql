with

source as (
    select * from {{ source('audit', 'remittance_approvals') }}
),

renamed as (
    select
        -- Orders the rows when their times are equal (a pinned clock, one batch).
        sequence_number,
        approval_id,
        payment_number,
        -- The plan approved: a plan that changes afterwards is a different plan, not approved.
        plan_sha256,
        approved_by,
        approved_at,
        -- cli, dashboard, or auto (the configuration's auto-approval).
        channel as approval_channel,
        note as approval_note,
        run_id
    from source
)

select * from renamed
