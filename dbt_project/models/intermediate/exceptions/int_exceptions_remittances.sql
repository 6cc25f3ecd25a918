-- Remittance exceptions: what each payment carries (int_remittance_payment_exceptions), a posting step Sage
-- refused or never answered (with Sage's message), and a clearing bank whose latest read-back from Sage
-- differs from what the posted payments expect. A payment waiting for approval is no exception: it is the
-- approval queue (marts.remittance_payments, posting_status awaiting_approval), and the reasons it needs a
-- person are the exceptions above or its size.

with

payment_exceptions as (
    select * exclude (payment_number) from {{ ref('int_remittance_payment_exceptions') }}
),

-- The latest row of each remittance step; a step failed or unknown (the answer lost) stops the payment.
latest_steps as (
    select
        posting_key,
        regexp_extract(posting_key, '^remittance:[^:]*:(.*):[^:]*$', 1) as payment_number,
        regexp_extract(posting_key, ':([^:]*)$', 1) as document_code,
        posting_status,
        message
    from {{ ref('stg_app__sage_postings') }}
    where starts_with(posting_key, 'remittance:')
    qualify row_number() over (partition by posting_key order by sequence_number desc) = 1
),

failed_postings as (
    select
        'remittance_posting_failed' as kind,
        'remittance' as document_type,
        payment_number as document_reference,
        cast(null as decimal(18, 2)) as amount,
        'Posting Amazon payment ' || payment_number || ' stopped: ' || string_agg(
            document_code || ' ' || posting_status || ': ' || coalesce(message, 'no answer from Sage 200'),
            '; ' order by document_code
        ) || '.' as message
    from latest_steps
    where posting_status in ('failed', 'unknown')
    group by payment_number
),

latest_checks as (
    select * from {{ ref('stg_app__clearing_bank_checks') }}
    qualify row_number() over (partition by bank_code order by sequence_number desc) = 1
),

clearing_differences as (
    select
        'clearing_bank_difference' as kind,
        'bank' as document_type,
        bank_code as document_reference,
        difference as amount,
        'Sage 200 bank ' || bank_code || ' holds ' || sage_balance || ' but the ' || payments_checked
            || ' payment(s) posted through it leave ' || expected_balance || ' (difference ' || difference
            || ', checked ' || strftime(timezone('UTC', checked_at), '%Y-%m-%d %H:%M UTC') || ')'
            || coalesce(': ' || check_detail, '') || '.' as message
    from latest_checks
    where difference <> 0
),

final as (
    select * from payment_exceptions
    union all by name
    select * from failed_postings
    union all by name
    select * from clearing_differences
)

select * from final
