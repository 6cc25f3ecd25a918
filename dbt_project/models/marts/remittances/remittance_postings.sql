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
        cast(payment_number as varchar) as payment_number,
        cast(step_sequence as integer) as step_sequence,
        cast(step as varchar) as step,
        cast(document_code as varchar) as document_code,
        cast(line_number as integer) as line_number,
        cast(account_type as varchar) as account_type,
        cast(account_code as varchar) as account_code,
        cast(cost_centre as varchar) as cost_centre,
        cast(department as varchar) as department,
        cast(tax_code as integer) as tax_code,
        cast(sage_transaction_id as bigint) as sage_transaction_id,
        cast(applied_document_code as varchar) as applied_document_code,
        cast(debit as decimal(18, 2)) as debit,
        cast(credit as decimal(18, 2)) as credit,
        cast(narrative as varchar) as narrative
    from journal
)

select * from final
