{{
    config(
        materialized='incremental',
        unique_key='exception_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        full_refresh=false,
    )
}}
-- The one exceptions contract every flow reports into. History survives rebuilds: this table is never
-- rebuilt from scratch (full_refresh=false); an exception no longer detected is marked resolved, not
-- deleted, and one detected again is reopened with its first detection time kept. New columns are added to
-- the history as they come (append_new_columns); older rows keep nulls there.
--
-- What people did in the dashboard is applied on top, from the whole action log each run: the latest
-- assignment; a resolve holds (the person dealt with it outside what we can see) until someone reopens it; a
-- snooze holds until its end.

with

detected as (
    select * from {{ ref('int_exceptions_detected') }}
),

actions as (
    select * from {{ ref('int_exception_actions_summarised') }}
),

kinds as (
    select * from {{ ref('exception_kinds') }}
),

{% if is_incremental() %}
-- The history's own columns only: the people's columns are recomputed from the action log, and a history
-- written before a column existed must still read.
known as (
    select
        exception_id,
        kind,
        severity,
        owner_role,
        document_type,
        document_reference,
        detected_at,
        due_at,
        amount,
        message,
        suggested_action,
        resolved_at,
        last_seen_at
    from {{ this }}
),
{% else %}
known as (
    select
        cast(null as varchar) as exception_id,
        cast(null as timestamptz) as detected_at,
        cast(null as timestamptz) as resolved_at
    where false
),
{% endif %}

still_or_newly_detected as (
    select
        detected.exception_id,
        detected.kind,
        detected.severity,
        detected.owner_role,
        detected.flow,
        detected.title,
        detected.document_type,
        detected.document_reference,
        coalesce(known.detected_at, cast('{{ run_started_at }}' as timestamptz)) as detected_at,
        coalesce(known.detected_at, cast('{{ run_started_at }}' as timestamptz))
            + to_hours(detected.due_hours) as due_at,
        detected.amount,
        detected.message,
        detected.suggested_action,
        true as is_detected,
        cast(null as timestamptz) as resolved_at,
        cast('{{ run_started_at }}' as timestamptz) as last_seen_at
    from detected
    left join known on detected.exception_id = known.exception_id
),

{% if is_incremental() %}
no_longer_detected as (
    select
        known.* replace (coalesce(known.resolved_at, cast('{{ run_started_at }}' as timestamptz)) as resolved_at),
        {{ exception_flow('kinds.flow', 'known.document_type') }} as flow,
        kinds.title,
        false as is_detected
    from known
    left join kinds on known.kind = kinds.kind
    anti join detected on known.exception_id = detected.exception_id
),
{% endif %}

all_exceptions as (
    select * from still_or_newly_detected
    {% if is_incremental() %}
    union all by name
    select * from no_longer_detected
    {% endif %}
),

final as (
    select
        all_exceptions.* exclude (is_detected, resolved_at),
        case
            when actions.status_action = 'resolve' then 'resolved'
            when not all_exceptions.is_detected then 'resolved'
            when actions.status_action = 'snooze' and actions.snoozed_until > {{ as_of_time() }} then 'snoozed'
            else 'open'
        end as status,
        actions.assignee,
        case when actions.status_action = 'snooze' then actions.snoozed_until end as snoozed_until,
        case
            when actions.status_action = 'resolve' then actions.status_set_at
            when not all_exceptions.is_detected then all_exceptions.resolved_at
        end as resolved_at,
        -- null when it resolved itself (no longer detected)
        case when actions.status_action = 'resolve' then actions.status_set_by end as resolved_by,
        case when actions.status_action = 'resolve' then actions.status_note end as resolution_note,
        actions.last_action_at
    from all_exceptions
    left join actions on all_exceptions.exception_id = actions.exception_id
)

select
    cast(exception_id as varchar) as exception_id,
    cast(kind as varchar) as kind,
    cast(severity as varchar) as severity,
    cast(owner_role as varchar) as owner_role,
    cast(flow as varchar) as flow,
    cast(title as varchar) as title,
    cast(document_type as varchar) as document_type,
    cast(document_reference as varchar) as document_reference,
    cast(detected_at as timestamptz) as detected_at,
    cast(due_at as timestamptz) as due_at,
    cast(amount as decimal(18, 2)) as amount,
    cast(message as varchar) as message,
    cast(suggested_action as varchar) as suggested_action,
    cast(status as varchar) as status,
    cast(assignee as varchar) as assignee,
    cast(snoozed_until as timestamptz) as snoozed_until,
    cast(resolved_at as timestamptz) as resolved_at,
    cast(resolved_by as varchar) as resolved_by,
    cast(resolution_note as varchar) as resolution_note,
    cast(last_action_at as timestamptz) as last_action_at,
    cast(last_seen_at as timestamptz) as last_seen_at
from final
