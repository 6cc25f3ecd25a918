-- One row per Amazon payment (its latest version): what it settles and deducts, how much of it matched,
-- the plan that posts it (its SHA-256), whether a person must approve that plan and why, and where its
-- posting stands.
--
-- plan_sha256: see int_remittance_plans_hashed. A payment without rows hashes the empty string. A frozen
-- payment keeps the hash it was frozen with (audit.remittance_plans).
--
-- posting_status, first that applies: posted (frozen, and every document of the frozen plan has a latest
-- audit.sage_postings status of posted or found under remittance:<vendor_code>:<payment_number>:<document>),
-- failed (frozen, and a document's latest status is failed or unknown), posting (frozen, not complete),
-- refused (see int_remittance_payments_checked), approved (an approval of the current plan_sha256),
-- awaiting_approval (needs_approval), planned.

with

payments as (
    select * from {{ ref('int_remittance_payments_checked') }}
),

lines as (
    select * from {{ ref('int_remittance_lines_matched') }}
),

journal as (
    select * from {{ ref('remittance_postings') }}
),

settings as (
    select
        coalesce({{ business_setting('approval.posting_threshold', 'decimal(18, 2)') }}, 0) as posting_threshold,
        coalesce({{ business_setting('approval.auto_approve', 'boolean') }}, false) as is_auto_approve
),

banks as (
    select * from {{ ref('int_remittance_banks_resolved') }}
),

line_totals as (
    select
        payment_number,
        sum(settlement_amount) filter (where line_kind = 'invoice_payment') as invoices_gross,
        sum(paid_amount) filter (where line_kind <> 'invoice_payment') as deduction_lines_total,
        sum(discount_amount) filter (where line_kind = 'invoice_payment') as discounts_total,
        sum(allocated_amount) filter (where line_kind = 'invoice_payment') as allocated_total,
        sum(abs(paid_amount)) filter (where line_kind <> 'invoice_payment') as deduction_lines_magnitude
    from lines
    group by payment_number
),

exception_counts as (
    select
        payment_number,
        count(*) as exceptions_count
    from {{ ref('int_remittance_payment_exceptions') }}
    group by payment_number
),

journal_totals as (
    select * from {{ ref('int_remittance_plans_hashed') }}
),

valued as (
    select
        payments.*,
        cast(coalesce(line_totals.invoices_gross, 0) as decimal(18, 2)) as invoices_gross,
        cast(coalesce(line_totals.deduction_lines_total, 0) - coalesce(line_totals.discounts_total, 0)
            as decimal(18, 2)) as deductions_total,
        cast(case
            when coalesce(line_totals.invoices_gross, 0) = 0 then 1
            else round(coalesce(line_totals.allocated_total, 0) / line_totals.invoices_gross, 4)
        end as decimal(9, 4)) as matched_ratio,
        cast(coalesce(journal_totals.receipt_value, 0) as decimal(18, 2)) as receipt_value,
        cast(coalesce(journal_totals.transfer_value, 0) as decimal(18, 2)) as transfer_value,
        -- Everything the payment moves: each invoice it settles and each deduction line, whatever its sign.
        cast(coalesce(line_totals.invoices_gross, 0) + coalesce(line_totals.deduction_lines_magnitude, 0)
            as decimal(18, 2)) as posting_value,
        coalesce(exception_counts.exceptions_count, 0) as exceptions_count,
        coalesce(payments.frozen_plan_sha256, journal_totals.plan_sha256, sha256('')) as plan_sha256
    from payments
    left join line_totals on payments.payment_number = line_totals.payment_number
    left join exception_counts on payments.payment_number = exception_counts.payment_number
    left join journal_totals on payments.payment_number = journal_totals.payment_number
),

approvals as (
    select approvals.*
    from {{ ref('stg_app__remittance_approvals') }} as approvals
    inner join valued
        on approvals.payment_number = valued.payment_number
        and approvals.plan_sha256 = valued.plan_sha256
    qualify row_number() over (partition by approvals.payment_number order by approvals.sequence_number desc) = 1
),

-- The latest status of each document of each frozen plan, under its exactly-once key.
frozen_documents as (
    select distinct
        journal.payment_number,
        journal.document_code,
        'remittance:' || payments.vendor_code || ':' || journal.payment_number || ':' || journal.document_code
            as posting_key
    from journal
    inner join payments on journal.payment_number = payments.payment_number
    where payments.is_frozen
),

latest_postings as (
    select
        posting_key,
        posting_status
    from {{ ref('stg_app__sage_postings') }}
    where starts_with(posting_key, 'remittance:')
    qualify row_number() over (partition by posting_key order by sequence_number desc) = 1
),

posting_progress as (
    select
        frozen_documents.payment_number,
        count(*) as documents,
        count(*) filter (where latest_postings.posting_status in ('posted', 'found')) as documents_posted,
        count(*) filter (where latest_postings.posting_status in ('failed', 'unknown')) as documents_failed
    from frozen_documents
    left join latest_postings on frozen_documents.posting_key = latest_postings.posting_key
    group by frozen_documents.payment_number
),

decided as (
    select
        valued.*,
        approvals.approved_by,
        approvals.approved_at,
        coalesce(posting_progress.documents, 0) as frozen_documents,
        coalesce(posting_progress.documents_posted, 0) as frozen_documents_posted,
        coalesce(posting_progress.documents_failed, 0) as frozen_documents_failed,
        valued.exceptions_count > 0 or valued.posting_value > settings.posting_threshold or not settings.is_auto_approve
            as needs_approval,
        nullif(concat_ws('; ',
            case when valued.exceptions_count > 0 then valued.exceptions_count || ' exception(s)' end,
            case when valued.posting_value > settings.posting_threshold
                then 'posting value ' || valued.posting_value || ' above the threshold ' || settings.posting_threshold
            end,
            case when not settings.is_auto_approve then 'auto-approval is off' end
        ), '') as approval_reasons
    from valued
    cross join settings
    left join approvals on valued.payment_number = approvals.payment_number
    left join posting_progress on valued.payment_number = posting_progress.payment_number
),

final as (
    select
        cast(payment_number as varchar) as payment_number,
        cast(vendor_code as varchar) as vendor_code,
        cast(sage_customer_account as varchar) as sage_customer_account,
        cast(payment_date as date) as payment_date,
        cast(currency as varchar) as currency,
        invoices_gross,
        deductions_total,
        cast(stated_net_amount as decimal(18, 2)) as net_paid,
        matched_ratio,
        receipt_value,
        transfer_value,
        posting_value,
        cast(exceptions_count as integer) as exceptions_count,
        needs_approval,
        cast(approval_reasons as varchar) as approval_reasons,
        cast(plan_sha256 as varchar) as plan_sha256,
        cast(approved_by as varchar) as approved_by,
        cast(approved_at as timestamptz) as approved_at,
        cast(refusal_reason as varchar) as refusal_reason,
        cast(case
            when is_frozen and frozen_documents_posted = frozen_documents then 'posted'
            when is_frozen and frozen_documents_failed > 0 then 'failed'
            when is_frozen then 'posting'
            when refusal_reason is not null then 'refused'
            when approved_by is not null then 'approved'
            when needs_approval then 'awaiting_approval'
            else 'planned'
        end as varchar) as posting_status
    from decided
)

select * from final
