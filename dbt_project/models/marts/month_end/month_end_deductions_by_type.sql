-- What Amazon deducted each month by deduction type, with its VAT: the deductions of payments posted to Sage,
-- shown as deducted (a claim Amazon paid back counts against its type).

with

posted_payments as (
    select payment_number from {{ ref('remittance_payments') }} where posting_status = 'posted'
),

deductions as (
    select deductions.*
    from {{ ref('deductions') }} as deductions
    inner join posted_payments using (payment_number)
),

final as (
    select
        cast(strftime(payment_date, '%Y-%m') as varchar) as period,
        cast(deduction_type as varchar) as deduction_type,
        cast(count(*) as integer) as deductions_count,
        cast(-sum(goods_amount) as decimal(18, 2)) as deducted_goods,
        cast(-sum(tax_amount) as decimal(18, 2)) as deducted_tax,
        cast(-sum(amount) as decimal(18, 2)) as deducted_gross
    from deductions
    group by all
)

select * from final
