{{ config(materialized='table') }}
-- A table: the deductions, the posting plan, the lines mart and the exceptions all read it, and the matching
-- and the running totals across every payment are its heavy part, computed once per build.
-- Each remittance line with the Sage invoice it pays (invoice payments) or concerns (deductions: the root
-- invoice), and the PO behind it. An invoice payment is matched to the first of these with exactly one
-- candidate among the Sage invoices of the vendor code's customer: `exact` (the same reference),
-- `normalised` (the same once case, spaces, separators and leading zeros are ignored), `po_amount` (the
-- invoice's PO, and a gross within tolerances.remittance_amount_tolerance of what the line settles). Lines
-- on one invoice are then taken in payment order (payment date, payment number, line number) across every
-- payment: each allocates what the invoice still has open; the rest stays on account (overpaid, or paid
-- twice when the earlier lines had already settled it).

with

lines as (
    select * from {{ ref('int_remittance_lines_classified') }}
),

invoice_lines as (
    select
        payment_number,
        line_number,
        customer_id,
        invoice_number,
        {{ normalised_reference('invoice_number') }} as normalised_invoice_number,
        po_number,
        settlement_amount
    from lines
    where line_kind = 'invoice_payment'
),

invoices as (
    select * from {{ ref('int_remittance_invoices') }}
),

tolerance as (
    select coalesce({{ business_setting('tolerances.remittance_amount_tolerance', 'decimal(18, 2)') }}, 0)
        as amount_tolerance
),

exact_candidates as (
    select
        invoice_lines.payment_number,
        invoice_lines.line_number,
        count(*) as candidate_count,
        min(invoices.sales_transaction_id) as sales_transaction_id
    from invoice_lines
    inner join invoices
        on invoice_lines.customer_id = invoices.customer_id
        and invoice_lines.invoice_number = invoices.invoice_reference
    group by invoice_lines.payment_number, invoice_lines.line_number
),

normalised_candidates as (
    select
        invoice_lines.payment_number,
        invoice_lines.line_number,
        count(*) as candidate_count,
        min(invoices.sales_transaction_id) as sales_transaction_id
    from invoice_lines
    inner join invoices
        on invoice_lines.customer_id = invoices.customer_id
        and invoice_lines.normalised_invoice_number = invoices.normalised_reference
    where invoice_lines.normalised_invoice_number <> ''
    group by invoice_lines.payment_number, invoice_lines.line_number
),

po_amount_candidates as (
    select
        invoice_lines.payment_number,
        invoice_lines.line_number,
        count(*) as candidate_count,
        min(invoices.sales_transaction_id) as sales_transaction_id
    from invoice_lines
    inner join invoices
        on invoice_lines.customer_id = invoices.customer_id
        and invoice_lines.po_number = invoices.purchase_order_number
    cross join tolerance
    where abs(invoice_lines.settlement_amount - invoices.gross_amount) <= tolerance.amount_tolerance
    group by invoice_lines.payment_number, invoice_lines.line_number
),

invoice_line_matches as (
    select
        invoice_lines.payment_number,
        invoice_lines.line_number,
        coalesce(exact_candidates.candidate_count, 0) as exact_candidate_count,
        coalesce(normalised_candidates.candidate_count, 0) as normalised_candidate_count,
        coalesce(po_amount_candidates.candidate_count, 0) as po_amount_candidate_count,
        case
            when exact_candidates.candidate_count = 1 then 'exact'
            when normalised_candidates.candidate_count = 1 then 'normalised'
            when po_amount_candidates.candidate_count = 1 then 'po_amount'
        end as match_method,
        case
            when exact_candidates.candidate_count = 1 then exact_candidates.sales_transaction_id
            when normalised_candidates.candidate_count = 1 then normalised_candidates.sales_transaction_id
            when po_amount_candidates.candidate_count = 1 then po_amount_candidates.sales_transaction_id
        end as sales_transaction_id
    from invoice_lines
    left join exact_candidates
        on invoice_lines.payment_number = exact_candidates.payment_number
        and invoice_lines.line_number = exact_candidates.line_number
    left join normalised_candidates
        on invoice_lines.payment_number = normalised_candidates.payment_number
        and invoice_lines.line_number = normalised_candidates.line_number
    left join po_amount_candidates
        on invoice_lines.payment_number = po_amount_candidates.payment_number
        and invoice_lines.line_number = po_amount_candidates.line_number
),

-- A deduction's root invoice, by its number as written or normalised, when exactly one invoice has it.
root_candidates as (
    select
        lines.payment_number,
        lines.line_number,
        count(*) filter (where lines.root_invoice_number = invoices.invoice_reference) as exact_count,
        min(invoices.sales_transaction_id) filter (
            where lines.root_invoice_number = invoices.invoice_reference
        ) as exact_transaction_id,
        count(*) as normalised_count,
        min(invoices.sales_transaction_id) as normalised_transaction_id
    from lines
    inner join invoices
        on lines.customer_id = invoices.customer_id
        and {{ normalised_reference('lines.root_invoice_number') }} = invoices.normalised_reference
    where lines.line_kind <> 'invoice_payment'
        and {{ normalised_reference('lines.root_invoice_number') }} <> ''
    group by lines.payment_number, lines.line_number
),

linked as (
    select
        lines.*,
        invoice_line_matches.match_method,
        coalesce(invoice_line_matches.exact_candidate_count, 0) as exact_candidate_count,
        coalesce(invoice_line_matches.normalised_candidate_count, 0) as normalised_candidate_count,
        coalesce(invoice_line_matches.po_amount_candidate_count, 0) as po_amount_candidate_count,
        invoice_line_matches.sales_transaction_id,
        case
            when lines.line_kind = 'invoice_payment' then invoice_line_matches.sales_transaction_id
            when root_candidates.exact_count = 1 then root_candidates.exact_transaction_id
            when root_candidates.normalised_count = 1 then root_candidates.normalised_transaction_id
        end as root_sales_transaction_id
    from lines
    left join invoice_line_matches
        on lines.payment_number = invoice_line_matches.payment_number
        and lines.line_number = invoice_line_matches.line_number
    left join root_candidates
        on lines.payment_number = root_candidates.payment_number
        and lines.line_number = root_candidates.line_number
),

with_invoices as (
    select
        linked.*,
        matched_invoices.invoice_reference as matched_invoice_reference,
        matched_invoices.gross_amount as invoice_gross_amount,
        root_invoices.invoice_reference as root_invoice_reference,
        coalesce(root_invoices.purchase_order_number, linked.po_number) as purchase_order_number
    from linked
    left join invoices as matched_invoices on linked.sales_transaction_id = matched_invoices.sales_transaction_id
    left join invoices as root_invoices on linked.root_sales_transaction_id = root_invoices.sales_transaction_id
),

-- Every line paying the same invoice, in payment order, across all payments.
running as (
    select
        *,
        coalesce(sum(settlement_amount) over (
            partition by sales_transaction_id order by payment_date, payment_number, line_number
            rows between unbounded preceding and 1 preceding
        ), 0) as previous_settlement_amount,
        sum(settlement_amount) over (partition by sales_transaction_id) as invoice_settled_amount,
        row_number() over (
            partition by sales_transaction_id order by payment_date desc, payment_number desc, line_number desc
        ) = 1 as is_last_line_on_invoice
    from with_invoices
    where sales_transaction_id is not null
),

allocated as (
    select
        running.payment_number,
        running.line_number,
        running.previous_settlement_amount,
        running.is_last_line_on_invoice,
        cast(running.invoice_gross_amount - running.invoice_settled_amount as decimal(18, 2))
            as invoice_remaining_amount,
        cast(greatest(0, least(
            running.settlement_amount, running.invoice_gross_amount - running.previous_settlement_amount
        )) as decimal(18, 2)) as allocated_amount
    from running
),

final as (
    select
        with_invoices.*,
        allocated.previous_settlement_amount,
        allocated.invoice_remaining_amount,
        coalesce(allocated.is_last_line_on_invoice, false) as is_last_line_on_invoice,
        case when with_invoices.line_kind = 'invoice_payment' then coalesce(allocated.allocated_amount, 0) end
            as allocated_amount,
        case
            when with_invoices.line_kind = 'invoice_payment'
                then cast(with_invoices.settlement_amount - coalesce(allocated.allocated_amount, 0) as decimal(18, 2))
        end as on_account_amount,
        cast(
            with_invoices.invoice_gross_amount
            - (allocated.previous_settlement_amount + with_invoices.settlement_amount)
            as decimal(18, 2)
        ) as variance_amount,
        case
            when with_invoices.line_kind <> 'invoice_payment' then 'not_applicable'
            when with_invoices.sales_transaction_id is null then 'unmatched'
            when allocated.allocated_amount = with_invoices.settlement_amount
                and abs(with_invoices.invoice_gross_amount
                    - (allocated.previous_settlement_amount + with_invoices.settlement_amount))
                    <= tolerance.amount_tolerance
                then 'matched'
            else 'partially_matched'
        end as match_status,
        -- Settled already (within the tolerance) before this line: this line pays it a second time.
        coalesce(
            allocated.allocated_amount < with_invoices.settlement_amount
            and allocated.previous_settlement_amount >= with_invoices.invoice_gross_amount - tolerance.amount_tolerance,
            false
        ) as is_paid_twice,
        coalesce(
            allocated.allocated_amount < with_invoices.settlement_amount
            and allocated.previous_settlement_amount < with_invoices.invoice_gross_amount - tolerance.amount_tolerance,
            false
        ) as is_overpaid,
        case
            when with_invoices.line_kind <> 'invoice_payment' then null
            when with_invoices.match_method = 'exact'
                then 'Invoice number ' || with_invoices.invoice_number || ' is Sage invoice '
                    || with_invoices.matched_invoice_reference || '.'
            when with_invoices.match_method = 'normalised'
                then 'Invoice number ' || with_invoices.invoice_number || ' is Sage invoice '
                    || with_invoices.matched_invoice_reference
                    || ' once case, spaces, separators and leading zeros are ignored.'
            when with_invoices.match_method = 'po_amount'
                then 'PO ' || with_invoices.po_number || ' and ' || with_invoices.settlement_amount
                    || ' match Sage invoice ' || with_invoices.matched_invoice_reference || ' (gross '
                    || with_invoices.invoice_gross_amount || ', tolerance ' || tolerance.amount_tolerance || ').'
            else 'No single Sage invoice of customer ' || coalesce(with_invoices.sage_customer_account, '(none)')
                || ' matches: ' || with_invoices.exact_candidate_count || ' by invoice number, '
                || with_invoices.normalised_candidate_count || ' by normalised number, '
                || with_invoices.po_amount_candidate_count || ' by PO ' || coalesce(with_invoices.po_number, '(none)')
                || ' and amount.'
        end as match_reason
    from with_invoices
    cross join tolerance
    left join allocated
        on with_invoices.payment_number = allocated.payment_number
        and with_invoices.line_number = allocated.line_number
)

select * from final
