-- The checks a month-end close requires green, as the warehouse sees them after the close's own pass and a
-- fresh read of Sage. The close adds customer_balance_agrees (Sage's balance on the Amazon accounts, asked live
-- at close time, against the warehouse's) and flow_succeeded (the pass itself). One row per check; measured and expected are what it compared.

with

postings as (
    select * from {{ ref('remittance_postings') }}
),

payments as (
    select * from {{ ref('remittance_payments') }}
),

clearing as (
    select clearing_bank from {{ ref('int_remittance_banks_resolved') }}
),

-- Every posted payment's journal: debits = credits, and the clearing bank nets to 0.00.
unbalanced_payments as (
    select
        postings.payment_number,
        sum(postings.debit) - sum(postings.credit) as difference,
        sum(postings.debit - postings.credit) filter (
            where postings.account_type = 'bank' and postings.account_code = clearing.clearing_bank
        ) as clearing_difference
    from postings
    inner join payments using (payment_number)
    cross join clearing
    where payments.posting_status = 'posted'
    group by postings.payment_number
    having sum(postings.debit) <> sum(postings.credit)
        or coalesce(sum(postings.debit - postings.credit) filter (
            where postings.account_type = 'bank' and postings.account_code = clearing.clearing_bank
        ), 0) <> 0
),

latest_clearing_check as (
    select *
    from {{ ref('stg_app__clearing_bank_checks') }}
    qualify row_number() over (order by sequence_number desc) = 1
),

clearing_balance as (
    select banks.balance
    from {{ ref('stg_sage200__banks') }} as banks
    inner join clearing on banks.bank_code = clearing.clearing_bank
),

-- A posting key whose last record is not an answer from Sage: a call whose outcome nobody knows yet.
postings_in_flight as (
    select posting_key, posting_status
    from {{ ref('stg_app__sage_postings') }}
    qualify row_number() over (partition by posting_key order by sequence_number desc) = 1
        and posting_status in ('attempting', 'unknown')
),

payments_in_flight as (
    select payment_number from payments where posting_status = 'posting'
),

amazon_customers as (
    select customers.*
    from {{ ref('stg_sage200__customers') }} as customers
    where customers.customer_reference in (select sage_customer_account from {{ ref('stg_app__vendor_codes') }})
),

amazon_transactions as (
    select transactions.*
    from {{ ref('stg_sage200__sales_transactions') }} as transactions
    inner join amazon_customers using (customer_id)
),

checks as (
    select
        'payments_balanced' as check_name,
        (select count(*) from unbalanced_payments) = 0 as passed,
        (select count(*) from unbalanced_payments) as measured,
        0 as expected,
        coalesce(
            'out of balance: ' || (
                select string_agg(payment_number || ' (' || difference || ', clearing ' || coalesce(clearing_difference, 0) || ')', ', ' order by payment_number)
                from unbalanced_payments
            ),
            'every posted payment balances and nets to 0.00 on the clearing bank'
        ) as detail

    union all

    select
        'clearing_bank_explained',
        coalesce((select difference from latest_clearing_check), 0) = 0
            and (select balance from clearing_balance)
            = coalesce((select expected_balance from latest_clearing_check), 0),
        (select balance from clearing_balance),
        coalesce((select expected_balance from latest_clearing_check), 0),
        'Sage holds ' || coalesce(cast((select balance from clearing_balance) as varchar), 'no clearing bank')
        || '; payments in flight explain ' || coalesce(cast((select expected_balance from latest_clearing_check) as varchar), '0.00')
        || '; the last check after posting found a difference of '
        || coalesce(cast((select difference from latest_clearing_check) as varchar), '0.00')

    union all

    select
        'no_posting_in_flight',
        (select count(*) from postings_in_flight) + (select count(*) from payments_in_flight) = 0,
        (select count(*) from postings_in_flight) + (select count(*) from payments_in_flight),
        0,
        coalesce(
            'in flight: ' || nullif(concat_ws(', ',
                (select string_agg(posting_key, ', ' order by posting_key) from postings_in_flight),
                (select string_agg('payment ' || payment_number, ', ' order by payment_number) from payments_in_flight)
            ), ''),
            'no Sage posting awaits its answer and no payment is part-way through posting'
        )

    union all

    -- Sage's balance on the customer record against the sum of what its transactions leave outstanding, both
    -- as loaded: a load that missed a transaction, or a transaction posted after the load, shows here.
    select
        'customer_transactions_add_up',
        (select coalesce(sum(balance), 0) from amazon_customers)
        = (select coalesce(sum(signed_outstanding_value), 0) from amazon_transactions),
        (select coalesce(sum(signed_outstanding_value), 0) from amazon_transactions),
        (select coalesce(sum(balance), 0) from amazon_customers),
        'Sage customer balance ' || (select coalesce(sum(balance), 0) from amazon_customers)
        || '; outstanding on its transactions in the warehouse '
        || (select coalesce(sum(signed_outstanding_value), 0) from amazon_transactions)
),

final as (
    select
        cast(check_name as varchar) as check_name,
        -- A check that could not be judged (no clearing bank in Sage, say) has failed.
        cast(coalesce(passed, false) as boolean) as passed,
        cast(measured as decimal(18, 2)) as measured,
        cast(expected as decimal(18, 2)) as expected,
        cast(detail as varchar) as detail
    from checks
)

select * from final
