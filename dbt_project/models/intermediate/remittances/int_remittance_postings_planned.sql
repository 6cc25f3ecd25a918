{{ config(materialized='table') }}
-- A table: the journal mart, the payments mart (its plan's SHA-256, receipt and transfer values) and the
-- balance tests all read it.
-- The posting plan of every payment as it would be posted now, one row per journal line, in the order of
-- the posting design (docs/warehouse.md): 1 credit notes (CN<line> per credit-note deduction, DS<line> per
-- terms discount taken), 2 the receipt RC into the clearing bank, 3 the allocation AL of the credit notes
-- and the receipt to the invoices the payment settles, 4 one bank payment BP and 5 one bank receipt BR on
-- the clearing bank for the other deductions, 6 the transfer TR of the net to the real bank (or the
-- cash-in-transit bank when banks.use_in_transit). Every document balances, so the payment does, and the
-- clearing bank nets to 0.00: RC + BR − BP − TR = 0.

with

payments as (
    select
        payment_number,
        sage_customer_account
    from {{ ref('int_remittance_payments_versioned') }}
    where is_latest_version
),

invoice_lines as (
    select * from {{ ref('int_remittance_lines_matched') }}
    where line_kind = 'invoice_payment'
),

parts as (
    select * from {{ ref('int_remittance_deduction_tax_parts') }}
),

banks as (
    select * from {{ ref('int_remittance_banks_resolved') }}
),

deductions as (
    select
        deduction_id,
        payment_number,
        line_number,
        is_terms_discount_taken,
        posting_method,
        document_code,
        amount,
        narrative,
        sum(gross_part) as gross_magnitude
    from parts
    group by all
),

-- 1 credit notes: the customer credited the deduction's gross; goods and VAT back per tax code.
credit_note_rows as (
    select
        deductions.payment_number,
        deductions.document_code,
        deductions.line_number,
        'customer' as account_type,
        payments.sage_customer_account as account_code,
        null as cost_centre,
        null as department,
        null as tax_code,
        0 as debit,
        deductions.gross_magnitude as credit,
        deductions.narrative
    from deductions
    inner join payments on deductions.payment_number = payments.payment_number
    where deductions.posting_method = 'credit_note' and deductions.gross_magnitude <> 0

    union all

    select
        payment_number,
        document_code,
        line_number,
        'nominal',
        nominal_code,
        cost_centre,
        department,
        tax_code,
        goods_part,
        0,
        narrative
    from parts
    where posting_method = 'credit_note' and goods_part <> 0

    union all

    select
        payment_number,
        document_code,
        line_number,
        'tax',
        cast(tax_code as varchar),
        null,
        null,
        tax_code,
        tax_part,
        0,
        narrative
    from parts
    where posting_method = 'credit_note' and tax_part <> 0
),

-- 2 the receipt: the cash that settles the customer account, what the invoice lines paid less the
-- deductions taken as credit notes (a terms discount is no cash: the paid amounts already exclude it).
invoice_cash as (
    select
        payment_number,
        sum(paid_amount) as paid_amount
    from invoice_lines
    group by payment_number
),

credit_note_deductions as (
    select
        payment_number,
        sum(amount) as amount
    from deductions
    where posting_method = 'credit_note' and not is_terms_discount_taken
    group by payment_number
),

receipts as (
    select
        payments.payment_number,
        cast(greatest(0, coalesce(invoice_cash.paid_amount, 0) + coalesce(credit_note_deductions.amount, 0))
            as decimal(18, 2)) as receipt_value
    from payments
    left join invoice_cash on payments.payment_number = invoice_cash.payment_number
    left join credit_note_deductions on payments.payment_number = credit_note_deductions.payment_number
),

receipt_rows as (
    select
        receipts.payment_number,
        'RC' as document_code,
        null as line_number,
        'bank' as account_type,
        banks.clearing_bank as account_code,
        receipts.receipt_value as debit,
        0 as credit,
        'Amazon payment ' || receipts.payment_number as narrative
    from receipts
    cross join banks
    where receipts.receipt_value > 0

    union all

    select
        receipts.payment_number,
        'RC',
        null,
        'customer',
        payments.sage_customer_account,
        0,
        receipts.receipt_value,
        'Amazon payment ' || receipts.payment_number
    from receipts
    inner join payments on receipts.payment_number = payments.payment_number
    where receipts.receipt_value > 0
),

-- 3 the allocation: credit notes first (each up to its gross), then the receipt, against what the invoice
-- lines allocate. What the invoices do not take stays on account.
allocation_credits as (
    select
        payment_number,
        document_code,
        line_number,
        gross_magnitude as credit_available,
        1 as credit_order
    from deductions
    where posting_method = 'credit_note' and gross_magnitude > 0

    union all

    select
        payment_number,
        'RC',
        null,
        receipt_value,
        2
    from receipts
    where receipt_value > 0
),

credit_totals as (
    select
        payment_number,
        sum(credit_available) as credit_available
    from allocation_credits
    group by payment_number
),

allocation_debits as (
    select
        invoice_lines.payment_number,
        invoice_lines.line_number,
        invoice_lines.sales_transaction_id,
        invoice_lines.matched_invoice_reference,
        invoice_lines.allocated_amount,
        coalesce(sum(invoice_lines.allocated_amount) over (
            partition by invoice_lines.payment_number order by invoice_lines.line_number
            rows between unbounded preceding and 1 preceding
        ), 0) as allocated_before,
        coalesce(credit_totals.credit_available, 0) as credit_available
    from invoice_lines
    left join credit_totals on invoice_lines.payment_number = credit_totals.payment_number
    where invoice_lines.allocated_amount > 0
),

-- Never more than the credits can cover (only an invoice line of negative value could make it so).
capped_debits as (
    select
        *,
        least(allocated_amount, greatest(0, credit_available - allocated_before)) as allocation_value
    from allocation_debits
),

allocation_totals as (
    select
        payment_number,
        sum(allocation_value) as allocation_value
    from capped_debits
    group by payment_number
),

applied_credits as (
    select
        allocation_credits.*,
        least(allocation_credits.credit_available, greatest(0,
            allocation_totals.allocation_value - coalesce(sum(allocation_credits.credit_available) over (
                partition by allocation_credits.payment_number
                order by
                    allocation_credits.credit_order,
                    allocation_credits.line_number,
                    allocation_credits.document_code
                rows between unbounded preceding and 1 preceding
            ), 0)
        )) as applied_value
    from allocation_credits
    inner join allocation_totals on allocation_credits.payment_number = allocation_totals.payment_number
),

allocation_rows as (
    select
        capped_debits.payment_number,
        capped_debits.line_number,
        'customer' as account_type,
        payments.sage_customer_account as account_code,
        capped_debits.sales_transaction_id,
        null as applied_document_code,
        capped_debits.allocation_value as debit,
        0 as credit,
        'Amazon payment ' || capped_debits.payment_number || ' to invoice ' || capped_debits.matched_invoice_reference
            as narrative
    from capped_debits
    inner join payments on capped_debits.payment_number = payments.payment_number
    where capped_debits.allocation_value > 0

    union all

    select
        applied_credits.payment_number,
        applied_credits.line_number,
        'customer',
        payments.sage_customer_account,
        null,
        applied_credits.document_code,
        0,
        applied_credits.applied_value,
        'Amazon payment ' || applied_credits.payment_number || ': ' || applied_credits.document_code || ' applied'
    from applied_credits
    inner join payments on applied_credits.payment_number = payments.payment_number
    where applied_credits.applied_value > 0
),

-- 4 and 5: one bank payment and one bank receipt per payment on the clearing bank, a nominal line (and a VAT
-- line where there is VAT) per deduction.
bank_document_rows as (
    select
        deductions.payment_number,
        deductions.document_code,
        null as line_number,
        'bank' as account_type,
        banks.clearing_bank as account_code,
        null as cost_centre,
        null as department,
        null as tax_code,
        case when deductions.document_code = 'BR' then sum(deductions.gross_magnitude) else 0 end as debit,
        case when deductions.document_code = 'BP' then sum(deductions.gross_magnitude) else 0 end as credit,
        'Amazon payment ' || deductions.payment_number
            || case when deductions.document_code = 'BP' then ' deductions' else ' reversals' end as narrative
    from deductions
    cross join banks
    where deductions.posting_method in ('bank_payment', 'bank_receipt')
    group by deductions.payment_number, deductions.document_code, banks.clearing_bank
    having sum(deductions.gross_magnitude) <> 0

    union all

    select
        payment_number,
        document_code,
        line_number,
        'nominal',
        nominal_code,
        cost_centre,
        department,
        tax_code,
        case when document_code = 'BP' then goods_part else 0 end,
        case when document_code = 'BR' then goods_part else 0 end,
        narrative
    from parts
    where posting_method in ('bank_payment', 'bank_receipt') and goods_part <> 0

    union all

    select
        payment_number,
        document_code,
        line_number,
        'tax',
        cast(tax_code as varchar),
        null,
        null,
        tax_code,
        case when document_code = 'BP' then tax_part else 0 end,
        case when document_code = 'BR' then tax_part else 0 end,
        narrative
    from parts
    where posting_method in ('bank_payment', 'bank_receipt') and tax_part <> 0
),

-- 6 the transfer of what is left on the clearing bank: T = RC − BP + BR. A negative net runs the other way.
bank_document_totals as (
    select
        payment_number,
        sum(debit - credit) as net_value
    from bank_document_rows
    where account_type = 'bank'
    group by payment_number
),

transfers as (
    select
        payments.payment_number,
        cast(coalesce(receipts.receipt_value, 0) + coalesce(bank_document_totals.net_value, 0) as decimal(18, 2))
            as transfer_value
    from payments
    left join receipts on payments.payment_number = receipts.payment_number
    left join bank_document_totals on payments.payment_number = bank_document_totals.payment_number
),

transfer_rows as (
    select
        transfers.payment_number,
        'bank' as account_type,
        banks.clearing_bank as account_code,
        greatest(-transfers.transfer_value, 0) as debit,
        greatest(transfers.transfer_value, 0) as credit,
        transfers.transfer_value
    from transfers
    cross join banks
    where transfers.transfer_value <> 0

    union all

    select
        transfers.payment_number,
        'bank',
        banks.destination_bank,
        greatest(transfers.transfer_value, 0),
        greatest(-transfers.transfer_value, 0),
        transfers.transfer_value
    from transfers
    cross join banks
    where transfers.transfer_value <> 0
),

plan as (
    select
        1 as step_sequence,
        'credit_note' as step,
        payment_number,
        document_code,
        line_number,
        account_type,
        account_code,
        cost_centre,
        department,
        tax_code,
        null as sage_transaction_id,
        null as applied_document_code,
        debit,
        credit,
        narrative
    from credit_note_rows

    union all

    select
        2, 'receipt', payment_number, document_code, line_number, account_type, account_code, null, null, null,
        null, null, debit, credit, narrative
    from receipt_rows

    union all

    select
        3, 'allocation', payment_number, 'AL', line_number, account_type, account_code, null, null, null,
        sales_transaction_id, applied_document_code, debit, credit, narrative
    from allocation_rows

    union all

    select
        case document_code when 'BP' then 4 else 5 end,
        case document_code when 'BP' then 'bank_payment' else 'bank_receipt' end,
        payment_number, document_code, line_number, account_type, account_code, cost_centre, department, tax_code,
        null, null, debit, credit, narrative
    from bank_document_rows

    union all

    select
        6, 'transfer', transfer_rows.payment_number, 'TR', null, transfer_rows.account_type, transfer_rows.account_code,
        null, null, null, null, null, transfer_rows.debit, transfer_rows.credit,
        'Amazon payment ' || transfer_rows.payment_number || case
            when transfer_rows.transfer_value > 0 then ' to ' || banks.destination_bank
            else ' negative net from ' || banks.destination_bank
        end
    from transfer_rows
    cross join banks
),

final as (
    select
        {{ journal_columns() }}
    from plan
)

select * from final
