-- Every transaction on the Amazon clearing bank as Sage holds it, with the kind of movement it is in the
-- month-end roll-forward. Sage is the ledger: the roll-forward is built from what it holds, not from our plans.

with

clearing as (
    select clearing_bank from {{ ref('int_remittance_banks_resolved') }}
),

banks as (
    select * from {{ ref('stg_sage200__banks') }}
),

transactions as (
    select * from {{ ref('stg_sage200__bank_transactions') }}
),

final as (
    select
        transactions.bank_transaction_id,
        transactions.bank_transaction_reference,
        transactions.second_reference,
        cast(transactions.transaction_date as date) as transaction_date,
        transactions.bank_transaction_type,
        -- Sage's own entry types: what a clearing bank that only remittances post through can hold.
        case transactions.bank_transaction_type
            when 'EntryTypeSalesReceipt' then 'amazon_receipts'
            when 'EntryTypeNominalPayment' then 'deductions_paid'
            when 'EntryTypeNominalReceipt' then 'recoveries_received'
            when 'EntryTypeTransferPayment' then 'transfers'
            when 'EntryTypeTransferReceipt' then 'transfers'
            else 'other'
        end as movement_kind,
        transactions.signed_value as amount
    from transactions
    inner join banks on transactions.bank_id = banks.bank_id
    inner join clearing on banks.bank_code = clearing.clearing_bank
)

select * from final
