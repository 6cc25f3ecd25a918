-- The life of every recoverable deduction (seed deduction_nominal_map.recoverable) Amazon took on a posted
-- payment, as dated events for the month-end roll-forward of open deductions:
--   opened       on its payment date, for what Amazon took;
--   recovered    when Amazon pays it back: claim reversals on the same root invoice, first taken first
--                recovered, never more than was taken;
--   written_off  the day after its dispute window closes, for what is still open then; a recovery that comes
--                later writes that much back (a negative write-off) in its own month.
-- Open at any day = opened − recovered − written off, so each month's roll-forward adds up by construction.
-- Reads the marts: only posted payments are ledger entries a close may report.

with

posted_payments as (
    select payment_number from {{ ref('remittance_payments') }} where posting_status = 'posted'
),

recoverable_types as (
    select deduction_type from {{ ref('deduction_nominal_map') }} where recoverable
),

as_of as (
    select {{ as_of_date() }} as as_of_date
),

posted_deductions as (
    select
        deductions.*,
        coalesce(deductions.root_invoice_number, deductions.reference) as recovery_key
    from {{ ref('deductions') }} as deductions
    inner join posted_payments using (payment_number)
),

opened as (
    select
        deduction_id,
        deduction_type,
        recovery_key,
        payment_date,
        dispute_deadline,
        -amount as opened_amount,
        sum(-amount) over (
            partition by recovery_key order by payment_date, deduction_id
            rows between unbounded preceding and current row
        ) as running_opened
    from posted_deductions
    where deduction_type in (select deduction_type from recoverable_types) and amount < 0
),

recoveries as (
    select
        deduction_id as recovery_id,
        recovery_key,
        payment_date as recovered_on,
        amount as recovered_amount,
        sum(amount) over (
            partition by recovery_key order by payment_date, deduction_id
            rows between unbounded preceding and current row
        ) as running_recovered
    from posted_deductions
    where deduction_type = 'claim_reversal' and amount > 0
),

-- Where a recovery's slice of the invoice's running recoveries overlaps a deduction's slice of its running
-- deductions, that overlap is what the recovery paid back on that deduction.
applied as (
    select
        opened.deduction_id,
        opened.deduction_type,
        opened.recovery_key,
        opened.dispute_deadline,
        recoveries.recovery_id,
        recoveries.recovered_on,
        least(opened.running_opened, recoveries.running_recovered)
        - greatest(
            opened.running_opened - opened.opened_amount,
            recoveries.running_recovered - recoveries.recovered_amount
        ) as applied_amount
    from opened
    inner join recoveries using (recovery_key)
    where least(opened.running_opened, recoveries.running_recovered)
        > greatest(
            opened.running_opened - opened.opened_amount,
            recoveries.running_recovered - recoveries.recovered_amount
        )
),

recovered_in_window as (
    select
        deduction_id,
        sum(applied_amount) filter (where recovered_on <= dispute_deadline) as recovered_amount
    from applied
    group by deduction_id
),

events as (
    select deduction_id, deduction_type, recovery_key, payment_date as event_date, 'opened' as event_kind,
        opened_amount as amount
    from opened

    union all

    select deduction_id, deduction_type, recovery_key, recovered_on, 'recovered', applied_amount
    from applied

    union all

    select
        opened.deduction_id,
        opened.deduction_type,
        opened.recovery_key,
        cast(opened.dispute_deadline + interval 1 day as date),
        'written_off',
        opened.opened_amount - coalesce(recovered_in_window.recovered_amount, 0)
    from opened
    left join recovered_in_window using (deduction_id)
    cross join as_of
    where opened.dispute_deadline < as_of.as_of_date

    union all

    select deduction_id, deduction_type, recovery_key, recovered_on, 'written_off', -applied_amount
    from applied
    where recovered_on > dispute_deadline
),

final as (
    select
        cast(deduction_id as varchar) as deduction_id,
        cast(deduction_type as varchar) as deduction_type,
        cast(recovery_key as varchar) as root_invoice_number,
        cast(event_date as date) as event_date,
        cast(strftime(event_date, '%Y-%m') as varchar) as period,
        cast(event_kind as varchar) as event_kind,
        cast(amount as decimal(18, 2)) as amount
    from events
    where amount <> 0
)

select * from final
