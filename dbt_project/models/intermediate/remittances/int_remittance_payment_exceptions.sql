-- The exceptions each payment carries, by the payment they hold for review (remittance_payments counts
-- them: a payment with any needs a person's approval). Lines: cash that matches no Sage invoice, an
-- overpayment, an invoice paid a second time, a deduction no pattern recognises. Invoices: short after
-- every payment (held by the payment with the invoice's last line). Payments: refused (figures, period), a
-- negative net, credit notes larger than what the invoices take.

with

lines as (
    select * from {{ ref('int_remittance_lines_matched') }}
),

payments as (
    select * from {{ ref('int_remittance_payments_checked') }}
),

journal as (
    select * from {{ ref('remittance_postings') }}
),

settings as (
    select
        coalesce({{ business_setting('tolerances.remittance_amount_tolerance', 'decimal(18, 2)') }}, 0)
            as amount_tolerance,
        {{ business_setting('nominal.suspense', 'varchar') }} as suspense_nominal
),

banks as (
    select * from {{ ref('int_remittance_banks_resolved') }}
),

unmatched_lines as (
    select
        payment_number,
        'remittance_line_unmatched' as kind,
        'remittance_line' as document_type,
        payment_number || '#' || line_number as document_reference,
        on_account_amount as amount,
        'Amazon payment ' || payment_number || ' line ' || line_number || ' pays invoice ' || invoice_number
            || ' (' || settlement_amount || ') but no single Sage invoice matches it; the cash stays on the customer'
            || ' account. ' || match_reason as message
    from lines
    where match_status = 'unmatched'
),

overpaid_lines as (
    select
        payment_number,
        'remittance_overpayment' as kind,
        'remittance_line' as document_type,
        payment_number || '#' || line_number as document_reference,
        on_account_amount as amount,
        'Amazon payment ' || payment_number || ' line ' || line_number || ' settles ' || settlement_amount
            || ' on Sage invoice ' || matched_invoice_reference || ', which had '
            || (invoice_gross_amount - previous_settlement_amount) || ' left to pay: ' || on_account_amount
            || ' stays on the customer account.' as message
    from lines
    where is_overpaid
),

paid_twice_lines as (
    select
        payment_number,
        'remittance_invoice_paid_twice' as kind,
        'remittance_line' as document_type,
        payment_number || '#' || line_number as document_reference,
        on_account_amount as amount,
        'Amazon payment ' || payment_number || ' line ' || line_number || ' pays Sage invoice '
            || matched_invoice_reference || ' (gross ' || invoice_gross_amount || ') again: earlier payments settled '
            || previous_settlement_amount || ' of it; ' || on_account_amount || ' stays on the customer account.'
            as message
    from lines
    where is_paid_twice
),

unknown_deductions as (
    select
        lines.payment_number,
        'remittance_unknown_deduction' as kind,
        'remittance_line' as document_type,
        lines.payment_number || '#' || lines.line_number as document_reference,
        lines.paid_amount as amount,
        'Amazon payment ' || lines.payment_number || ' line ' || lines.line_number || ' (' || lines.invoice_number
            || ', ''' || coalesce(lines.description, '') || ''', ' || lines.paid_amount
            || ') matches no pattern in seeds/deduction_patterns.csv: it is posted to the suspense nominal '
            || coalesce(settings.suspense_nominal, '(not configured)') || '.' as message
    from lines
    cross join settings
    where lines.line_kind = 'other'
),

short_paid_invoices as (
    select
        lines.payment_number,
        'remittance_invoice_short_paid' as kind,
        'invoice' as document_type,
        lines.matched_invoice_reference as document_reference,
        lines.invoice_remaining_amount as amount,
        'Sage invoice ' || lines.matched_invoice_reference
            || ' (PO ' || coalesce(lines.purchase_order_number, 'unknown') || ', gross ' || lines.invoice_gross_amount
            || ') is short by ' || lines.invoice_remaining_amount
            || ' after every Amazon payment (the last: ' || lines.payment_number || ' line ' || lines.line_number
            || '); the rest stays outstanding on the invoice.' as message
    from lines
    cross join settings
    where lines.is_last_line_on_invoice and lines.invoice_remaining_amount > settings.amount_tolerance
),

refused_payments as (
    select
        payment_number,
        case refusal_reason
            when 'closed_period' then 'remittance_payment_in_closed_period'
            else 'remittance_payment_does_not_add_up'
        end as kind,
        'remittance' as document_type,
        payment_number as document_reference,
        case
            when refusal_reason = 'closed_period' then stated_net_amount
            else cast(stated_net_amount - lines_paid_amount as decimal(18, 2))
        end as amount,
        refusal_message as message
    from payments
    where refusal_reason is not null
),

transfers as (
    select
        journal.payment_number,
        sum(journal.credit - journal.debit) as transfer_value
    from journal
    cross join banks
    where journal.step = 'transfer' and journal.account_code = banks.clearing_bank
    group by journal.payment_number
),

negative_nets as (
    select
        payment_number,
        'remittance_negative_net' as kind,
        'remittance' as document_type,
        payment_number as document_reference,
        transfer_value as amount,
        'Amazon payment ' || payment_number || ' nets to ' || transfer_value
            || ': its deductions exceed what it pays, so the transfer runs back into the clearing bank.' as message
    from transfers
    where transfer_value < 0
),

credit_notes as (
    select
        payment_number,
        sum(credit) as credit_value
    from journal
    where step = 'credit_note' and account_type = 'customer'
    group by payment_number
),

credit_notes_applied as (
    select
        payment_number,
        sum(credit) as applied_value
    from journal
    where step = 'allocation' and applied_document_code <> 'RC'
    group by payment_number
),

unallocated_credit as (
    select
        credit_notes.payment_number,
        'remittance_credit_unallocated' as kind,
        'remittance' as document_type,
        credit_notes.payment_number as document_reference,
        cast(credit_notes.credit_value - coalesce(credit_notes_applied.applied_value, 0) as decimal(18, 2)) as amount,
        'Amazon payment ' || credit_notes.payment_number || ' credits ' || credit_notes.credit_value
            || ' in credit notes but its invoices take only ' || coalesce(credit_notes_applied.applied_value, 0)
            || ' of them: ' || (credit_notes.credit_value - coalesce(credit_notes_applied.applied_value, 0))
            || ' stays on the customer account unallocated.' as message
    from credit_notes
    left join credit_notes_applied on credit_notes.payment_number = credit_notes_applied.payment_number
    where credit_notes.credit_value > coalesce(credit_notes_applied.applied_value, 0)
),

final as (
    select * from unmatched_lines
    union all
    select * from overpaid_lines
    union all
    select * from paid_twice_lines
    union all
    select * from unknown_deductions
    union all
    select * from short_paid_invoices
    union all
    select * from refused_payments
    union all
    select * from negative_nets
    union all
    select * from unallocated_credit
)

select * from final
