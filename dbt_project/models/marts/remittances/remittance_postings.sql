-- The journal of every payment, one row per line of the documents that post it. A payment whose posting
-- has started shows the plan it is being posted from (frozen in audit.remittance_plans and
-- audit.remittance_plan_lines); any other payment shows its plan as it would be posted now.

with

planned as (
    select * from {{ ref('int_remittance_postings_planned') }}
),

frozen_plans as (
    select * from {{ ref('stg_app__remittance_plans') }}
),

frozen_lines as (
    select plan_lines.* exclude (plan_sha256)
    from {{ ref('stg_app__remittance_plan_lines') }} as plan_lines
    inner join frozen_plans
        on plan_lines.payment_number = frozen_plans.payment_number
        and plan_lines.plan_sha256 = frozen_plans.plan_sha256
),

journal as (
    select planned.*
    from planned
    left join frozen_plans on planned.payment_number = frozen_plans.payment_number
    where frozen_plans.payment_number is null

    union all by name

    select * from frozen_lines
),

final as (
    select
        {{ journal_columns() }}
    from journal
)

-- Stored in payment order: the dashboard reads one payment at a time, and DuckDB skips the row groups of
-- the others (about half the time of a lookup on a year of lines).
select * from final
order by payment_number, step_sequence
