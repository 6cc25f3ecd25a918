{{ config(materialized='table') }}
-- A table: the posting plan and the deductions mart both read it.
-- Every deduction of every payment (each non-invoice line, and each terms discount taken on an invoice
-- line) mapped by the seed deduction_nominal_map, split into one part per VAT code. Amounts here are
-- magnitudes (the deduction's sign is `amount`'s).
-- VAT by the map's tax_rule:
--   invoice_rate: the gross is split over the root Sage invoice's tax analysis lines in proportion to
--     each line's gross (pennies rounded, the remainder on the largest line); each part's tax is
--     round(part × line tax / line gross, 2) with that line's tax code. No root invoice in Sage: as fixed.
--   fixed: the map's tax_code (a Sage tax code number; the parts carry its record id),
--     tax = round(gross × rate / (100 + rate), 2).
--   with_vat_invoice: as fixed, with tax_code when Amazon's VAT invoice for the reference is in the seed
--     amazon_vat_invoices, else tax_code_without_vat_invoice.
-- Posting method: the map's, turned round by the sign: a positive line comes back as a bank receipt (to the
-- same nominal), a negative line of a bank-receipt type goes out as a bank payment.

with

lines as (
    select * from {{ ref('int_remittance_lines_matched') }}
),

nominal_map as (
    select * from {{ ref('deduction_nominal_map') }}
),

vat_invoices as (
    select reference from {{ ref('amazon_vat_invoices') }}
),

-- The map names Sage tax codes by their number (1 standard, 2 zero rated, 9 outside the scope of VAT); the
-- documents carry the tax code's record id.
tax_codes as (
    select
        tax_code_id,
        tax_code,
        tax_rate_percent
    from {{ ref('stg_sage200__tax_codes') }}
),

suspense as (
    select {{ business_setting('nominal.suspense', 'varchar') }} as nominal_code
),

deduction_lines as (
    select
        payment_number || '#' || line_number as deduction_id,
        payment_number,
        line_number,
        false as is_terms_discount_taken,
        deduction_type,
        invoice_number as reference,
        description,
        paid_amount as amount,
        coalesce(invoice_date, payment_date) as deduction_date,
        payment_date,
        vendor_code,
        sage_customer_account,
        root_invoice_number,
        root_sales_transaction_id,
        purchase_order_number
    from lines
    where line_kind <> 'invoice_payment'

    union all

    -- The discount Amazon took for paying early is not a line of its own, but it is a deduction.
    select
        payment_number || '#' || line_number || '/discount',
        payment_number,
        line_number,
        true,
        'terms_discount',
        invoice_number,
        'Terms discount taken',
        cast(-discount_amount as decimal(18, 2)),
        payment_date,
        payment_date,
        vendor_code,
        sage_customer_account,
        root_invoice_number,
        root_sales_transaction_id,
        purchase_order_number
    from lines
    where line_kind = 'invoice_payment' and discount_amount <> 0
),

deductions as (
    select
        deduction_lines.*,
        cast(abs(deduction_lines.amount) as decimal(18, 2)) as gross_magnitude,
        coalesce(nominal_map.nominal_code, suspense.nominal_code) as nominal_code,
        nominal_map.cost_centre,
        nominal_map.department,
        coalesce(nominal_map.tax_rule, 'fixed') as tax_rule,
        case
            when deduction_lines.amount > 0 then 'bank_receipt'
            when nominal_map.posting_method = 'credit_note' then 'credit_note'
            else 'bank_payment'
        end as posting_method,
        case
            when nominal_map.tax_rule = 'with_vat_invoice' and vat_invoices.reference is null
                then nominal_map.tax_code_without_vat_invoice
            else nominal_map.tax_code
        end as map_tax_code
    from deduction_lines
    cross join suspense
    left join nominal_map on deduction_lines.deduction_type = nominal_map.deduction_type
    left join vat_invoices on deduction_lines.reference = vat_invoices.reference
),

