-- One row per month from the first with Amazon activity to the current one: what the month-end close
-- reports for it. Invoiced is Sage's invoices to the Amazon customer accounts; paid and deducted are Amazon's
-- payments posted to Sage (a payment not posted is not yet a ledger entry); the clearing bank rolls forward
-- from Sage's own transactions; open deductions from int_open_deduction_events. Each roll-forward adds up:
-- opening + movements = closing (tested on this model).

with

as_of as (
    select {{ as_of_date() }} as as_of_date
),

amazon_invoices as (
    select * from {{ ref('month_end_invoices') }}
),

posted_payments as (
    select * from {{ ref('remittance_payments') }} where posting_status = 'posted'
),

posted_deductions as (
    select deductions.*
    from {{ ref('deductions') }} as deductions
    inner join posted_payments using (payment_number)
),

-- Cash Amazon paid that no invoice took: left on the customer's account, unapplied.
unapplied_lines as (
    select lines.payment_date, lines.on_account_amount
    from {{ ref('remittance_lines') }} as lines
    inner join posted_payments using (payment_number)
    where lines.on_account_amount <> 0
),

clearing_movements as (
    select * from {{ ref('int_clearing_bank_movements') }}
),

deduction_events as (
    select * from {{ ref('int_open_deduction_events') }}
),

bounds as (
    select
        date_trunc('month', least(
            (select min(invoice_date) from amazon_invoices),
            (select min(payment_date) from {{ ref('remittance_payments') }}),
            (select min(transaction_date) from clearing_movements),
            as_of.as_of_date
        )) as first_month,
        date_trunc('month', as_of.as_of_date) as last_month,
        as_of.as_of_date
    from as_of
),

calendar as (
    select
        cast(months.period_start as date) as period_start,
        cast(last_day(months.period_start) as date) as period_end,
        bounds.as_of_date
    from bounds
    cross join unnest(generate_series(bounds.first_month, bounds.last_month, interval 1 month)) as months (period_start)
),

invoiced as (
    select
        calendar.period_start,
        count(amazon_invoices.invoice_date) as invoices_count,
        coalesce(sum(amazon_invoices.goods_amount), 0) as invoiced_goods,
        coalesce(sum(amazon_invoices.tax_amount), 0) as invoiced_tax,
        coalesce(sum(amazon_invoices.gross_amount), 0) as invoiced_gross
    from calendar
    left join amazon_invoices
        on amazon_invoices.invoice_date between calendar.period_start and calendar.period_end
    group by calendar.period_start
),

paid as (
    select
        calendar.period_start,
        count(posted_payments.payment_number) as payments_posted,
        coalesce(sum(posted_payments.invoices_gross), 0) as invoices_settled,
        coalesce(sum(posted_payments.net_paid), 0) as net_received
    from calendar
    left join posted_payments
        on posted_payments.payment_date between calendar.period_start and calendar.period_end
    group by calendar.period_start
),

-- Deductions are signed as Amazon's lines are (taken −, paid back +); the report shows what was deducted.
deducted as (
    select
        calendar.period_start,
        count(posted_deductions.deduction_id) as deductions_count,
        coalesce(-sum(posted_deductions.goods_amount), 0) as deducted_goods,
        coalesce(-sum(posted_deductions.tax_amount), 0) as deducted_tax,
        coalesce(-sum(posted_deductions.amount), 0) as deducted_gross
    from calendar
    left join posted_deductions
        on posted_deductions.payment_date between calendar.period_start and calendar.period_end
    group by calendar.period_start
),

unapplied as (
    select
        calendar.period_start,
        coalesce(sum(unapplied_lines.on_account_amount), 0) as unapplied_cash
    from calendar
    left join unapplied_lines on unapplied_lines.payment_date <= calendar.period_end
    group by calendar.period_start
),

clearing as (
    select
        calendar.period_start,
        coalesce(sum(amount) filter (where transaction_date < calendar.period_start), 0) as clearing_opening,
        coalesce(sum(amount) filter (where in_period and movement_kind = 'amazon_receipts'), 0)
            as clearing_amazon_receipts,
        coalesce(sum(amount) filter (where in_period and movement_kind = 'deductions_paid'), 0)
            as clearing_deductions_paid,
        coalesce(sum(amount) filter (where in_period and movement_kind = 'recoveries_received'), 0)
            as clearing_recoveries_received,
        coalesce(sum(amount) filter (where in_period and movement_kind = 'transfers'), 0) as clearing_transfers,
        coalesce(sum(amount) filter (where in_period and movement_kind = 'other'), 0) as clearing_other,
        coalesce(sum(amount) filter (where transaction_date <= calendar.period_end), 0) as clearing_closing
    from calendar
    left join lateral (
        select
            *,
            transaction_date between calendar.period_start and calendar.period_end as in_period
        from clearing_movements
    ) on true
    group by calendar.period_start
),

