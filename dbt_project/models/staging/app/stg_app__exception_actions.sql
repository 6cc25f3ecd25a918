with

source as (
    select * from {{ source('audit', 'exception_actions') }}
),

renamed as (
    select
        action_id,
        exception_id,
        -- assign, snooze, resolve, reopen or comment.
        action as action_kind,
        assignee,
        snoozed_until,
        note as action_note,
        taken_by,
        -- login (Streamlit's login) or name (typed once per dashboard session).
        identity_source,
        taken_at,
        loaded_at,
        run_id
    from source
)

select * from renamed