with_document as (
    select
        *,
        case posting_method
            when 'credit_note' then case when is_terms_discount_taken then 'DS' else 'CN' end || line_number
            when 'bank_payment' then 'BP'
            else 'BR'
        end as document_code
    from deductions
),

root_tax_lines as (
    select
        sales_transaction_id,
        tax_code_id,
        sum(signed_tax_value) as line_tax,
        sum(signed_goods_value + signed_tax_value) as line_gross
    from {{ ref('stg_sage200__sales_transaction_tax_lines') }}
    group by sales_transaction_id, tax_code_id
    having sum(signed_goods_value + signed_tax_value) <> 0
),

invoice_rate_lines as (
    select
        with_document.deduction_id,
        with_document.gross_magnitude,
        root_tax_lines.tax_code_id,
        root_tax_lines.line_tax,
        root_tax_lines.line_gross,
        sum(root_tax_lines.line_gross) over (partition by with_document.deduction_id) as invoice_gross,
        row_number() over (
            partition by with_document.deduction_id order by root_tax_lines.line_gross desc, root_tax_lines.tax_code_id
        ) as size_rank
    from with_document
    inner join root_tax_lines on with_document.root_sales_transaction_id = root_tax_lines.sales_transaction_id
    where with_document.tax_rule = 'invoice_rate'
),

invoice_rate_shares as (
    select
        *,
        {{ rounded_share('gross_magnitude', 'line_gross', 'invoice_gross') }} as rounded_part
    from invoice_rate_lines
    where invoice_gross <> 0
),

invoice_rate_parts as (
    select
        deduction_id,
        tax_code_id,
        line_tax,
        line_gross,
        cast(rounded_part + case
            when size_rank = 1 then gross_magnitude - sum(rounded_part) over (partition by deduction_id)
            else 0
        end as decimal(18, 2)) as gross_part
    from invoice_rate_shares
),

split_parts as (
    select
        deduction_id,
        tax_code_id,
        gross_part,
        {{ rounded_share('gross_part', 'line_tax', 'line_gross') }} as tax_part
    from invoice_rate_parts
),

single_code_parts as (
    select
        with_document.deduction_id,
        tax_codes.tax_code_id,
        with_document.gross_magnitude as gross_part,
        {{ rounded_share(
            'with_document.gross_magnitude',
            'coalesce(tax_codes.tax_rate_percent, 0)',
            '100 + coalesce(tax_codes.tax_rate_percent, 0)'
        ) }} as tax_part
    from with_document
    left join tax_codes on with_document.map_tax_code = tax_codes.tax_code
    where with_document.deduction_id not in (select deduction_id from invoice_rate_shares)
),

parts as (
    select * from split_parts
    union all
    select * from single_code_parts
),

final as (
    select
        with_document.deduction_id,
        with_document.payment_number,
        cast(with_document.line_number as integer) as line_number,
        with_document.is_terms_discount_taken,
        with_document.deduction_type,
        with_document.reference,
        with_document.description,
        with_document.amount,
        with_document.deduction_date,
        with_document.payment_date,
        with_document.vendor_code,
        with_document.sage_customer_account,
        with_document.root_invoice_number,
        with_document.root_sales_transaction_id,
        with_document.purchase_order_number,
        with_document.nominal_code,
        with_document.cost_centre,
        with_document.department,
        with_document.tax_rule,
        with_document.posting_method,
        with_document.document_code,
        'Amazon ' || replace(with_document.deduction_type, '_', ' ') || ' ' || coalesce(with_document.reference, '')
            as narrative,
        cast(parts.tax_code_id as integer) as tax_code,
        parts.gross_part,
        cast(parts.gross_part - parts.tax_part as decimal(18, 2)) as goods_part,
        parts.tax_part
    from with_document
    inner join parts on with_document.deduction_id = parts.deduction_id
)

select * from final
