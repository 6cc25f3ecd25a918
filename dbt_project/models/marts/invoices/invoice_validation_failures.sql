-- Why each Sage invoice not yet sent to Amazon was held back: every failure of its latest check, each naming
-- its fix. An invoice that went has none. Documented in docs/warehouse.md.

with

submissions as (
    select * from {{ ref('stg_app__invoice_submissions') }}
),

sent_invoices as (
    select distinct sage_invoice_id from submissions where submission_status = 'sent'
),

latest_checks as (
    select submissions.*
    from submissions
    anti join sent_invoices on submissions.sage_invoice_id = sent_invoices.sage_invoice_id
    qualify row_number() over (partition by submissions.sage_invoice_id order by submissions.sequence_number desc) = 1
),

final as (
    select
        cast(latest_checks.sage_invoice_id as bigint) as sage_invoice_id,
        cast(latest_checks.invoice_number as varchar) as invoice_number,
        cast(latest_checks.po_number as varchar) as purchase_order_number,
        cast(failures.failed_rule as varchar) as rule,
        cast(failures.failure_message as varchar) as message,
        cast(latest_checks.checked_at as timestamptz) as checked_at
    from latest_checks
    inner join {{ ref('stg_app__invoice_submission_failures') }} as failures
        on latest_checks.submission_id = failures.submission_id
    where latest_checks.submission_status = 'failed_validation'
)

select * from final
