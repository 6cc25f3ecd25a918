{{ config(materialized='view') }}
-- How each flow is doing, one row per flow. A view, so freshness is judged when it is read (the dashboard,
-- an analyst), not when dbt last built it: a pipeline that stopped running cannot leave its own health green.
-- Runs are timed by the wall clock (audit.runs), so freshness is too; the thresholds are seed sync_flows'.

with

flows as (
    select * from {{ ref('sync_flows') }}
),

runs as (
    select * from {{ ref('stg_app__runs') }}
),

measures as (
    select * from {{ ref('int_sync_health_measures') }}
),

exceptions as (
    select * from {{ ref('exceptions') }}
    where status = 'open'
),

latest_runs as (
    select
        job,
        started_at as last_run_at,
        run_status as last_run_status,
        -- the latest run's own error: none when it succeeded, whatever failed before
        error_message as last_error
    from runs
    qualify row_number() over (partition by job order by started_at desc, run_id) = 1
),

last_successes as (
    select
        job,
        max(coalesce(ended_at, started_at)) as last_success_at
    from runs
    where run_status = 'succeeded'
    group by job
),

open_exceptions as (
    select
        flow,
        count(*) as open_exceptions,
        count(*) filter (where due_at < now()) as overdue_exceptions,
        count(*) filter (where severity in ('high', 'critical')) as serious_exceptions,
        count(*) filter (where severity in ('high', 'critical') and due_at < now()) as serious_overdue_exceptions
    from exceptions
    group by flow
),

judged as (
    select
        flows.flow,
        flows.flow_title,
        flows.owner_role,
        flows.schedule,
        latest_runs.last_run_at,
        latest_runs.last_run_status,
        latest_runs.last_error,
        last_successes.last_success_at,
        cast(floor(epoch(now() - last_successes.last_success_at) / 60) as integer) as minutes_since_success,
        flows.amber_after_minutes,
        flows.red_after_minutes,
        measures.backlog,
        nullif(flows.backlog_description, '') as backlog_description,
        measures.success_rate,
        flows.success_rate_description,
        measures.matched_by_value_ratio,
        measures.clearing_bank_unexplained,
        coalesce(open_exceptions.open_exceptions, 0) as open_exceptions,
        coalesce(open_exceptions.overdue_exceptions, 0) as overdue_exceptions,
        coalesce(open_exceptions.serious_exceptions, 0) as serious_exceptions,
        coalesce(open_exceptions.serious_overdue_exceptions, 0) as serious_overdue_exceptions,
        flows.success_rate_amber_below,
        flows.success_rate_red_below
    from flows
    left join latest_runs on flows.job = latest_runs.job
    left join last_successes on flows.job = last_successes.job
    left join measures on flows.flow = measures.flow
    left join open_exceptions on flows.flow = open_exceptions.flow
),

final as (
    select
        *,
        case
            when last_success_at is null then 'never_run'
            when minutes_since_success > red_after_minutes then 'stalled'
            when minutes_since_success > amber_after_minutes then 'late'
            else 'fresh'
        end as freshness,
        -- The first reason in this order is the one shown: the worst first.
        case
            when minutes_since_success > red_after_minutes
                then 'stalled: no successful run for ' || minutes_since_success || ' minutes (' || schedule || ')'
            when clearing_bank_unexplained <> 0
                then 'the clearing bank holds ' || clearing_bank_unexplained || ' nobody can explain'
            when success_rate < success_rate_red_below
                then success_rate_description || ': ' || round(success_rate * 100, 1) || '%'
            when serious_overdue_exceptions > 0
                then serious_overdue_exceptions || ' high or critical exception(s) past their due time'
            when last_success_at is null then 'has not run successfully yet'
            when last_run_status = 'failed' then 'the last run failed: ' || coalesce(last_error, 'no error recorded')
            when minutes_since_success > amber_after_minutes
                then 'late: no successful run for ' || minutes_since_success || ' minutes (' || schedule || ')'
            when success_rate < success_rate_amber_below
                then success_rate_description || ': ' || round(success_rate * 100, 1) || '%'
            when overdue_exceptions > 0 then overdue_exceptions || ' exception(s) past their due time'
            when serious_exceptions > 0 then serious_exceptions || ' high or critical exception(s) open'
        end as status_reason,
        case
            when minutes_since_success > red_after_minutes
                or clearing_bank_unexplained <> 0
                or success_rate < success_rate_red_below
                or serious_overdue_exceptions > 0
                then 'red'
            when last_success_at is null
                or last_run_status = 'failed'
                or minutes_since_success > amber_after_minutes
                or success_rate < success_rate_amber_below
                or overdue_exceptions > 0
                or serious_exceptions > 0
                then 'amber'
            else 'green'
        end as status
    from judged
)

select
    cast(flow as varchar) as flow,
    cast(flow_title as varchar) as flow_title,
    cast(owner_role as varchar) as owner_role,
    cast(schedule as varchar) as schedule,
    cast(last_run_at as timestamptz) as last_run_at,
    cast(last_run_status as varchar) as last_run_status,
    cast(last_error as varchar) as last_error,
    cast(last_success_at as timestamptz) as last_success_at,
    cast(minutes_since_success as integer) as minutes_since_success,
    cast(freshness as varchar) as freshness,
    cast(backlog as integer) as backlog,
    cast(backlog_description as varchar) as backlog_description,
    cast(success_rate as decimal(7, 4)) as success_rate,
    cast(success_rate_description as varchar) as success_rate_description,
    cast(matched_by_value_ratio as decimal(7, 4)) as matched_by_value_ratio,
    cast(clearing_bank_unexplained as decimal(18, 2)) as clearing_bank_unexplained,
    cast(open_exceptions as integer) as open_exceptions,
    cast(overdue_exceptions as integer) as overdue_exceptions,
    cast(status as varchar) as status,
    cast(status_reason as varchar) as status_reason,
    cast(now() as timestamptz) as as_of
from final
