-- Sage reads that keep failing: the last N Sage loads all failed (N is the project variable
-- sage_read_failures_before_exception). One failure is noise; a run of them means finance is looking at
-- stale ledgers.

with

runs as (
    select * from {{ ref('stg_app__runs') }}
    where job = 'sage_load' and run_status in ('succeeded', 'failed')
),

latest as (
    select
        *,
        row_number() over (order by started_at desc) as recency
    from runs
),

recent as (
    select * from latest
    where recency <= {{ var('sage_read_failures_before_exception') }}
),

failing as (
    select
        count(*) as failed_runs,
        max(started_at) as last_failed_at,
        arg_max(error_message, started_at) as last_error
    from recent
    where run_status = 'failed'
    having count(*) = {{ var('sage_read_failures_before_exception') }}
),

final as (
    select
        'sage_read_failing' as kind,
        'sage_load' as document_type,
        'sage_load' as document_reference,
        cast(null as decimal(18, 2)) as amount,
        'The last ' || failed_runs || ' Sage 200 loads failed; the latest error: ' || coalesce(last_error, 'unknown')
            as message
    from failing
)

select * from final
