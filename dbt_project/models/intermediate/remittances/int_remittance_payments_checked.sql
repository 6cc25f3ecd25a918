-- The latest version of every payment with what decides whether it may be posted at all. A payment is
-- refused (never posted, its plan still shown) when its own figures do not add up (the stated net is not
-- the sum of its lines), when its date lies in no period Sage holds, or when the posting run recorded a
-- refusal of its current plan (audit.remittance_refusals: Sage's transaction_date_validation called the date
-- Unacceptable, a closed period, as Sage's period list does not say which periods are closed; or the plan
-- failed the checks made again before posting). A refusal holds for the plan it was made for: a new version
-- of the payment or a corrected mapping makes a new plan, which is judged afresh. A payment whose posting
-- has started (its plan frozen in audit.remittance_plans) is past refusing.

with

payments as (
    select * from {{ ref('int_remittance_payments_versioned') }}
    where is_latest_version
),

periods as (
    select
        cast(timezone('UTC', period_start_date) as date) as period_start_date,
        cast(timezone('UTC', period_end_date) as date) as period_end_date
    from {{ ref('stg_sage200__financial_periods') }}
),

dated_in_a_period as (
    select distinct payments.payment_number
    from payments
    inner join periods
        on payments.payment_date between periods.period_start_date and periods.period_end_date
),

frozen_plans as (
    select * from {{ ref('stg_app__remittance_plans') }}
),

plans as (
    select * from {{ ref('int_remittance_plans_hashed') }}
),

latest_refusals as (
    select refusals.*
    from {{ ref('stg_app__remittance_refusals') }} as refusals
    inner join plans
        on refusals.payment_number = plans.payment_number
        -- A refusal recorded without a plan (by hand) holds for every plan of the payment.
        and (refusals.plan_sha256 is null or refusals.plan_sha256 = plans.plan_sha256)
    qualify row_number() over (partition by refusals.payment_number order by refusals.sequence_number desc) = 1
),

checked as (
    select
        payments.*,
        payments.stated_net_amount = payments.lines_paid_amount as figures_add_up,
        dated_in_a_period.payment_number is not null as is_dated_in_a_sage_period,
        frozen_plans.plan_sha256 as frozen_plan_sha256,
        frozen_plans.frozen_at,
        latest_refusals.refusal_reason as recorded_refusal_reason,
        latest_refusals.refusal_message as recorded_refusal_message
    from payments
    left join dated_in_a_period on payments.payment_number = dated_in_a_period.payment_number
    left join frozen_plans on payments.payment_number = frozen_plans.payment_number
    left join latest_refusals on payments.payment_number = latest_refusals.payment_number
),

final as (
    select
        *,
        frozen_plan_sha256 is not null as is_frozen,
        case
            when frozen_plan_sha256 is not null then null
            when not figures_add_up then 'figures_do_not_add_up'
            when not is_dated_in_a_sage_period then 'closed_period'
            else recorded_refusal_reason
        end as refusal_reason,
        case
            when frozen_plan_sha256 is not null then null
            when not figures_add_up
                then 'Amazon payment ' || payment_number || ' states a net of ' || stated_net_amount
                    || ' but its lines add up to ' || lines_paid_amount || ': it is not posted.'
            when not is_dated_in_a_sage_period
                then 'Amazon payment ' || payment_number || ' is dated ' || strftime(payment_date, '%Y-%m-%d')
                    || ', in no period Sage 200 holds: it is not posted.'
            else recorded_refusal_message
        end as refusal_message
    from checked
)

select * from final
