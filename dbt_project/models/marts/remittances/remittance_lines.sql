-- One row per line of every Amazon payment (its latest version): what kind of line it is, the Sage invoice
-- it pays and how that was decided, what it allocates and leaves on account, and where it posts.

with

lines as (
    select * from {{ ref('int_remittance_lines_matched') }}
),

-- A deduction line's own mapping (a terms discount taken on an invoice line is a deduction of its own).
line_deductions as (
    select distinct
        payment_number,
        line_number,
        nominal_code,
        posting_method,
        document_code
    from {{ ref('int_remittance_deduction_tax_parts') }}
    where not is_terms_discount_taken
),

receipts as (
    select distinct payment_number
    from {{ ref('remittance_postings') }}
    where document_code = 'RC'
),

final as (
    select
        cast(lines.payment_number as varchar) as payment_number,
        cast(lines.line_number as integer) as line_number,
        cast(lines.vendor_code as varchar) as vendor_code,
        cast(lines.payment_date as date) as payment_date,
        cast(lines.invoice_number as varchar) as invoice_number,
        cast(lines.description as varchar) as description,
        cast(lines.po_number as varchar) as po_number,
        cast(lines.line_kind as varchar) as line_kind,
        cast(lines.deduction_type as varchar) as deduction_type,
        cast(lines.paid_amount as decimal(18, 2)) as amount,
        cast(lines.discount_amount as decimal(18, 2)) as discount_amount,
        cast(lines.settlement_amount as decimal(18, 2)) as settlement_amount,
        cast(lines.matched_invoice_reference as varchar) as matched_invoice_reference,
        cast(lines.sales_transaction_id as bigint) as sage_transaction_id,
        cast(lines.match_method as varchar) as match_method,
        cast(lines.match_reason as varchar) as match_reason,
        cast(lines.match_status as varchar) as match_status,
        cast(lines.allocated_amount as decimal(18, 2)) as allocated_amount,
        cast(lines.on_account_amount as decimal(18, 2)) as on_account_amount,
        cast(lines.variance_amount as decimal(18, 2)) as variance_amount,
        cast(lines.root_invoice_number as varchar) as root_invoice_number,
        cast(line_deductions.nominal_code as varchar) as nominal_code,
        cast(line_deductions.posting_method as varchar) as posting_method,
        -- An invoice payment's cash goes in with the payment's receipt.
        cast(case
            when lines.line_kind = 'invoice_payment' and receipts.payment_number is not null then 'RC'
            else line_deductions.document_code
        end as varchar) as document_code
    from lines
    left join line_deductions
        on lines.payment_number = line_deductions.payment_number
        and lines.line_number = line_deductions.line_number
    left join receipts on lines.payment_number = receipts.payment_number
)

-- Stored in payment order: the dashboard reads one payment at a time, and DuckDB skips the row groups of
-- the others (about half the time of a lookup on a year of lines).
select * from final
order by payment_number, line_number
