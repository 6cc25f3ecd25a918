{{
    config(
        materialized='incremental',
        unique_key='exception_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        full_refresh=false,
    )
}}
-- The one exceptions contract every flow reports into. History survives rebuilds: this table is never
-- rebuilt from scratch (full_refresh=false); an exception no longer detected is marked resolved, not
-- deleted, and one detected again is reopened with its first detection time kept.

with

detected as (
    select * from {{ ref('int_exceptions_detected') }}
),

{% if is_incremental() %}
known as (
    select * from {{ this }}
),
{% else %}
known as (
    select
        cast(null as varchar) as exception_id,
        cast(null as timestamptz) as detected_at,
        cast(null as varchar) as status,
        cast(null as varchar) as assignee,
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
        detected.document_type,
        detected.document_reference,
        coalesce(known.detected_at, cast('{{ run_started_at }}' as timestamptz)) as detected_at,
        coalesce(known.detected_at, cast('{{ run_started_at }}' as timestamptz))
            + to_hours(detected.due_hours) as due_at,
        detected.amount,
        detected.message,
        detected.suggested_action,
        'open' as status,
        known.assignee,
        cast(null as timestamptz) as resolved_at,
        cast('{{ run_started_at }}' as timestamptz) as last_seen_at
    from detected
    left join known on detected.exception_id = known.exception_id
),

{% if is_incremental() %}
no_longer_detected as (
    select
        known.* replace (
            'resolved' as status,
            coalesce(known.resolved_at, cast('{{ run_started_at }}' as timestamptz)) as resolved_at
        )
    from known
    anti join detected on known.exception_id = detected.exception_id
),
{% endif %}

final as (
    select * from still_or_newly_detected
    {% if is_incremental() %}
    union all by name
    select * from no_longer_detected
    {% endif %}
)

select
    cast(exception_id as varchar) as exception_id,
    cast(kind as varchar) as kind,
    cast(severity as varchar) as severity,
    cast(owner_role as varchar) as owner_role,
    cast(document_type as varchar) as document_type,
    cast(document_reference as varchar) as document_reference,
    cast(detected_at as timestamptz) as detected_at,
    cast(due_at as timestamptz) as due_at,
    cast(amount as decimal(18, 2)) as amount,
    cast(message as varchar) as message,
    cast(suggested_action as varchar) as suggested_action,
    cast(status as varchar) as status,
    cast(assignee as varchar) as assignee,
    cast(resolved_at as timestamptz) as resolved_at,
    cast(last_seen_at as timestamptz) as last_seen_at
from final
