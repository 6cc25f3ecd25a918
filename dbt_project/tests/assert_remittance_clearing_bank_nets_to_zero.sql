-- Every payment's journal leaves the Amazon clearing bank (banks.clearing) exactly where it found it: what
-- the receipt and bank receipt bring in, the bank payment and the transfer take out.
select
    journal.payment_number,
    sum(journal.debit - journal.credit) as clearing_bank_net
from {{ ref('remittance_postings') }} as journal
inner join {{ ref('int_remittance_banks_resolved') }} as banks on journal.account_code = banks.clearing_bank
where journal.account_type = 'bank'
group by journal.payment_number
having sum(journal.debit - journal.credit) <> 0
