-- Every Sage invoice to an Amazon customer account, with its month: what the close's "invoiced" adds up (the
-- Sage ledger's invoices, whether avc2sage sent them to Amazon or someone keyed them in Sage).

with

amazon_accounts as (
    select distinct sage_customer_account from {{ ref('stg_app__vendor_codes') }}
),

final as (
    select
        cast(strftime(cast(transactions.transaction_date as date), '%Y-%m') as varchar) as period,
        cast(transactions.transaction_date as date) as invoice_date,
        cast(transactions.sales_transaction_id as bigint) as sage_transaction_id,
        cast(transactions.sales_transaction_reference as varchar) as invoice_number,
        cast(transactions.second_reference as varchar) as second_reference,
        cast(customers.customer_reference as varchar) as customer_account,
        cast(transactions.signed_goods_value as decimal(18, 2)) as goods_amount,
        cast(transactions.signed_tax_value as decimal(18, 2)) as tax_amount,
        cast(transactions.signed_gross_value as decimal(18, 2)) as gross_amount,
        cast(transactions.signed_outstanding_value as decimal(18, 2)) as outstanding_amount
    from {{ ref('stg_sage200__sales_transactions') }} as transactions
    inner join {{ ref('stg_sage200__customers') }} as customers using (customer_id)
    inner join amazon_accounts on customers.customer_reference = amazon_accounts.sage_customer_account
    where transactions.trader_transaction_type = 'TradingAccountEntryTypeInvoice'
)

select * from final
