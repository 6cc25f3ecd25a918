-- No month of the close starts from anything but the month before's closing: a roll-forward that adds up
-- within each month could still lose money between them.
with

periods as (
    select * from {{ ref('month_end_periods') }}
)

select
    this_month.period,
    this_month.clearing_opening,
    month_before.clearing_closing as clearing_closing_before,
    this_month.open_deductions_opening,
    month_before.open_deductions_closing as open_deductions_closing_before
from periods as this_month
left join periods as month_before on month_before.period_end = this_month.period_start - interval 1 day
where this_month.clearing_opening <> coalesce(month_before.clearing_closing, 0)
    or this_month.open_deductions_opening <> coalesce(month_before.open_deductions_closing, 0)
