-- The SHA-256 of each payment's plan as remittance_postings shows it (the frozen plan once posting started),
-- with the receipt and the transfer it makes: what a person approves and what a refusal was recorded for.
--
-- plan_sha256 is the hex SHA-256 of the plan's rows, each rendered as text and joined with a line feed (no
-- trailing one), in the order step_sequence, document_code, account_type, account_code, line_number,
-- sage_transaction_id, applied_document_code, tax_code, cost_centre, department (nulls as -1 for the numbers
-- and '' for the text, in that order); text sorts by its bytes. A row is its columns step_sequence | step |
-- document_code | line_number | account_type | account_code | cost_centre | department | tax_code |
-- sage_transaction_id | applied_document_code | debit | credit | narrative joined by '|', a null as the empty
-- string, integers in decimal, money with exactly two decimals ('1200.00', no thousands separator).

with

journal as (
    select * from {{ ref('remittance_postings') }}
),

banks as (
    select * from {{ ref('int_remittance_banks_resolved') }}
),

journal_rows as (
    select
        journal.*,
        concat_ws('|',
            cast(journal.step_sequence as varchar),
            coalesce(journal.step, ''),
            coalesce(journal.document_code, ''),
            coalesce(cast(journal.line_number as varchar), ''),
            coalesce(journal.account_type, ''),
            coalesce(journal.account_code, ''),
            coalesce(journal.cost_centre, ''),
            coalesce(journal.department, ''),
            coalesce(cast(journal.tax_code as varchar), ''),
            coalesce(cast(journal.sage_transaction_id as varchar), ''),
            coalesce(journal.applied_document_code, ''),
            cast(journal.debit as varchar),
            cast(journal.credit as varchar),
            coalesce(journal.narrative, '')
        ) as row_text
    from journal
),

final as (
    select
        journal_rows.payment_number,
        sha256(string_agg(journal_rows.row_text, chr(10) order by
            journal_rows.step_sequence,
            journal_rows.document_code,
            journal_rows.account_type,
            journal_rows.account_code,
            coalesce(journal_rows.line_number, -1),
            coalesce(journal_rows.sage_transaction_id, -1),
            coalesce(journal_rows.applied_document_code, ''),
            coalesce(journal_rows.tax_code, -1),
            coalesce(journal_rows.cost_centre, ''),
            coalesce(journal_rows.department, '')
        )) as plan_sha256,
        sum(journal_rows.debit) filter (where journal_rows.step = 'receipt' and journal_rows.account_type = 'bank')
            as receipt_value,
        sum(journal_rows.credit - journal_rows.debit) filter (
            where journal_rows.step = 'transfer' and journal_rows.account_code = banks.clearing_bank
        ) as transfer_value
    from journal_rows
    cross join banks
    group by journal_rows.payment_number
)

select * from final