open_deductions as (
    select
        calendar.period_start,
        coalesce(sum(
            case when event_kind = 'opened' then amount else -amount end
        ) filter (where event_date < calendar.period_start), 0) as open_deductions_opening,
        coalesce(sum(amount) filter (where in_period and event_kind = 'opened'), 0) as open_deductions_new,
        coalesce(sum(amount) filter (where in_period and event_kind = 'recovered'), 0) as open_deductions_recovered,
        coalesce(sum(amount) filter (where in_period and event_kind = 'written_off'), 0)
            as open_deductions_written_off,
        coalesce(sum(
            case when event_kind = 'opened' then amount else -amount end
        ) filter (where event_date <= calendar.period_end), 0) as open_deductions_closing
    from calendar
    left join lateral (
        select
            *,
            event_date between calendar.period_start and calendar.period_end as in_period
        from deduction_events
    ) on true
    group by calendar.period_start
),

closes as (
    select * from {{ ref('stg_app__month_end_runs') }}
),

latest_close as (
    select
        period,
        close_version,
        closed_at,
        closed_by,
        manifest_sha256
    from closes
    where close_status = 'closed'
    qualify row_number() over (partition by period order by close_version desc) = 1
),

latest_attempt as (
    select period, close_status, closed_at
    from closes
    qualify row_number() over (partition by period order by sequence_number desc) = 1
),

final as (
    select
        cast(strftime(calendar.period_start, '%Y-%m') as varchar) as period,
        calendar.period_start,
        calendar.period_end,
        calendar.period_end < calendar.as_of_date as period_ended,
        cast(invoiced.invoices_count as integer) as invoices_count,
        cast(invoiced.invoiced_goods as decimal(18, 2)) as invoiced_goods,
        cast(invoiced.invoiced_tax as decimal(18, 2)) as invoiced_tax,
        cast(invoiced.invoiced_gross as decimal(18, 2)) as invoiced_gross,
        cast(paid.payments_posted as integer) as payments_posted,
        cast(paid.invoices_settled as decimal(18, 2)) as invoices_settled,
        cast(deducted.deductions_count as integer) as deductions_count,
        cast(deducted.deducted_goods as decimal(18, 2)) as deducted_goods,
        cast(deducted.deducted_tax as decimal(18, 2)) as deducted_tax,
        cast(deducted.deducted_gross as decimal(18, 2)) as deducted_gross,
        cast(paid.net_received as decimal(18, 2)) as net_received,
        cast(unapplied.unapplied_cash as decimal(18, 2)) as unapplied_cash,
        cast(clearing.clearing_opening as decimal(18, 2)) as clearing_opening,
        cast(clearing.clearing_amazon_receipts as decimal(18, 2)) as clearing_amazon_receipts,
        cast(clearing.clearing_deductions_paid as decimal(18, 2)) as clearing_deductions_paid,
        cast(clearing.clearing_recoveries_received as decimal(18, 2)) as clearing_recoveries_received,
        cast(clearing.clearing_transfers as decimal(18, 2)) as clearing_transfers,
        cast(clearing.clearing_other as decimal(18, 2)) as clearing_other,
        cast(clearing.clearing_closing as decimal(18, 2)) as clearing_closing,
        cast(open_deductions.open_deductions_opening as decimal(18, 2)) as open_deductions_opening,
        cast(open_deductions.open_deductions_new as decimal(18, 2)) as open_deductions_new,
        cast(open_deductions.open_deductions_recovered as decimal(18, 2)) as open_deductions_recovered,
        cast(open_deductions.open_deductions_written_off as decimal(18, 2)) as open_deductions_written_off,
        cast(open_deductions.open_deductions_closing as decimal(18, 2)) as open_deductions_closing,
        cast(case
            when latest_close.close_version is not null then 'closed'
            when latest_attempt.close_status = 'blocked' then 'blocked'
            else 'open'
        end as varchar) as close_status,
        cast(latest_close.close_version as integer) as latest_close_version,
        cast(latest_close.closed_at as timestamptz) as latest_closed_at,
        cast(latest_close.closed_by as varchar) as latest_closed_by,
        cast(latest_close.manifest_sha256 as varchar) as latest_manifest_sha256
    from calendar
    inner join invoiced using (period_start)
    inner join paid using (period_start)
    inner join deducted using (period_start)
    inner join unapplied using (period_start)
    inner join clearing using (period_start)
    inner join open_deductions using (period_start)
    left join latest_close on latest_close.period = strftime(calendar.period_start, '%Y-%m')
    left join latest_attempt on latest_attempt.period = strftime(calendar.period_start, '%Y-%m')
)

select * from final
