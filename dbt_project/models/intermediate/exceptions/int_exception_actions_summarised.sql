-- Where people have left each exception: its assignee (the latest assignment), its latest status action
-- (resolve, snooze or reopen: the later one wins) and when anyone last acted on it. Comments only count
-- towards the last action time.

with

actions as (
    select * from {{ ref('stg_app__exception_actions') }}
),

assignments as (
    select
        exception_id,
        arg_max(assignee, (taken_at, action_id)) as assignee
    from actions
    where action_kind = 'assign'
    group by exception_id
),

status_actions as (
    select
        exception_id,
        arg_max(action_kind, (taken_at, action_id)) as status_action,
        arg_max(snoozed_until, (taken_at, action_id)) as snoozed_until,
        arg_max(taken_by, (taken_at, action_id)) as status_set_by,
        arg_max(action_note, (taken_at, action_id)) as status_note,
        max(taken_at) as status_set_at
    from actions
    where action_kind in ('resolve', 'snooze', 'reopen')
    group by exception_id
),

latest_actions as (
    select
        exception_id,
        max(taken_at) as last_action_at
    from actions
    group by exception_id
),

final as (
    select
        latest_actions.exception_id,
        assignments.assignee,
        status_actions.status_action,
        status_actions.snoozed_until,
        status_actions.status_set_by,
        status_actions.status_note,
        status_actions.status_set_at,
        latest_actions.last_action_at
    from latest_actions
    left join assignments on latest_actions.exception_id = assignments.exception_id
    left join status_actions on latest_actions.exception_id = status_actions.exception_id
)

select * from final
