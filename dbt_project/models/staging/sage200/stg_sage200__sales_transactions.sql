with

source as (
    select * from {{ source('raw_sage200', 'sales_posted_transactions') }}
),

renamed as (
    select
        ---------- ids
        id as sales_transaction_id,
        customer_id,
        urn as sales_transaction_urn,

        ---------- strings
        trader_transaction_type,
        -- One short word per kind: Sage names a sales receipt PurchasePaymentSalesReceipt and a refund to
        -- the customer PurchaseReceiptSalesPayment (the same enum serves the purchase ledger).
        case trader_transaction_type
            when 'TradingAccountEntryTypeInvoice' then 'invoice'
            when 'TradingAccountEntryTypeCreditNote' then 'credit_note'
            when 'TradingAccountEntryTypePurchasePaymentSalesReceipt' then 'receipt'
            when 'TradingAccountEntryTypePurchaseReceiptSalesPayment' then 'refund'
            when 'TradingAccountEntryTypeOpeningBalanceInvoice' then 'opening_invoice'
            when 'TradingAccountEntryTypeOpeningBalanceCreditNote' then 'opening_credit_note'
            when 'TradingAccountEntryTypeDeletedRecord' then 'deleted'
        end as transaction_type,
        reference as sales_transaction_reference,
        second_reference,
        queried as query_flag,
        user_name as posted_by,

        ---------- numerics
        -- Signed as Sage keeps them, by their effect on what the customer owes: invoices +, credit notes
        -- and receipts −. Document values are in the customer's currency, base values in sterling.
        cast(document_goods_value as decimal(18, 2)) as signed_goods_value,
        cast(document_tax_value as decimal(18, 2)) as signed_tax_value,
        cast(document_gross_value as decimal(18, 2)) as signed_gross_value,
        cast(document_discount_value as decimal(18, 2)) as signed_discount_value,
        cast(document_tax_discount_value as decimal(18, 2)) as signed_tax_discount_value,
        cast(document_allocated_value as decimal(18, 2)) as signed_allocated_value,
        cast(document_outstanding_value as decimal(18, 2)) as signed_outstanding_value,
        cast(base_goods_value as decimal(18, 2)) as signed_base_goods_value,
        cast(base_tax_value as decimal(18, 2)) as signed_base_tax_value,
        cast(base_gross_value as decimal(18, 2)) as signed_base_gross_value,
        cast(base_allocated_value as decimal(18, 2)) as signed_base_allocated_value,
        cast(discount_percent as decimal(18, 2)) as discount_percent,
        discount_days,
        exchange_rate,

        ---------- booleans
        settled_immediately as is_settled_immediately,

        ---------- dates
        -- Sage's calendar dates arrive as midnight UTC; kept as timestamptz so nothing is shifted here.
        cast(transaction_date as timestamptz) as transaction_date,
        cast(due_date as timestamptz) as due_date,
        cast(full_settlement_date as timestamptz) as fully_settled_date,

        ---------- timestamps
        cast(posted_date as timestamptz) as posted_at,
        cast(date_time_created as timestamptz) as created_at,
        cast(date_time_updated as timestamptz) as updated_at
    from source
)

select * from renamed
